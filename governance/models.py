"""Boundary types that move between the stages and the store.

Records here are *pseudonymised*: a ``StaffRecord`` has no field that could hold a
name, NI number, employee number or date of birth. The field order of each record
type is the column order the store writes (``RECORD_FIELDS``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal, NamedTuple

from governance.extract_format import Kind

ExtractStatus = Literal["active", "superseded"]


class StaffRecord(NamedTuple):
    source_row: int  # 1-based data row in the source file (not personal data)
    person: str  # pseudonym of the employee number
    assignment: str  # pseudonym of the assignment number
    ni: str | None  # pseudonym of the NI number, when given
    sex: str
    ethnic_code: str
    ethnic_broad: str
    wres_group: str
    age_band: str
    staff_group: str  # two-digit NWD code
    clinical: bool | None
    job_role: str | None
    occupation_code: str | None
    pay_band: str  # "1".."9", "8a".."8d", "VSM", or a medical grade
    medical_subgroup: str | None
    fte: float
    contract_type: str
    start_year: int


class RecruitmentRecord(NamedTuple):
    source_row: int  # 1-based data row in the source file (not personal data)
    applicant: str  # pseudonym of the applicant id
    ethnic_code: str
    ethnic_broad: str
    wres_group: str
    post_band: str
    shortlisted: bool
    appointed: bool


class ErCaseRecord(NamedTuple):
    source_row: int  # 1-based data row in the source file (not personal data)
    person: str
    case_type: str  # "disciplinary" | "capability"
    stage: str
    start_month: str  # YYYY-MM


class TrainingRecord(NamedTuple):
    source_row: int  # 1-based data row in the source file (not personal data)
    person: str
    course: str
    month: str  # YYYY-MM


class BoardRecord(NamedTuple):
    source_row: int  # 1-based data row in the source file (not personal data)
    voting: bool
    executive: bool
    ethnic_code: str
    ethnic_broad: str
    wres_group: str


Record = StaffRecord | RecruitmentRecord | ErCaseRecord | TrainingRecord | BoardRecord

RECORD_TYPES: dict[Kind, type[tuple[object, ...]]] = {
    "staff": StaffRecord,
    "recruitment": RecruitmentRecord,
    "er-cases": ErCaseRecord,
    "training": TrainingRecord,
    "board": BoardRecord,
}

RECORD_FIELDS: dict[Kind, tuple[str, ...]] = {
    kind: tuple(record_type._fields)  # type: ignore[attr-defined]  # NamedTuple classes
    for kind, record_type in RECORD_TYPES.items()
}


#: The largest id of a stored row (requests, extracts): a 32-bit SQL INTEGER.
MAX_ROW_ID: Final = 2**31 - 1


@dataclass(frozen=True)
class QuarantineEntry:
    """One problem in one row: where, and what, never the value."""

    row: int  # 1-based data row (the header is row 0)
    field: str
    problem: str


@dataclass(frozen=True)
class ExtractInfo:
    id: int
    org: str
    period: int
    kind: Kind
    sha256: str
    status: ExtractStatus
    rows_read: int
    rows_accepted: int
    rows_quarantined: int
    ingested_at: datetime
    superseded_by: int | None


@dataclass(frozen=True)
class NewExtract:
    org: str
    period: int
    kind: Kind
    sha256: str
    ingested_at: datetime


@dataclass(frozen=True)
class Actor:
    """Who is acting: a principal in one of its roles (and that grant's body scope)."""

    principal: str
    role: str
    body: str | None = None


SYSTEM = Actor("wresgov", "system")
"""The service itself, for actions no principal performs (schema upgrades)."""


@dataclass(frozen=True)
class AuditQuery:
    """Filters for reading the audit log; None means any."""

    principal: str | None = None
    role: str | None = None
    action: str | None = None
    body: str | None = None
    outcome: str | None = None
    resource: str | None = None
    resource_prefix: str | None = None
    since: str | None = None  # ISO-8601 UTC, inclusive
    until: str | None = None  # exclusive
    limit: int | None = None

    @classmethod
    def of(
        cls,
        *,
        body: str | None = None,
        request: int | str | None = None,
        **filters: str | int | None,
    ) -> AuditQuery:
        """A query as the CLI and the API take it: a body code in any case, and a
        request id for the entries about that request (request 1, not 10)."""
        return cls(
            body=body.upper() if body else None,
            resource=f"request:{request}" if request else None,
            **filters,  # type: ignore[arg-type]
        )


@dataclass(frozen=True)
class RequestRecord:
    """A request for cleared tables, as stored (no counts, only specs and evidence)."""

    id: int
    requester: str
    purpose: str
    body: str | None
    period: int
    pack: str | None
    tables: str
    """JSON list of the table specifications."""
    policy_id: str
    state: str
    approvals: tuple[tuple[str, datetime], ...]
    evidence: str | None
    evidence_json: str | None
    cleared_digest: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class RequestSummary:
    """What deciding access to a request's release needs: the request without its
    table specifications and evidence (which can be large)."""

    id: int
    requester: str
    purpose: str
    body: str | None
    period: int
    state: str
    approvals: tuple[str, ...]
    evidence: str | None


@dataclass(frozen=True)
class ReleaseRecord:
    id: str
    request_id: int
    directory: str
    manifest_sha256: str
    created_at: datetime
    revoked_at: datetime | None
