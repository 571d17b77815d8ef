"""One store transaction: every read and write the service makes, on SQLAlchemy.

Part of the storage zone (``governance.storage``, the only package that imports
SQLAlchemy). A ``SqlTransaction`` wraps one connection inside
``SqlStore.transaction`` (or, on SQLite, ``SqlStore.reading``): records are
bulk-written with the driver's fastest path inside it, audit entries are sealed
against the chain head it locks (``access_audit.SqlAccessAudit``, with principals
and grants), and nothing it does is visible until the caller's transaction commits.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

import sqlalchemy as sa

from governance.extract_format import Kind
from governance.models import (
    RECORD_FIELDS,
    ExtractInfo,
    ExtractStatus,
    NewExtract,
    QuarantineEntry,
    ReleaseRecord,
    RequestRecord,
)
from governance.storage import schema
from governance.storage.access_audit import SqlAccessAudit, is_row_id
from governance.storage.aggregate import aggregate, aggregate_many
from governance.storage.reads import as_utc, release_from
from governance.tablespec import TableSpec

_EXTRACT_COLUMNS = schema.extracts.c


@dataclass(frozen=True)
class _SqliteField:
    """How one record field is bound when records are written to SQLite.

    The sqlite3 module binds exact ints, floats and strings at once, but looks for
    an adapter for any other value (two failed attribute lookups each), and a staff
    record holds a ``None`` or a ``bool`` or two. So a bool is given as the int
    sqlite3 would bind for it, and ``None`` as a stand-in of a storage class the
    column never holds (0 for text, '' for a number), which ``NULLIF`` turns back
    into NULL inside SQLite: what is stored is exactly what binding ``None`` stores.
    """

    placeholder: str
    given: dict[object, object] | None
    """Value -> what is bound instead (values not in it are bound as they are)."""

    @classmethod
    def of(cls, column: sa.Column[Any]) -> _SqliteField:
        boolean = isinstance(column.type, sa.Boolean)
        given: dict[object, object] = {True: 1, False: 0} if boolean else {}
        if not column.nullable:
            return cls("?", given or None)
        stand_in: object = (
            "" if boolean or column.type.python_type in {int, float} else 0
        )
        given[None] = stand_in
        return cls(f"NULLIF(?, {stand_in!r})", given)


_SQLITE_FIELDS: dict[str, list[_SqliteField]] = {
    kind: [_SqliteField.of(schema.RECORD_TABLES[kind].c[name]) for name in fields]
    for kind, fields in RECORD_FIELDS.items()
}


def _extract_info(row: sa.Row[Any]) -> ExtractInfo:
    ingested_at = row.ingested_at
    if ingested_at.tzinfo is None:  # SQLite drops the zone; we always store UTC
        ingested_at = ingested_at.replace(tzinfo=UTC)
    return ExtractInfo(
        id=row.id,
        org=row.org,
        period=row.period,
        kind=cast(Kind, row.kind),
        sha256=row.sha256,
        status=cast(ExtractStatus, row.status),
        rows_read=row.rows_read,
        rows_accepted=row.rows_accepted,
        rows_quarantined=row.rows_quarantined,
        ingested_at=ingested_at,
        superseded_by=row.superseded_by,
    )


def _request_values(record: RequestRecord) -> dict[str, object]:
    return {
        "id": record.id,
        "requester": record.requester,
        "purpose": record.purpose,
        "body": record.body,
        "period": record.period,
        "pack": record.pack,
        "tables": record.tables,
        "policy_id": record.policy_id,
        "state": record.state,
        "approvals": json.dumps(
            [[principal, moment.isoformat()] for principal, moment in record.approvals]
        ),
        "evidence": record.evidence,
        "evidence_json": record.evidence_json,
        "cleared_digest": record.cleared_digest,
        "created_at": record.created_at,
        "updated_at": record.updated_at,
    }


def _request(row: sa.Row[Any]) -> RequestRecord:
    approvals = tuple(
        (str(principal), datetime.fromisoformat(moment))
        for principal, moment in json.loads(row.approvals)
    )
    return RequestRecord(
        id=row.id,
        requester=row.requester,
        purpose=row.purpose,
        body=row.body,
        period=row.period,
        pack=row.pack,
        tables=row.tables,
        policy_id=row.policy_id,
        state=row.state,
        approvals=approvals,
        evidence=row.evidence,
        evidence_json=row.evidence_json,
        cleared_digest=row.cleared_digest,
        created_at=as_utc(row.created_at) or row.created_at,
        updated_at=as_utc(row.updated_at) or row.updated_at,
    )


def _release(row: Any) -> ReleaseRecord:
    return release_from(
        row.id,
        row.request_id,
        row.directory,
        row.manifest_sha256,
        row.created_at,
        row.revoked_at,
    )


class SqlTransaction(SqlAccessAudit):
    """One database transaction; see ``governance.storage.base.Transaction``."""

    def __init__(self, connection: sa.Connection, dialect: str) -> None:
        super().__init__(connection.connection.driver_connection, dialect)
        self._connection = connection
        driver = connection.dialect.dbapi
        assert driver is not None  # noqa: S101 - a connected dialect has its driver
        self._integrity_errors: type[Exception] = driver.IntegrityError

    def find_extract(
        self, org: str, period: int, kind: Kind, sha256: str
    ) -> ExtractInfo | None:
        row = self._connection.execute(
            sa.select(schema.extracts).where(
                _EXTRACT_COLUMNS.org == org,
                _EXTRACT_COLUMNS.period == period,
                _EXTRACT_COLUMNS.kind == kind,
                _EXTRACT_COLUMNS.sha256 == sha256,
            )
        ).first()
        return _extract_info(row) if row else None

    def extract(self, extract_id: int) -> ExtractInfo | None:
        if not is_row_id(extract_id):
            return None
        row = self._connection.execute(
            sa.select(schema.extracts).where(_EXTRACT_COLUMNS.id == extract_id)
        ).first()
        return _extract_info(row) if row else None

    def active_extract(self, org: str, period: int, kind: Kind) -> ExtractInfo | None:
        row = self._connection.execute(
            sa.select(schema.extracts).where(
                _EXTRACT_COLUMNS.org == org,
                _EXTRACT_COLUMNS.period == period,
                _EXTRACT_COLUMNS.kind == kind,
                _EXTRACT_COLUMNS.status == "active",
            )
        ).first()
        return _extract_info(row) if row else None

    def add_extract(self, extract: NewExtract) -> int:
        result = self._connection.execute(
            schema.extracts.insert().values(
                org=extract.org,
                period=extract.period,
                kind=extract.kind,
                sha256=extract.sha256,
                status="active",
                rows_read=0,
                rows_accepted=0,
                rows_quarantined=0,
                ingested_at=extract.ingested_at,
            )
        )
        key = result.inserted_primary_key
        assert key is not None  # noqa: S101 - an INSERT always has one
        return int(key[0])

    def finish_extract(
        self,
        extract_id: int,
        *,
        rows_read: int,
        rows_accepted: int,
        rows_quarantined: int,
    ) -> None:
        self._connection.execute(
            schema.extracts.update()
            .where(_EXTRACT_COLUMNS.id == extract_id)
            .values(
                rows_read=rows_read,
                rows_accepted=rows_accepted,
                rows_quarantined=rows_quarantined,
            )
        )

    def supersede(self, old_id: int, new_id: int) -> None:
        self._connection.execute(
            schema.extracts.update()
            .where(_EXTRACT_COLUMNS.id == old_id)
            .values(status="superseded", superseded_by=new_id)
        )

    def reactivate(self, extract_id: int) -> None:
        self._connection.execute(
            schema.extracts.update()
            .where(_EXTRACT_COLUMNS.id == extract_id)
            .values(status="active", superseded_by=None)
        )

    def add_records(
        self, kind: Kind, extract_id: int, columns: Sequence[Sequence[object]]
    ) -> None:
        count = len(columns[0]) if columns else 0
        if not count:
            return
        fields = RECORD_FIELDS[kind]
        table = schema.RECORD_TABLES[kind].name
        if self._dialect == "postgresql":
            self._copy_rows(table, fields, extract_id, columns)
            return
        # The values go to the driver row after row in one flat list (see
        # _SqliteField for the few it is given in another form); the extract id is
        # an integer we generated, so it is written into the statement itself.
        width = len(fields)
        bindings = _SQLITE_FIELDS[kind]
        values: list[object] = [None] * (count * width)
        for offset, (column, binding) in enumerate(zip(columns, bindings, strict=True)):
            values[offset::width] = (
                column
                if binding.given is None
                else list(map(binding.given.get, column, column))
            )
        # Many rows a statement: the driver releases the GIL while SQLite steps a
        # statement, so the rows go in while the caller parses the next batch.
        driver = self._connection.connection.driver_connection
        limit = driver.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)  # type: ignore[union-attr]
        per = min(count, limit // width)
        row = f"({int(extract_id)}, {', '.join(b.placeholder for b in bindings)})"
        insert = f"INSERT INTO {table} (extract_id, {', '.join(fields)}) VALUES "  # noqa: S608 - our names
        step = per * width
        whole = count - count % per
        cursor = driver.cursor()  # type: ignore[union-attr]
        try:
            cursor.executemany(
                insert + ", ".join([row] * per),
                [
                    values[start : start + step]
                    for start in range(0, whole * width, step)
                ],
            )
            if whole < count:
                cursor.execute(
                    insert + ", ".join([row] * (count - whole)), values[whole * width :]
                )
        finally:
            cursor.close()

    def _copy_rows(
        self,
        table: str,
        fields: tuple[str, ...],
        extract_id: int,
        columns: Sequence[Sequence[object]],
    ) -> None:
        raw = self._connection.connection.driver_connection
        names = ", ".join(("extract_id", *fields))
        with (
            raw.cursor() as cursor,  # type: ignore[union-attr]  # psycopg connection
            cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy,
        ):
            for row in zip(*columns, strict=True):
                copy.write_row((extract_id, *row))

    def add_quarantine(
        self, extract_id: int, entries: Sequence[QuarantineEntry]
    ) -> None:
        if entries:
            self._connection.execute(
                schema.quarantine.insert(),
                [
                    {
                        "extract_id": extract_id,
                        "row_number": entry.row,
                        "field": entry.field,
                        "problem": entry.problem,
                    }
                    for entry in entries
                ],
            )

    # -- aggregates -----------------------------------------------------------------

    def aggregate(
        self, spec: TableSpec, *, period: int, body: str | None = None
    ) -> dict[tuple[str, ...], int]:
        """Leaf counts of a table spec (GROUP BY in the database; zeros included)."""
        return aggregate(self._connection, spec, period=period, body=body)

    def aggregate_many(
        self, specs: Sequence[TableSpec], *, period: int, body: str | None = None
    ) -> list[dict[tuple[str, ...], int]]:
        """Leaf counts of several table specs, one query per population they count."""
        return aggregate_many(self._connection, specs, period=period, body=body)

    def periods(self) -> list[int]:
        """Periods with at least one active extract, newest first."""
        extracts = schema.extracts
        rows = self._connection.execute(
            sa.select(extracts.c.period)
            .where(extracts.c.status == "active")
            .distinct()
            .order_by(extracts.c.period.desc())
        )
        return [int(row[0]) for row in rows]

    # -- requests and releases ------------------------------------------------------

    def add_request(self, record: RequestRecord) -> int:
        values = _request_values(record)
        del values["id"]
        result = self._connection.execute(schema.requests.insert().values(**values))
        key = result.inserted_primary_key
        assert key is not None  # noqa: S101 - an INSERT always has one
        return int(key[0])

    def request(
        self, request_id: int, *, for_update: bool = False
    ) -> RequestRecord | None:
        if not is_row_id(request_id):
            return None
        query = sa.select(schema.requests).where(schema.requests.c.id == request_id)
        if for_update and self._dialect == "postgresql":
            query = query.with_for_update()
        row = self._connection.execute(query).first()
        return None if row is None else _request(row)

    def save_request(self, record: RequestRecord) -> None:
        values = _request_values(record)
        self._connection.execute(
            schema.requests.update()
            .where(schema.requests.c.id == record.id)
            .values(**values)
        )

    def requests(
        self, *, requester: str | None = None, state: str | None = None
    ) -> list[RequestRecord]:
        query = sa.select(schema.requests).order_by(schema.requests.c.id)
        if requester is not None:
            query = query.where(schema.requests.c.requester == requester)
        if state is not None:
            query = query.where(schema.requests.c.state == state)
        return [_request(row) for row in self._connection.execute(query)]

    def add_release(self, record: ReleaseRecord) -> None:
        self._connection.execute(
            schema.releases.insert().values(
                id=record.id,
                request_id=record.request_id,
                directory=record.directory,
                manifest_sha256=record.manifest_sha256,
                created_at=record.created_at,
                revoked_at=record.revoked_at,
            )
        )

    def releases_of(self, request_id: int) -> list[ReleaseRecord]:
        return self._releases(schema.releases.c.request_id == request_id)

    def _releases(self, where: sa.ColumnElement[bool]) -> list[ReleaseRecord]:
        rows = self._connection.execute(
            sa.select(schema.releases)
            .where(where)
            .order_by(schema.releases.c.created_at, schema.releases.c.id)
        )
        return [_release(row) for row in rows]

    def revoke_releases(self, request_id: int, at: datetime) -> None:
        self._connection.execute(
            schema.releases.update()
            .where(
                schema.releases.c.request_id == request_id,
                schema.releases.c.revoked_at.is_(None),
            )
            .values(revoked_at=at)
        )

    def extracts(
        self, *, org: str | None = None, period: int | None = None
    ) -> list[ExtractInfo]:
        query = sa.select(schema.extracts).order_by(_EXTRACT_COLUMNS.id)
        if org is not None:
            query = query.where(_EXTRACT_COLUMNS.org == org)
        if period is not None:
            query = query.where(_EXTRACT_COLUMNS.period == period)
        return [_extract_info(row) for row in self._connection.execute(query)]

    def quarantine_entries(self, extract_id: int) -> list[QuarantineEntry]:
        table = schema.quarantine
        rows = self._connection.execute(
            sa.select(table.c.row_number, table.c.field, table.c.problem)
            .where(table.c.extract_id == extract_id)
            .order_by(table.c.row_number, table.c.field)
        )
        return [QuarantineEntry(row[0], row[1], row[2]) for row in rows]

    def count_records(self, kind: Kind, extract_id: int) -> int:
        table = schema.RECORD_TABLES[kind]
        return int(
            self._connection.execute(
                sa.select(sa.func.count()).where(table.c.extract_id == extract_id)
            ).scalar_one()
        )
