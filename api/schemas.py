"""The HTTP API's request and response bodies.

Table specifications are the core's own pydantic model (``TableSpec``), so the API
accepts exactly what the CLI's ``--tables`` file accepts. Responses carry no hidden
value, personal value or pseudonym: they are built from the service's result types,
which carry none.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from governance.service import RequestInfo
from governance.service_outputs import ArtefactInfo, PolicyView, ReleaseView
from governance.tablespec import TableSpec


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class Problem(_Out):
    """An RFC 9457 problem detail (``application/problem+json``)."""

    type: str = Field(description="A URI naming the kind of problem.")
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    reason: str | None = Field(
        default=None, description="Machine-readable reason of a denial."
    )
    errors: list[dict[str, str]] | None = Field(
        default=None, description="Invalid fields of the request (never their values)."
    )


class Health(_Out):
    status: Literal["ok"]
    version: str
    database: str = Field(description="sqlite or postgresql")
    schema_version: int


class Catalogue(_Out):
    version: int
    tables: list[TableSpec]
    packs: dict[str, list[str]] = Field(
        description="Named packs: each name's table names, in the catalogue's order."
    )
    indicators: list[dict[str, Any]]


class Policy(_Out):
    id: str
    kind: str = Field(description="disclosure, access, release, ingest or other")
    sha256: str
    text: str | None = None

    @classmethod
    def of(cls, view: PolicyView) -> Policy:
        return cls(id=view.id, kind=view.kind, sha256=view.sha256, text=view.text)


class RequestCreate(BaseModel):
    """A new request: tables (or a named pack), a stated purpose and a period."""

    model_config = ConfigDict(extra="forbid")

    purpose: str = Field(min_length=10, max_length=500)
    period: int = Field(ge=2000, le=2100, description="Year of the 31 March census.")
    tables: list[TableSpec] | None = Field(default=None, min_length=1, max_length=50)
    pack: str | None = Field(default=None, max_length=64)
    body: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9]{2,8}$",
        description="Body code; leave out for all Wales.",
    )
    policy: str = Field(default="wres-wales", pattern=r"^[a-z0-9][a-z0-9_-]*$")
    submit: bool = Field(
        default=False, description="Submit at once (the checks run before the reply)."
    )


class Approval(_Out):
    principal: str
    at: datetime
    lapsed: bool = Field(
        default=False,
        description="The officer may no longer review the request (grant revoked or"
        " expired, or deactivated): the approval does not count towards release.",
    )


class ReleaseSummary(_Out):
    id: str
    request_id: int
    created_at: datetime
    revoked_at: datetime | None
    manifest_sha256: str


class Request(_Out):
    id: int
    state: str
    requester: str
    purpose: str
    body: str | None
    period: int
    pack: str | None
    policy: str
    tables: list[TableSpec]
    approvals: list[Approval]
    evidence: str | None = Field(description="pass, needs_review or fail, once checked")
    evidence_detail: dict[str, Any] | None = Field(
        default=None, description="The engine's evidence (only on a single request)."
    )
    created_at: datetime
    updated_at: datetime
    releases: list[ReleaseSummary]

    @classmethod
    def of(cls, info: RequestInfo, *, evidence: bool = False) -> Request:
        record = info.record
        return cls(
            id=record.id,
            state=record.state,
            requester=record.requester,
            purpose=record.purpose,
            body=record.body,
            period=record.period,
            pack=record.pack,
            policy=record.policy_id,
            tables=list(info.specs),
            approvals=[
                Approval(principal=p, at=at, lapsed=p in info.lapsed)
                for p, at in record.approvals
            ],
            evidence=record.evidence,
            evidence_detail=info.evidence() if evidence else None,
            created_at=record.created_at,
            updated_at=record.updated_at,
            releases=[
                ReleaseSummary(
                    id=r.id,
                    request_id=r.request_id,
                    created_at=r.created_at,
                    revoked_at=r.revoked_at,
                    manifest_sha256=r.manifest_sha256,
                )
                for r in info.releases
            ],
        )


class File(_Out):
    path: str
    sha256: str
    size: int
    media_type: str
    url: str

    @classmethod
    def of(cls, release_id: str, info: ArtefactInfo) -> File:
        return cls(
            path=info.path,
            sha256=info.sha256,
            size=info.size,
            media_type=info.media_type,
            url=f"/v1/releases/{release_id}/files/{info.path}",
        )


class Release(_Out):
    id: str
    request_id: int
    title_body: str | None = Field(description="Body code, or null for all Wales.")
    period: int
    purpose: str
    created_at: datetime
    manifest_sha256: str
    files: list[File] | None = Field(
        default=None, description="Every file with its hash (only on a single release)."
    )

    @classmethod
    def of(cls, view: ReleaseView, *, files: bool = False) -> Release:
        return cls(
            id=view.record.id,
            request_id=view.record.request_id,
            title_body=view.request.body,
            period=view.request.period,
            purpose=view.request.purpose,
            created_at=view.record.created_at,
            manifest_sha256=view.record.manifest_sha256,
            files=[File.of(view.id, a) for a in view.artefacts] if files else None,
        )


class Finding(_Out):
    kind: str
    severity: str
    cell: str
    message: str
    interval: list[float | None] | None = None


class CheckReport(_Out):
    source: str
    policy: dict[str, str]
    safe: bool
    cells: int
    hidden: int
    findings: list[Finding]


class AuditEntry(_Out):
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
    detail: str = Field(description="Canonical JSON object text.")
    prev_hash: str
    entry_hash: str


class Verification(_Out):
    ok: bool
    entries: int
    stored_size: int
    checkpoints: int
    first_bad_seq: int | None
    summary: str
    problems: list[str]


class Checkpoint(_Out):
    size: int
    head_hash: str


class ReportFlag(_Out):
    kind: str
    principal: str
    count: int
    detail: str
    first_seq: int


class Activity(_Out):
    principal: str
    action: str
    allowed: int
    denied: int
    errors: int


class AuditReport(_Out):
    entries: int
    first_time: str | None
    last_time: str | None
    denials: int
    activity: list[Activity]
    flags: list[ReportFlag]
