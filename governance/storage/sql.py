"""SQLAlchemy implementation of the store, for SQLite (default) and PostgreSQL.

``SqlStore`` owns the engine, its pool and the connection set-up; one
transaction's reads and writes are in ``transaction`` and the API's driver-level
reads in ``reads``. ``governance.storage`` is the only package that imports
SQLAlchemy. SQLite transactions start with ``BEGIN IMMEDIATE`` so writers are
serialised and a transaction never fails to upgrade its lock half-way; the database
runs in WAL mode with foreign keys on.
Records are bulk-written with the driver's fastest path (``executemany`` on SQLite,
``COPY`` on PostgreSQL) inside the caller's transaction, so an interrupted ingest
leaves nothing behind.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import (
    ArgumentError,
    DataError,
    DisconnectionError,
    OperationalError,
    SQLAlchemyError,
)

from audit import (
    ENTRY_FIELDS,
    ChainHead,
)
from governance.errors import ConfigError, UserError
from governance.storage import schema
from governance.storage.reads import SqlReads
from governance.storage.transaction import SqlTransaction

#: The input error for a value the database cannot store or compare (PostgreSQL's
#: text holds no NUL character); it never quotes the value.
UNSTORABLE: Final = (
    "a value given cannot be stored or compared by the database"
    " (a control character such as NUL?)"
)


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
        """Turn the driver's operational errors into one line naming the store, and
        a value the database cannot take into an input error (never the driver's
        message, which can quote values)."""
        try:
            yield
        except DataError:
            raise UserError(UNSTORABLE) from None
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
        except errors.DataError:
            # a value the database cannot take; in autocommit the connection is
            # as good as before, so it goes back to the pool
            raise UserError(UNSTORABLE) from None
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
