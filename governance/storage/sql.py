"""SQLAlchemy implementation of the store, for SQLite (default) and PostgreSQL.

The only module (with ``schema``) that imports SQLAlchemy. SQLite transactions start
with ``BEGIN IMMEDIATE`` so writers are serialised and a transaction never fails to
upgrade its lock half-way; the database runs in WAL mode with foreign keys on.
Records are bulk-written with the driver's fastest path (``executemany`` on SQLite,
``COPY`` on PostgreSQL) inside the caller's transaction, so an interrupted ingest
leaves nothing behind.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, cast

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import (
    ArgumentError,
    DisconnectionError,
    IntegrityError,
    OperationalError,
    SQLAlchemyError,
)

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
from governance.errors import AuditIntegrityError, ConfigError, ConflictError
from governance.extract_format import Kind
from governance.models import (
    MAX_ROW_ID,
    RECORD_FIELDS,
    AuditQuery,
    ExtractInfo,
    ExtractStatus,
    NewExtract,
    QuarantineEntry,
    ReleaseRecord,
    RequestRecord,
    RequestSummary,
)
from governance.storage import schema
from governance.storage.aggregate import aggregate
from governance.tablespec import TableSpec


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
    # Straight to the driver: every action begins a transaction.
    connection.connection.dbapi_connection.execute("BEGIN IMMEDIATE")  # type: ignore[union-attr]


#: Connections a PostgreSQL store keeps open, and how many more it may open at once.
POOL_SIZE: Final = 10
POOL_OVERFLOW: Final = 5
#: A pooled connection idle for longer than this (seconds) is pinged before use.
PING_AFTER: Final = 1.0


def _mark_idle(_dbapi_connection: Any, record: Any, *_: Any) -> None:
    record.info["idle_since"] = time.monotonic()


class SqlStore:
    """A store in one SQLite file or one PostgreSQL database."""

    def __init__(self, url: str) -> None:
        self._url = _normalise_url(url)
        self.dialect = self._url.get_backend_name()
        self._schema_checked = False
        if self.dialect == "sqlite":
            # check_same_thread off: ingest hands the open connection to one writer
            # thread while the main thread parses (never both at once).
            self._engine = sa.create_engine(
                self._url,
                pool_size=4,
                max_overflow=8,
                connect_args={"check_same_thread": False},
            )
            event.listen(self._engine, "connect", _sqlite_pragmas)
            event.listen(self._engine, "begin", _sqlite_begin)
        else:
            # Enough pooled connections for the API's worker threads and the audit
            # writer: a busy server reuses them rather than opening (and PostgreSQL
            # forking a backend for) a connection per request.
            self._engine = sa.create_engine(
                self._url, pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW
            )
            event.listen(self._engine, "connect", _mark_idle)
            event.listen(self._engine, "checkin", _mark_idle)
            event.listen(self._engine, "checkout", self._ping_if_idle)

    def _ping_if_idle(self, dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        """Check a connection that sat idle before handing it out (a restarted
        server has closed it); one busy a moment ago is used without a round trip.

        Raises:
            DisconnectionError: the pool then replaces the connection and retries.
        """
        if time.monotonic() - record.info.get("idle_since", 0.0) < PING_AFTER:
            return
        try:
            self._engine.dialect.do_ping(dbapi_connection)
        except self._engine.dialect.loaded_dbapi.Error:
            raise DisconnectionError() from None

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
        with self._database_errors(), self._engine.begin() as connection:
            yield connection

    @contextmanager
    def _database_errors(self) -> Iterator[None]:
        """Turn the driver's operational errors into one line naming the store
        (never the driver's message, which can quote values)."""
        try:
            yield
        except OperationalError as exc:
            raise ConfigError(
                f"database error on {self.display_url} ({type(exc.orig).__name__})"
            ) from None

    @property
    def url_for_workers(self) -> str:
        """The full URL (password included), for worker processes of this service."""
        return self._url.render_as_string(hide_password=False)

    def audit_entry_hash(self, seq: int) -> bytes:
        """The stored hash of entry ``seq`` (a trusted start for a range verify)."""
        with self._connect() as connection:
            value = connection.execute(
                sa.select(schema.audit_entry.c.entry_hash).where(
                    schema.audit_entry.c.seq == seq
                )
            ).scalar()
        return bytes(value) if value is not None else bytes(32)

    def read_audit_head(self) -> ChainHead:
        """The stored chain head (size and hash of the last entry)."""
        with self._connect() as connection:
            size, head_hash = connection.execute(
                sa.select(schema.audit_head.c.size, schema.audit_head.c.head_hash)
            ).one()
        return ChainHead(int(size), bytes(head_hash))

    def iter_audit_rows(
        self, *, after: int = 0, up_to: int | None = None, batch: int = 20_000
    ) -> Iterator[Sequence[object]]:
        """Stream audit entries as tuples in ``ENTRY_FIELDS`` order, by seq.

        Memory stays constant: SQLite cursors stream, and PostgreSQL uses a
        server-side cursor. ``after``/``up_to`` bound the sequence numbers.
        """
        columns = ", ".join(ENTRY_FIELDS)
        limit = "" if up_to is None else f" AND seq <= {int(up_to)}"
        sql = (
            f"SELECT {columns} FROM audit_entry "  # noqa: S608 - our names, ints
            f"WHERE seq > {int(after)}{limit} ORDER BY seq"
        )
        with self._engine.connect() as connection:
            raw = connection.connection.driver_connection
            if self.dialect == "postgresql":
                with raw.transaction(), raw.cursor(name="wresgov_verify") as cursor:  # type: ignore[union-attr]
                    cursor.itersize = batch
                    cursor.execute(sql)
                    yield from cursor
                return
            cursor = raw.cursor()  # type: ignore[union-attr]
            try:
                cursor.execute(sql)
                while rows := cursor.fetchmany(batch):
                    yield from rows
            finally:
                cursor.close()

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
            if not self._schema_checked:
                version = self._version_in(connection)
                if version != schema.LATEST_VERSION:
                    raise ConfigError(
                        "the store has no schema or an old one; run `wresgov init`"
                    )
                self._schema_checked = True
            yield SqlTransaction(connection, self.dialect)

    @contextmanager
    def reading(self) -> Iterator[SqlReads]:
        """For the reads behind every API call, which need no transaction: on
        PostgreSQL they run in autocommit on a pooled connection, sparing the BEGIN
        and COMMIT round trips (each statement sees committed data; read one row per
        statement, or join); on SQLite, as :meth:`transaction`."""
        if self.dialect != "postgresql" or not self._schema_checked:
            with self.transaction() as tx:
                yield tx
            return
        with self._database_errors():
            pooled = self._engine.raw_connection()
        driver = pooled.driver_connection
        errors = self._engine.dialect.loaded_dbapi
        try:
            driver.autocommit = True  # type: ignore[union-attr]  # psycopg's
            try:
                yield SqlReads(driver, self.dialect)
            finally:
                driver.autocommit = False  # type: ignore[union-attr]  # as lent
        except errors.Error as exc:
            pooled.invalidate()  # in an unknown state: never lent again
            if isinstance(exc, errors.OperationalError):
                raise ConfigError(
                    f"database error on {self.display_url} ({type(exc).__name__})"
                ) from None
            raise
        finally:
            pooled.close()

    @staticmethod
    def _version_in(connection: sa.Connection) -> int | None:
        try:
            return connection.execute(sa.select(schema.schema_meta.c.version)).scalar()
        except SQLAlchemyError:
            return None


_EXTRACT_COLUMNS = schema.extracts.c


def _is_row_id(value: int) -> bool:
    """Whether a stored row can have id ``value`` (a 32-bit SQL INTEGER, from 1).

    Every lookup by an id from outside (a command's argument) asks this first:
    PostgreSQL refuses to compare a column with a larger integer and SQLite with
    one beyond 64 bits, so such an id is answered as no row, on every backend.
    """
    return 1 <= value <= MAX_ROW_ID


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


_READ_HEAD = "SELECT size, head_hash FROM audit_head WHERE id = 1"
_LOCK_HEAD = _READ_HEAD + " FOR UPDATE"
# The two reads behind every API call, as fixed SQL for the driver (``%s`` becomes
# SQLite's ``?``): no statement building or result processing per call, and the
# same text each time, which psycopg prepares on the server after a few uses.
_PRINCIPAL_WITH_GRANTS = (
    "SELECT p.id, p.name, p.active, p.token_hash, g.id, g.principal_id, g.role,"
    " g.body, g.valid_from, g.valid_until, g.revoked_at"
    " FROM principals p LEFT OUTER JOIN grants g ON g.principal_id = p.id"
    " WHERE p.token_id = %s ORDER BY g.id"
)
_RELEASED_REQUESTS = (
    "SELECT r.id, r.request_id, r.directory, r.manifest_sha256, r.created_at,"
    " r.revoked_at, q.requester, q.purpose, q.body, q.period, q.state, q.approvals,"
    " q.evidence FROM releases r JOIN requests q ON q.id = r.request_id"
)
_RELEASES_ORDER = " ORDER BY r.created_at, r.id"


def _utc(moment: datetime | None) -> datetime | None:
    """SQLite drops the zone of stored times; everything is stored in UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def _stored_time(value: datetime | str | None) -> datetime | None:
    """A time read through the driver: SQLite gives SQLAlchemy's stored text."""
    return _utc(datetime.fromisoformat(value) if isinstance(value, str) else value)


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
        created_at=_utc(row.created_at) or row.created_at,
        updated_at=_utc(row.updated_at) or row.updated_at,
    )


def _release(row: Any) -> ReleaseRecord:
    return ReleaseRecord(
        row.id,
        row.request_id,
        row.directory,
        row.manifest_sha256,
        _utc(row.created_at) or row.created_at,
        _utc(row.revoked_at),
    )


def _grant(row: sa.Row[Any]) -> Grant:
    valid_from = _utc(row.valid_from)
    assert valid_from is not None  # noqa: S101 - NOT NULL column
    return Grant(
        principal_id=row.principal_id,
        role=row.role,
        body=row.body,
        valid_from=valid_from,
        valid_until=_utc(row.valid_until),
        revoked_at=_utc(row.revoked_at),
        id=row.id,
    )


class SqlReads:
    """The reads behind every API call, as fixed SQL straight through the driver."""

    def __init__(self, driver: Any, dialect: str) -> None:
        self._driver = driver
        self._dialect = dialect

    def principal_by_token(
        self, token_id: str
    ) -> tuple[Principal, str | None, list[Grant]] | None:
        """The token's principal, its stored token hash and its grants (one query)."""
        rows = self._driver_rows(_PRINCIPAL_WITH_GRANTS, (token_id,))
        if not rows:
            return None
        first = rows[0]
        grants = []
        for row in rows:
            if row[4] is None:
                continue
            valid_from = _stored_time(row[8])
            assert valid_from is not None  # noqa: S101 - NOT NULL column
            grants.append(
                Grant(
                    principal_id=row[5], role=row[6], body=row[7],
                    valid_from=valid_from, valid_until=_stored_time(row[9]),
                    revoked_at=_stored_time(row[10]), id=row[4],
                )
            )  # fmt: skip
        return Principal(first[0], first[1], bool(first[2])), first[3], grants

    def released_requests(
        self, release_id: str | None = None
    ) -> list[tuple[ReleaseRecord, RequestSummary]]:
        """Releases (one, or all) with a summary of their requests, in one query."""
        if release_id is None:
            rows = self._driver_rows(_RELEASED_REQUESTS + _RELEASES_ORDER, ())
        else:
            rows = self._driver_rows(
                _RELEASED_REQUESTS + " WHERE r.id = %s" + _RELEASES_ORDER,
                (release_id,),
            )
        found = []
        for row in rows:
            created_at = _stored_time(row[4])
            assert created_at is not None  # noqa: S101 - NOT NULL column
            found.append(
                (
                    ReleaseRecord(
                        row[0], row[1], row[2], row[3], created_at,
                        _stored_time(row[5]),
                    ),
                    RequestSummary(
                        id=row[1], requester=row[6], purpose=row[7], body=row[8],
                        period=row[9], state=row[10],
                        approvals=tuple(str(p) for p, _ in json.loads(row[11])),
                        evidence=row[12],
                    ),
                )
            )  # fmt: skip
        return found

    def _driver_rows(
        self, sql: str, parameters: tuple[object, ...]
    ) -> list[tuple[Any, ...]]:
        """Run fixed SQL (``%s`` marks) through the driver; every row."""
        if self._dialect != "postgresql":
            sql = sql.replace("%s", "?")
        cursor = self._driver.cursor()
        try:
            cursor.execute(sql, parameters)
            return list(cursor.fetchall())
        finally:
            cursor.close()


class SqlTransaction(SqlReads):
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
        if not _is_row_id(extract_id):
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
        if not _is_row_id(request_id):
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
        if not _is_row_id(grant_id):
            return None
        row = self._connection.execute(
            sa.select(schema.grants).where(schema.grants.c.id == grant_id)
        ).first()
        return None if row is None else _grant(row)

    def revoke_grant(self, grant_id: int, at: datetime) -> None:
        if not _is_row_id(grant_id):
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
