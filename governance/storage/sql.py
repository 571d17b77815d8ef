"""SQLAlchemy implementation of the store, for SQLite (default) and PostgreSQL.

The only module (with ``schema``) that imports SQLAlchemy. SQLite transactions start
with ``BEGIN IMMEDIATE`` so writers are serialised and a transaction never fails to
upgrade its lock half-way; the database runs in WAL mode with foreign keys on.
Records are bulk-written with the driver's fastest path (``executemany`` on SQLite,
``COPY`` on PostgreSQL) inside the caller's transaction, so an interrupted ingest
leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError

from governance.errors import ConfigError
from governance.extract_format import Kind
from governance.models import (
    RECORD_FIELDS,
    ExtractInfo,
    ExtractStatus,
    NewExtract,
    QuarantineEntry,
)
from governance.storage import schema


def _normalise_url(url: str) -> URL:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(
            "WRESGOV_DATABASE_URL is not a valid SQLAlchemy URL; see docs/configuration.md"
        ) from None
    if parsed.get_backend_name() not in {"sqlite", "postgresql"}:
        raise ConfigError(
            f"unsupported database {parsed.get_backend_name()!r}: use sqlite or postgresql"
        )
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" hook below issue BEGIN itself (pysqlite's own
    # transaction handling would defer it and use a weaker lock).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=60000")
    cursor.close()


def _sqlite_begin(connection: sa.Connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


class SqlStore:
    """A store in one SQLite file or one PostgreSQL database."""

    def __init__(self, url: str) -> None:
        self._url = _normalise_url(url)
        self.dialect = self._url.get_backend_name()
        if self.dialect == "sqlite":
            # check_same_thread off: ingest hands the open connection to one writer
            # thread while the main thread parses (never both at once).
            self._engine = sa.create_engine(
                self._url,
                poolclass=sa.pool.NullPool,
                connect_args={"check_same_thread": False},
            )
            event.listen(self._engine, "connect", _sqlite_pragmas)
            event.listen(self._engine, "begin", _sqlite_begin)
        else:
            self._engine = sa.create_engine(self._url, pool_pre_ping=True)

    @property
    def display_url(self) -> str:
        return self._url.render_as_string(hide_password=True)

    @property
    def engine(self) -> sa.Engine:
        return self._engine

    def dispose(self) -> None:
        self._engine.dispose()

    @contextmanager
    def _connect(self) -> Iterator[sa.Connection]:
        try:
            with self._engine.begin() as connection:
                yield connection
        except OperationalError as exc:
            raise ConfigError(
                f"database error on {self.display_url} ({type(exc.orig).__name__})"
            ) from None

    def schema_version(self) -> int | None:
        with self._connect() as connection:
            if not sa.inspect(connection).has_table("schema_meta"):
                return None
            return connection.execute(sa.select(schema.schema_meta.c.version)).scalar()

    def upgrade(self) -> int:
        with self._connect() as connection:
            if self.dialect == "postgresql":
                # Two processes upgrading at once must not both create tables.
                connection.exec_driver_sql("SELECT pg_advisory_xact_lock(7305001)")
            if not sa.inspect(connection).has_table("schema_meta"):
                schema.schema_meta.create(connection)
                connection.execute(schema.schema_meta.insert().values(id=1, version=0))
            current = connection.execute(
                sa.select(schema.schema_meta.c.version)
            ).scalar_one()
            if current > schema.LATEST_VERSION:
                raise ConfigError(
                    f"the store is at schema version {current}, newer than this "
                    f"wresgov ({schema.LATEST_VERSION}); upgrade wresgov"
                )
            for version, step in schema.MIGRATIONS:
                if version > current:
                    step(connection)
                    connection.execute(
                        schema.schema_meta.update().values(version=version)
                    )
            return schema.LATEST_VERSION

    def drop_all(self) -> None:
        """Remove every table (tests only)."""
        with self._engine.begin() as connection:
            schema.metadata.drop_all(connection)

    @contextmanager
    def transaction(self) -> Iterator[SqlTransaction]:
        with self._connect() as connection:
            version = self._version_in(connection)
            if version != schema.LATEST_VERSION:
                raise ConfigError(
                    "the store has no schema or an old one; run `wresgov init`"
                )
            yield SqlTransaction(connection, self.dialect)

    @staticmethod
    def _version_in(connection: sa.Connection) -> int | None:
        try:
            return connection.execute(sa.select(schema.schema_meta.c.version)).scalar()
        except SQLAlchemyError:
            return None


_EXTRACT_COLUMNS = schema.extracts.c


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


class SqlTransaction:
    """One database transaction; see ``governance.storage.base.Transaction``."""

    def __init__(self, connection: sa.Connection, dialect: str) -> None:
        self._connection = connection
        self._dialect = dialect
        self._insert_sql: dict[Kind, str] = {}

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
        self, kind: Kind, extract_id: int, rows: Sequence[tuple[object, ...]]
    ) -> None:
        if not rows:
            return
        fields = RECORD_FIELDS[kind]
        table = schema.RECORD_TABLES[kind].name
        if self._dialect == "postgresql":
            self._copy_rows(table, fields, extract_id, rows)
            return
        sql = self._insert_sql.get(kind)
        if sql is None:
            columns = ", ".join(("extract_id", *fields))
            marks = ", ".join("?" * (len(fields) + 1))
            sql = self._insert_sql[kind] = (
                f"INSERT INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608 - names are ours
            )
        prefix = (extract_id,)
        cursor = self._connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.executemany(sql, [prefix + row for row in rows])
        finally:
            cursor.close()

    def _copy_rows(
        self,
        table: str,
        fields: tuple[str, ...],
        extract_id: int,
        rows: Sequence[tuple[object, ...]],
    ) -> None:
        raw = self._connection.connection.driver_connection
        columns = ", ".join(("extract_id", *fields))
        with (
            raw.cursor() as cursor,  # type: ignore[union-attr]  # psycopg connection
            cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
        ):
            for row in rows:
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

    def remove_duplicates(
        self, kind: Kind, extract_id: int, key: tuple[str, ...]
    ) -> list[tuple[int, int]]:
        if not key:
            return []
        table = schema.RECORD_TABLES[kind]
        columns = [table.c[name] for name in key]
        firsts = (
            sa.select(*columns, sa.func.min(table.c.source_row).label("first_row"))
            .where(table.c.extract_id == extract_id)
            .group_by(*columns)
            .having(sa.func.count() > 1)
            .subquery()
        )
        later = self._connection.execute(
            sa.select(table.c.source_row, firsts.c.first_row)
            .join(
                firsts,
                sa.and_(*(table.c[name] == firsts.c[name] for name in key)),
            )
            .where(
                table.c.extract_id == extract_id,
                table.c.source_row > firsts.c.first_row,
            )
            .order_by(table.c.source_row)
        ).all()
        duplicates = [(int(row), int(first)) for row, first in later]
        for start in range(0, len(duplicates), 500):
            chunk = [row for row, _ in duplicates[start : start + 500]]
            self._connection.execute(
                table.delete().where(
                    table.c.extract_id == extract_id, table.c.source_row.in_(chunk)
                )
            )
        return duplicates

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
