"""The IG officer's audit report: activity per principal and action, and flags.

Pure: audit entries in, a report out. Flags point an IG officer at patterns worth a
look; they are prompts for review, not verdicts (docs/ig-officer-guide.md):

``repeated_denials``
    a principal was denied ``threshold`` times or more in the period;
``outside_grant``
    a principal tried to act outside a grant's body or time (denied with
    ``out_of_scope``, ``expired``, ``not_yet_valid`` or ``revoked``);
``narrow_requests``
    a principal made ``threshold`` or more requests over one population (same body
    and period) within the period: a pattern that can be used for differencing;
``authentication_failures``
    tokens that failed to authenticate (missing, malformed or unknown).
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final, Literal

from audit import AuditEntry, canonical_json

FlagKind = Literal[
    "repeated_denials", "outside_grant", "narrow_requests", "authentication_failures"
]
OUTSIDE_GRANT_REASONS: Final = frozenset(
    {"out_of_scope", "expired", "not_yet_valid", "revoked"}
)
DENIAL_THRESHOLD: Final = 3
NARROW_REQUEST_THRESHOLD: Final = 3


@dataclass(frozen=True)
class Flag:
    kind: FlagKind
    principal: str
    count: int
    detail: str
    first_seq: int

    def describe(self) -> str:
        return f"{self.kind}: {self.principal} ({self.count}) {self.detail}"


@dataclass(frozen=True)
class ActivityRow:
    principal: str
    action: str
    allowed: int
    denied: int
    errors: int


@dataclass(frozen=True)
class AuditReport:
    entries: int
    first_time: str | None
    last_time: str | None
    activity: tuple[ActivityRow, ...]
    flags: tuple[Flag, ...] = field(default=())

    @property
    def denials(self) -> int:
        return sum(row.denied for row in self.activity)


def _detail(entry: AuditEntry) -> dict[str, object]:
    try:
        value = json.loads(entry.detail)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def build_report(
    entries: Iterable[AuditEntry],
    *,
    denial_threshold: int = DENIAL_THRESHOLD,
    narrow_threshold: int = NARROW_REQUEST_THRESHOLD,
) -> AuditReport:
    """Summarise ``entries`` (any order) and raise the flags described above."""
    counts: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    denials: dict[str, list[AuditEntry]] = defaultdict(list)
    outside: dict[str, list[AuditEntry]] = defaultdict(list)
    requests: dict[tuple[str, str, str], list[AuditEntry]] = defaultdict(list)
    auth_failures: list[AuditEntry] = []
    total = 0
    first_time: str | None = None
    last_time: str | None = None
    for entry in entries:
        total += 1
        first_time = entry.time if first_time is None else min(first_time, entry.time)
        last_time = entry.time if last_time is None else max(last_time, entry.time)
        counts[(entry.principal, entry.action)][entry.outcome] += 1
        if entry.outcome != "deny":
            if entry.action == "request.create":
                period = str(_detail(entry).get("period", "-"))
                requests[(entry.principal, entry.body or "Wales", period)].append(entry)
            continue
        if entry.action == "authenticate":
            auth_failures.append(entry)
            continue
        denials[entry.principal].append(entry)
        if _detail(entry).get("reason") in OUTSIDE_GRANT_REASONS:
            outside[entry.principal].append(entry)

    flags: list[Flag] = []
    for principal, found in sorted(denials.items()):
        if len(found) >= denial_threshold:
            flags.append(
                Flag(
                    "repeated_denials",
                    principal,
                    len(found),
                    "denials; actions: "
                    + ", ".join(sorted({entry.action for entry in found})),
                    min(entry.seq for entry in found),
                )
            )
    for principal, found in sorted(outside.items()):
        reasons = sorted({str(_detail(entry).get("reason")) for entry in found})
        flags.append(
            Flag(
                "outside_grant",
                principal,
                len(found),
                "attempts outside a grant: " + ", ".join(reasons),
                min(entry.seq for entry in found),
            )
        )
    for (principal, body, period), found in sorted(requests.items()):
        if len(found) >= narrow_threshold:
            flags.append(
                Flag(
                    "narrow_requests",
                    principal,
                    len(found),
                    f"requests over one population ({body}, period {period})",
                    min(entry.seq for entry in found),
                )
            )
    if auth_failures:
        flags.append(
            Flag(
                "authentication_failures",
                "anonymous",
                len(auth_failures),
                "tokens refused: "
                + ", ".join(
                    sorted({str(_detail(e).get("reason")) for e in auth_failures})
                ),
                min(entry.seq for entry in auth_failures),
            )
        )
    activity = tuple(
        ActivityRow(
            principal,
            action,
            outcome["allow"] + outcome["ok"],
            outcome["deny"],
            outcome["error"],
        )
        for (principal, action), outcome in sorted(counts.items())
    )
    return AuditReport(total, first_time, last_time, activity, tuple(flags))


#: Columns of the audit log's CSV export, in order.
CSV_COLUMNS: Final = (
    "seq", "time", "principal", "role", "action", "resource", "body", "purpose",
    "outcome", "detail", "policy_sha256", "result_digest", "entry_hash",
)  # fmt: skip


def entries_csv(entries: Iterable[AuditEntry]) -> str:
    """The entries as CSV (``CSV_COLUMNS``; empty for a missing value, hashes hex)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for entry in entries:
        row = entry.to_export()
        writer.writerow(
            ["" if row[name] is None else row[name] for name in CSV_COLUMNS]
        )
    return out.getvalue()


def entries_jsonl(entries: Iterable[AuditEntry]) -> str:
    """The entries as JSON lines: one canonical object per entry, the offline form
    of the log that docs/audit-log.md shows how to verify."""
    return "".join(canonical_json(e.to_export()).decode() + "\n" for e in entries)
