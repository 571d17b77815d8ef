"""The storage interface the service depends on (a Protocol, so a fake can stand in).

Everything moves as simple values: dataclasses and tuples from ``governance.models``.
A ``Transaction`` is all-or-nothing: the service opens one per action, and leaving
its ``with`` block through an exception rolls every write back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Protocol

from audit import AuditEntry, AuditEvent, ChainHead, EventRules
from governance.access import Grant, Principal
from governance.extract_format import Kind
from governance.models import (
    AuditQuery,
    ExtractInfo,
    NewExtract,
    QuarantineEntry,
    ReleaseRecord,
    RequestRecord,
    RequestSummary,
)
from governance.tablespec import TableSpec


class Transaction(Protocol):
    """One transaction on the store.

    A lookup by id (``extract``, ``request``, ``grant``) answers ``None`` for an id
    no stored row can have (below 1 or beyond ``models.MAX_ROW_ID``), on every
    backend, so every command reports such an id as not found.
    """

    def find_extract(
        self, org: str, period: int, kind: Kind, sha256: str
    ) -> ExtractInfo | None: ...

    def active_extract(
        self, org: str, period: int, kind: Kind
    ) -> ExtractInfo | None: ...

    def add_extract(self, extract: NewExtract) -> int: ...

    def finish_extract(
        self,
        extract_id: int,
        *,
        rows_read: int,
        rows_accepted: int,
        rows_quarantined: int,
    ) -> None: ...

    def supersede(self, old_id: int, new_id: int) -> None: ...

    def reactivate(self, extract_id: int) -> None: ...

    def add_records(
        self, kind: Kind, extract_id: int, columns: Sequence[Sequence[object]]
    ) -> None:
        """Add records given field by field (``RECORD_FIELDS`` order, equal lengths)."""
        ...

    def add_quarantine(
        self, extract_id: int, entries: Sequence[QuarantineEntry]
    ) -> None: ...

    def extracts(
        self, *, org: str | None = None, period: int | None = None
    ) -> list[ExtractInfo]: ...

    def quarantine_entries(self, extract_id: int) -> list[QuarantineEntry]: ...

    def count_records(self, kind: Kind, extract_id: int) -> int: ...

    def append_audit(
        self, make_events: Callable[[], Sequence[AuditEvent]], rules: EventRules
    ) -> list[AuditEntry]:
        """Lock the chain head, seal the events made now, insert, move the head."""
        ...

    def audit_head(self) -> ChainHead: ...

    # aggregates
    def aggregate(
        self, spec: TableSpec, *, period: int, body: str | None = None
    ) -> dict[tuple[str, ...], int]: ...

    def aggregate_many(
        self, specs: Sequence[TableSpec], *, period: int, body: str | None = None
    ) -> list[dict[tuple[str, ...], int]]: ...

    def periods(self) -> list[int]: ...

    # principals and grants
    def count_principals(self) -> int: ...

    def add_principal(
        self,
        principal: Principal,
        *,
        token_id: str,
        token_hash: str,
        created_at: datetime,
        created_by: str,
    ) -> None: ...

    def principal(self, principal_id: str) -> Principal | None: ...

    def principal_by_token(
        self, token_id: str
    ) -> tuple[Principal, str | None, list[Grant]] | None: ...

    def principals(self) -> list[Principal]: ...

    def deactivate_principal(self, principal_id: str) -> None: ...

    def add_grant(self, grant: Grant, *, created_by: str) -> int: ...

    def grants_of(self, principal_id: str) -> list[Grant]: ...

    def grant(self, grant_id: int) -> Grant | None: ...

    def revoke_grant(self, grant_id: int, at: datetime) -> None: ...

    # requests and releases
    def add_request(self, record: RequestRecord) -> int: ...

    def request(
        self, request_id: int, *, for_update: bool = False
    ) -> RequestRecord | None: ...

    def save_request(self, record: RequestRecord) -> None: ...

    def requests(
        self, *, requester: str | None = None, state: str | None = None
    ) -> list[RequestRecord]: ...

    def add_release(self, record: ReleaseRecord) -> None: ...

    def releases_of(self, request_id: int) -> list[ReleaseRecord]: ...

    def released_requests(
        self, release_id: str | None = None
    ) -> list[tuple[ReleaseRecord, RequestSummary]]: ...

    def revoke_releases(self, request_id: int, at: datetime) -> None: ...

    def audit_entries(self, query: AuditQuery) -> list[AuditEntry]: ...


class Store(Protocol):
    @property
    def display_url(self) -> str:
        """The database URL with any password masked."""
        ...

    def upgrade(self) -> int:
        """Create or upgrade the schema; return the version now in force."""
        ...

    def schema_version(self) -> int | None: ...

    def transaction(self) -> AbstractContextManager[Transaction]: ...

    def dispose(self) -> None: ...
