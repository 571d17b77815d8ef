"""The storage interface the service depends on (a Protocol, so a fake can stand in).

Everything moves as simple values: dataclasses and tuples from ``governance.models``.
A ``Transaction`` is all-or-nothing: the service opens one per action, and leaving
its ``with`` block through an exception rolls every write back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Protocol

from audit import AuditEntry, AuditEvent, ChainHead, EventRules
from governance.extract_format import Kind
from governance.models import AuditQuery, ExtractInfo, NewExtract, QuarantineEntry


class Transaction(Protocol):
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
        self, kind: Kind, extract_id: int, rows: Sequence[tuple[object, ...]]
    ) -> None: ...

    def add_quarantine(
        self, extract_id: int, entries: Sequence[QuarantineEntry]
    ) -> None: ...

    def remove_duplicates(
        self, kind: Kind, extract_id: int, key: tuple[str, ...]
    ) -> list[tuple[int, int]]:
        """Delete rows whose ``key`` columns repeat an earlier row of the extract.

        Returns (duplicate row, first row) pairs, in row order.
        """
        ...

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
