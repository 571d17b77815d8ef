"""The audit entry model: what one record of the log holds, and what it may never hold.

Owns :class:`AuditEvent` (what a caller wants recorded, validated on construction),
:class:`EventRules` (the caller's allowlists), :class:`AuditEntry` (a sealed, chained
record, as stored), :class:`ChainHead` and the canonical JSON encoding.

An entry records *who* (principal, role), *did what* (action, outcome), *to what*
(resource, body), *why* (purpose) and *under which rules* (policy_sha256), with a digest
of the result. It must never hold a personal value, a pseudonym, a record value or an
unsuppressed count: the validators here refuse free-form structure (nested values,
floats, control characters, unknown ``detail`` keys), and the ``detail`` allowlist is
the caller's reviewed list of safe keys. This module never reads the clock, the
environment or a database; the caller passes the time in.

Outcomes form a small closed set:

``allow``  an authorisation decision granted the action, and the action was done
``deny``   an authorisation decision refused the action; nothing else happened
``ok``     a system action with no authorisation decision completed (e.g. a checkpoint)
``error``  a permitted action failed; recorded in its own transaction after rollback
"""

from __future__ import annotations

import contextlib
import json
import re
import unicodedata
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Final, Literal, TypeAlias

from audit.errors import AuditEventError

HASH_SIZE: Final = 32
ZERO_HASH: Final = bytes(HASH_SIZE)

Outcome: TypeAlias = Literal["allow", "deny", "ok", "error"]
OUTCOMES: Final[frozenset[str]] = frozenset({"allow", "deny", "ok", "error"})

#: A ``detail`` value: a JSON scalar with one canonical spelling. Floats are refused
#: because their text form is not canonical across languages (1.0, 1e0, -0.0).
DetailValue: TypeAlias = str | int | bool | None

MAX_DETAIL_KEYS: Final = 32
MAX_TEXT: Final = 256
MAX_PURPOSE: Final = 500
#: Signed 64-bit range, so every ``detail`` integer fits a database BIGINT and a JSON
#: reader that uses doubles gets it exactly only up to 2**53: keep counts small anyway.
_INT_LIMIT: Final = 2**63

#: Column order of the ``audit_entry`` table and of :meth:`AuditEntry.to_row`.
ENTRY_FIELDS: Final = (
    "seq",
    "time",
    "principal",
    "role",
    "action",
    "resource",
    "body",
    "purpose",
    "outcome",
    "policy_sha256",
    "result_digest",
    "detail",
    "prev_hash",
    "entry_hash",
)

_TIME_RE: Final = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z\Z")
_PRINCIPAL_RE: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,127}\Z")
_NAME_RE: Final = re.compile(r"[a-z][a-z0-9_.]{0,63}\Z")
_KEY_RE: Final = re.compile(r"[a-z][a-z0-9_]{0,63}\Z")
_RESOURCE_RE: Final = re.compile(r"[!-~]{1,256}\Z")  # printable ASCII, no spaces
_BODY_RE: Final = re.compile(r"[A-Z0-9]{2,10}\Z")
_SHA256_RE: Final = re.compile(r"[0-9a-f]{64}\Z")

_CANONICAL: Final = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)


def canonical_json(value: object) -> bytes:
    """Encode ``value`` as canonical JSON: sorted keys, no spaces, UTF-8, no NaN."""
    return _CANONICAL.encode(value).encode("utf-8")


def format_time(moment: datetime) -> str:
    """Render an aware datetime as the entry time: UTC, microseconds, ``Z`` suffix."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise AuditEventError("time", "must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> datetime:
    """Parse an entry time written by :func:`format_time` back to an aware datetime."""
    if not _TIME_RE.match(text):
        raise AuditEventError("time", "must be UTC ISO-8601 with microseconds and Z")
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise AuditEventError("time", "is not a valid date and time") from None


def has_control(text: str) -> bool:
    """Whether ``text`` holds a control or format character (none may be logged)."""
    return any(unicodedata.category(ch) in {"Cc", "Cf", "Zl", "Zp"} for ch in text)


def _check_pattern(name: str, value: object, pattern: re.Pattern[str]) -> None:
    if not isinstance(value, str) or not pattern.match(value):
        raise AuditEventError(name, "has an invalid type or form")


def _check_optional(name: str, value: object, pattern: re.Pattern[str]) -> None:
    if value is not None:
        _check_pattern(name, value, pattern)


def _check_detail_value(key: str, value: object) -> None:
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, int):
        if not -_INT_LIMIT <= value < _INT_LIMIT:
            raise AuditEventError(f"detail.{key}", "integer out of 64-bit range")
        return
    if isinstance(value, str):
        if len(value) > MAX_TEXT or has_control(value):
            raise AuditEventError(f"detail.{key}", "text too long or has controls")
        return
    raise AuditEventError(f"detail.{key}", "must be a string, integer, bool or null")


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """What a caller asks to record; checked on construction, before any sealing."""

    time: str
    principal: str
    role: str
    action: str
    resource: str
    outcome: Outcome
    body: str | None = None
    purpose: str | None = None
    policy_sha256: str | None = None
    result_digest: str | None = None
    detail: Mapping[str, DetailValue] = field(
        default_factory=lambda: MappingProxyType({}), hash=False
    )
    detail_json: str = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        if not isinstance(self.time, str):
            raise AuditEventError("time", "must be a string made by format_time")
        parse_time(self.time)
        _check_pattern("principal", self.principal, _PRINCIPAL_RE)
        _check_pattern("role", self.role, _NAME_RE)
        _check_pattern("action", self.action, _NAME_RE)
        _check_pattern("resource", self.resource, _RESOURCE_RE)
        if self.outcome not in OUTCOMES:
            raise AuditEventError("outcome", f"must be one of {sorted(OUTCOMES)}")
        _check_optional("body", self.body, _BODY_RE)
        _check_optional("policy_sha256", self.policy_sha256, _SHA256_RE)
        _check_optional("result_digest", self.result_digest, _SHA256_RE)
        if self.purpose is not None and (
            not isinstance(self.purpose, str)
            or not 0 < len(self.purpose) <= MAX_PURPOSE
            or self.purpose != self.purpose.strip()
            or has_control(self.purpose)
        ):
            raise AuditEventError(
                "purpose", "must be 1-500 characters without controls"
            )
        if not isinstance(self.detail, Mapping) or len(self.detail) > MAX_DETAIL_KEYS:
            raise AuditEventError(
                "detail", f"must be a mapping of at most {MAX_DETAIL_KEYS} keys"
            )
        frozen: dict[str, DetailValue] = {}
        for key, value in self.detail.items():
            if not isinstance(key, str) or not _KEY_RE.match(key):
                raise AuditEventError("detail", "keys must be lower snake_case names")
            _check_detail_value(key, value)
            frozen[key] = value
        # Copy, then freeze: a caller mutating its dict later cannot change the event.
        object.__setattr__(self, "detail", MappingProxyType(frozen))
        object.__setattr__(self, "detail_json", _CANONICAL.encode(frozen))


@dataclass(frozen=True, slots=True)
class EventRules:
    """The caller's allowlists, checked by ``seal``; empty ``detail_keys`` allows none.

    ``actions`` and ``roles`` are optional extra allowlists (``None`` accepts any name
    of the right form); ``detail_keys`` is mandatory in spirit: it is the IG-reviewed
    list of keys that can never carry a personal value or an unsuppressed count.
    """

    detail_keys: frozenset[str] = frozenset()
    actions: frozenset[str] | None = None
    roles: frozenset[str] | None = None

    @classmethod
    def of(
        cls,
        detail_keys: Collection[str] = (),
        actions: Collection[str] | None = None,
        roles: Collection[str] | None = None,
    ) -> EventRules:
        """Build rules from any collections."""
        return cls(
            frozenset(detail_keys),
            None if actions is None else frozenset(actions),
            None if roles is None else frozenset(roles),
        )

    def check(self, event: AuditEvent) -> None:
        """Refuse an event whose action, role or ``detail`` keys are not allowed.

        Raises:
            AuditEventError: names the field (and the unknown key), never a value.
        """
        if self.actions is not None and event.action not in self.actions:
            raise AuditEventError("action", "is not on the allowlist")
        if self.roles is not None and event.role not in self.roles:
            raise AuditEventError("role", "is not on the allowlist")
        for key in event.detail:
            if key not in self.detail_keys:
                # A key name is chosen by the programmer, not a user: safe to name.
                raise AuditEventError(f"detail.{key}", "key is not on the allowlist")


@dataclass(frozen=True, slots=True)
class ChainHead:
    """The chain's size (last sequence number) and the hash of its last entry."""

    size: int
    head_hash: bytes

    def __post_init__(self) -> None:
        if type(self.size) is not int or self.size < 0:
            raise ValueError("chain size must be a non-negative integer")
        if type(self.head_hash) is not bytes or len(self.head_hash) != HASH_SIZE:
            raise ValueError("chain head hash must be 32 bytes")
        if self.size == 0 and self.head_hash != ZERO_HASH:
            raise ValueError("an empty chain's head hash must be 32 zero bytes")

    @classmethod
    def genesis(cls) -> ChainHead:
        """The head of an empty chain: size 0, 32 zero bytes."""
        return cls(0, ZERO_HASH)


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One sealed record, exactly as stored; ``detail`` is canonical JSON object text.

    Entries come from ``seal`` (valid by construction) or from a store (untrusted:
    construction does not validate, so that ``verify`` can report a tampered row
    instead of failing to load it).
    """

    seq: int
    time: str
    principal: str
    role: str
    action: str
    resource: str
    body: str | None
    purpose: str | None
    outcome: str
    policy_sha256: str | None
    result_digest: str | None
    detail: str
    prev_hash: bytes
    entry_hash: bytes

    @property
    def head(self) -> ChainHead:
        """The chain head once this entry is the last one."""
        return ChainHead(self.seq, self.entry_hash)

    def detail_mapping(self) -> dict[str, DetailValue]:
        """Parse ``detail`` back into a dict (for display and reports)."""
        value = json.loads(self.detail)
        if not isinstance(value, dict):
            raise AuditEventError("detail", "is not a JSON object")
        return value

    def hashed_fields(self) -> dict[str, object]:
        """Every field but ``entry_hash``, as the canonical JSON object that is hashed.

        Byte strings appear as lowercase hex; ``detail`` appears as its JSON text, a
        string. This is the slow, obviously correct form; ``chain`` uses a faster
        encoder that tests prove byte-identical.
        """
        row = self.to_row()
        del row["entry_hash"]
        row["prev_hash"] = self.prev_hash.hex()
        return row

    def to_row(self) -> dict[str, object]:
        """Map to ``audit_entry`` columns (field names; bytes stay bytes)."""
        return {name: getattr(self, name) for name in ENTRY_FIELDS}

    @classmethod
    def from_row(cls, row: Mapping[str, object]) -> AuditEntry:
        """Build an entry from a stored row without validating it (``verify`` does).

        Drivers that hand back ``memoryview`` or ``bytearray`` for binary columns get
        them copied to ``bytes``; every other value is passed through untouched.
        """
        values = [row[name] for name in ENTRY_FIELDS]
        for index in (-2, -1):
            value = values[index]
            if isinstance(value, memoryview | bytearray):
                values[index] = bytes(value)
        # The row is untrusted: verify() type-checks every field of every entry.
        return cls(*values)  # type: ignore[arg-type]

    def to_export(self) -> dict[str, object]:
        """The entry as a JSON object for export: every field, hashes as lowercase hex.

        One such object per line (``canonical_json``) is the offline form of the log
        that docs/audit-log.md shows an IG officer how to verify independently.
        """
        row = self.to_row()
        row["prev_hash"] = self.prev_hash.hex()
        row["entry_hash"] = self.entry_hash.hex()
        return row

    @classmethod
    def from_export(cls, record: Mapping[str, object]) -> AuditEntry:
        """Rebuild an entry from an exported object, without validating it.

        A missing field becomes ``None`` and a hash that is not hex stays as it is, so
        that ``verify`` reports the entry as malformed instead of this raising.
        """
        values: list[object] = [record.get(name) for name in ENTRY_FIELDS]
        for index in (-2, -1):
            value = values[index]
            # Text that is not hex stays text: verify() reports the entry as malformed.
            if isinstance(value, str):
                with contextlib.suppress(ValueError):
                    values[index] = bytes.fromhex(value)
        return cls(*values)  # type: ignore[arg-type]
