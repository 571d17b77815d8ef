"""Principals, grants and the audit log in one store transaction, on SQLAlchemy.

Part of the storage zone (``governance.storage``, the only package that imports
SQLAlchemy). ``SqlAccessAudit`` holds the writes and reads of who may do what
(principals, their token hashes, grants) and of the tamper-evident audit log
(appending sealed entries under the chain head's lock, reading entries and the
head); ``SqlTransaction`` adds extracts, records, aggregates, requests and
releases, and opens the connection they all share.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from audit import (
    ENTRY_FIELDS,
    AuditEntry,
    AuditEvent,
    ChainHead,
    EventRules,
    seal_many,
)
from audit.chain import entry_values
from governance.access import Grant, Principal
from governance.errors import AuditIntegrityError, ConflictError
from governance.models import MAX_ROW_ID, AuditQuery
from governance.storage import schema
from governance.storage.reads import SqlReads, grant_from


def is_row_id(value: int) -> bool:
    """Whether a stored row can have id ``value`` (a 32-bit SQL INTEGER, from 1).

    Every lookup by an id from outside (a command's argument) asks this first:
    PostgreSQL refuses to compare a column with a larger integer and SQLite with
    one beyond 64 bits, so such an id is answered as no row, on every backend.
    """
    return 1 <= value <= MAX_ROW_ID


_READ_HEAD = "SELECT size, head_hash FROM audit_head WHERE id = 1"
_LOCK_HEAD = _READ_HEAD + " FOR UPDATE"


def _grant(row: sa.Row[Any]) -> Grant:
    return grant_from(
        row.id,
        row.principal_id,
        row.role,
        row.body,
        row.valid_from,
        row.valid_until,
        row.revoked_at,
    )


class SqlAccessAudit(SqlReads):
    """Principals, grants and the audit log; see ``SqlTransaction``."""

    _connection: sa.Connection
    _integrity_errors: type[Exception]

    # -- principals and grants ------------------------------------------------------

    def count_principals(self) -> int:
        return int(
            self._connection.execute(
                sa.select(sa.func.count()).select_from(schema.principals)
            ).scalar_one()
        )

    def add_principal(
        self,
        principal: Principal,
        *,
        token_id: str,
        token_hash: str,
        created_at: datetime,
        created_by: str,
    ) -> None:
        try:
            with self._connection.begin_nested():
                self._connection.execute(
                    schema.principals.insert().values(
                        id=principal.id,
                        name=principal.name,
                        active=principal.active,
                        token_id=token_id,
                        token_hash=token_hash,
                        created_at=created_at,
                        created_by=created_by,
                    )
                )
        except IntegrityError:
            raise ConflictError(f"principal {principal.id!r} already exists") from None

    def principal(self, principal_id: str) -> Principal | None:
        row = self._connection.execute(
            sa.select(schema.principals).where(schema.principals.c.id == principal_id)
        ).first()
        return None if row is None else Principal(row.id, row.name, row.active)

    def principals(self) -> list[Principal]:
        rows = self._connection.execute(
            sa.select(schema.principals).order_by(schema.principals.c.id)
        )
        return [Principal(row.id, row.name, row.active) for row in rows]

    def deactivate_principal(self, principal_id: str) -> None:
        """Deactivate and forget the token hash: the token can never work again."""
        self._connection.execute(
            schema.principals.update()
            .where(schema.principals.c.id == principal_id)
            .values(active=False, token_hash=None)
        )

    def add_grant(self, grant: Grant, *, created_by: str) -> int:
        result = self._connection.execute(
            schema.grants.insert().values(
                principal_id=grant.principal_id,
                role=grant.role,
                body=grant.body,
                valid_from=grant.valid_from,
                valid_until=grant.valid_until,
                revoked_at=grant.revoked_at,
                created_by=created_by,
            )
        )
        key = result.inserted_primary_key
        assert key is not None  # noqa: S101 - an INSERT always has one
        return int(key[0])

    def grants_of(self, principal_id: str) -> list[Grant]:
        rows = self._connection.execute(
            sa.select(schema.grants)
            .where(schema.grants.c.principal_id == principal_id)
            .order_by(schema.grants.c.id)
        )
        return [_grant(row) for row in rows]

    def grant(self, grant_id: int) -> Grant | None:
        if not is_row_id(grant_id):
            return None
        row = self._connection.execute(
            sa.select(schema.grants).where(schema.grants.c.id == grant_id)
        ).first()
        return None if row is None else _grant(row)

    def revoke_grant(self, grant_id: int, at: datetime) -> None:
        if not is_row_id(grant_id):
            return
        self._connection.execute(
            schema.grants.update()
            .where(schema.grants.c.id == grant_id, schema.grants.c.revoked_at.is_(None))
            .values(revoked_at=at)
        )

    # -- audit log ------------------------------------------------------------------

    def append_audit(
        self, make_events: Callable[[], Sequence[AuditEvent]], rules: EventRules
    ) -> list[AuditEntry]:
        """Lock the chain head, seal the events made now, insert them, move the head.

        ``make_events`` runs after the lock is held, so entry times never go
        backwards along the chain. On PostgreSQL the head row is locked with
        ``FOR UPDATE`` until commit; SQLite transactions already hold the write lock.
        Every action runs this, so it speaks to the driver directly (three
        statements, no SQL expression building).
        """
        postgresql = self._dialect == "postgresql"
        mark = "%s" if postgresql else "?"
        cursor = self._connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(_LOCK_HEAD if postgresql else _READ_HEAD)
            size, head_hash = cursor.fetchone()
            events = make_events()
            if not events:
                return []
            entries = seal_many(events, ChainHead(int(size), bytes(head_hash)), rules)
            try:
                cursor.executemany(
                    f"INSERT INTO audit_entry ({', '.join(ENTRY_FIELDS)}) "  # noqa: S608
                    f"VALUES ({', '.join([mark] * len(ENTRY_FIELDS))})",
                    [entry_values(entry) for entry in entries],
                )
            except self._integrity_errors:
                raise AuditIntegrityError(
                    "the audit log's head row does not match its entries; nothing "
                    "was done; run `wresgov audit verify`"
                ) from None
            last = entries[-1]
            cursor.execute(
                f"UPDATE audit_head SET size = {mark}, head_hash = {mark} "  # noqa: S608
                f"WHERE id = 1 AND size = {mark}",
                (last.seq, last.entry_hash, size),
            )
            if (
                cursor.rowcount != 1
            ):  # pragma: no cover - the lock makes this impossible
                raise AuditIntegrityError("the audit chain head moved during an append")
            return entries
        finally:
            cursor.close()

    def audit_head(self) -> ChainHead:
        head = schema.audit_head
        size, head_hash = self._connection.execute(
            sa.select(head.c.size, head.c.head_hash).where(head.c.id == 1)
        ).one()
        return ChainHead(int(size), bytes(head_hash))

    def audit_entries(self, query: AuditQuery) -> list[AuditEntry]:
        table = schema.audit_entry
        statement = sa.select(*(table.c[name] for name in ENTRY_FIELDS)).order_by(
            table.c.seq
        )
        for name in ("principal", "role", "action", "body", "outcome", "resource"):
            wanted = getattr(query, name)
            if wanted is not None:
                statement = statement.where(table.c[name] == wanted)
        if query.resource_prefix is not None:
            statement = statement.where(
                table.c.resource.startswith(query.resource_prefix, autoescape=True)
            )
        if query.since is not None:
            statement = statement.where(table.c.time >= query.since)
        if query.until is not None:
            statement = statement.where(table.c.time < query.until)
        if query.limit is not None:
            statement = statement.limit(query.limit)
        return [
            AuditEntry.from_row(dict(row._mapping))
            for row in self._connection.execute(statement)
        ]
