"""Shared inputs for the release tests: a small cleared set, release fields, keys."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from audit.events import ChainHead
from audit.keys import SigningKey
from governance.release import Approval, ReleaseInfo
from governance.sdc import clear
from governance.sdc.clear import (
    ClearedCell,
    ClearedSet,
    ClearedTable,
    Evidence,
)
from governance.sdc.policy import Policy, load_policy
from governance.sdc.table import Dimension

POLICY: Policy = load_policy("wres-wales")
MOMENT = datetime(2025, 6, 30, 11, 30, 15, tzinfo=UTC)
HEAD = ChainHead(42, bytes(range(32)))

DEPTS = ("Sales", "Ops")
GRADES = ("G1", "G2", "G3")
COUNTS = {
    ("Sales", "G1"): 25,
    ("Sales", "G2"): 7,
    ("Sales", "G3"): 30,
    ("Ops", "G1"): 12,
    ("Ops", "G2"): 15,
    ("Ops", "G3"): 18,
}


def cleared_set(
    depts: Sequence[str] = DEPTS, grades: Sequence[str] = GRADES
) -> ClearedSet:
    """A cleared dept x grade table (codes renamed by position) and a dept table."""
    dept = Dimension("dept", "Total", {"Total": list(depts)})
    grade = Dimension("grade", "Total", {"Total": list(grades)})
    rename_d = dict(zip(DEPTS, depts, strict=True))
    rename_g = dict(zip(GRADES, grades, strict=True))
    counts = {(rename_d[d], rename_g[g]): v for (d, g), v in COUNTS.items()}
    hidden = {(rename_d[d], rename_g[g]) for d in DEPTS for g in ("G2", "G3")}
    small = (rename_d["Sales"], rename_g["G2"])
    cells = []
    for d in dept.codes:
        for g in grade.codes:
            total = sum(
                v
                for (dd, gg), v in counts.items()
                if d in (dd, "Total") and g in (gg, "Total")
            )
            if (d, g) == small:
                cells.append(ClearedCell((d, g), "<10", "primary", ("[c]",)))
            elif (d, g) in hidden:
                cells.append(ClearedCell((d, g), "[c]", "secondary", ("[c]",)))
            else:
                share = "" if g == "Total" else "50.0"
                cells.append(ClearedCell((d, g), str(total), "published", (share,)))
    table = ClearedTable(
        name="staff_by_grade",
        dimensions=(dept, grade),
        measure="count",
        cells=tuple(cells),
        extra_columns=("percent_grade",),
        token=clear._TOKEN,
    )
    evidence = Evidence(
        POLICY.id,
        POLICY.version,
        POLICY.sha256,
        "auto",
        "optimal",
        "count",
        12,
        1,
        3,
        (),
        (),
        4,
        0.01,
        0.02,
    )
    return ClearedSet(
        tables=(table,), derived=(), evidence=evidence, token=clear._TOKEN
    )


def release_info(**changes: object) -> ReleaseInfo:
    """Release fields for tests; keyword arguments replace any field."""
    fields: dict[str, object] = {
        "release_id": "rel-2025-001",
        "request_id": "req-17",
        "purpose": "Annual WRES report to the board",
        "requester": "analyst-ann",
        "approvals": (
            Approval("ig-bryn", datetime(2025, 6, 29, 9, 0, tzinfo=UTC)),
            Approval("ig-carys", datetime(2025, 6, 29, 10, 0, tzinfo=UTC)),
        ),
        "audit_head": HEAD,
        "created": MOMENT,
        "title": "All Wales",
        "policy_files": {"release.yaml": "ab" * 32},
    }
    fields.update(changes)
    return ReleaseInfo(**fields)  # type: ignore[arg-type]


def signing_key() -> SigningKey:
    return SigningKey.generate("wresgov-release")
