"""PostgreSQL connections are pooled and reused; one left idle is checked first."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa

from governance.config import Settings
from governance.errors import ConfigError
from governance.service import Service
from governance.storage import sql
from governance.storage.sql import SqlStore

pytestmark = pytest.mark.postgresql


def _backend_pid(store: SqlStore) -> int:
    with store.reading() as tx:
        return int(tx._driver_rows("SELECT pg_backend_pid()", ())[0][0])


@pytest.fixture
def store(pg_url: str, tmp_path: Path) -> Iterator[SqlStore]:
    service = Service(Settings(home=tmp_path, database_url=pg_url))
    service.init()
    service.close()
    store = SqlStore(pg_url)
    yield store
    store.dispose()


def test_a_busy_connection_is_reused_without_a_ping(
    store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    pings: list[object] = []
    monkeypatch.setattr(store.engine.dialect, "do_ping", pings.append)
    first = _backend_pid(store)
    assert _backend_pid(store) == first
    assert pings == []


def test_an_idle_connection_closed_by_the_server_is_replaced(
    store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _backend_pid(store)
    _terminate(store, first)
    monkeypatch.setattr(sql, "PING_AFTER", 0.0)
    second = _backend_pid(store)
    assert second != first
    assert _backend_pid(store) == second  # pinged (idle "0 s"), still alive: kept


def _terminate(store: SqlStore, pid: int) -> None:
    other = sa.create_engine(store.url_for_workers, poolclass=sa.NullPool)
    with other.connect() as connection:
        connection.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    other.dispose()


def test_a_connection_lost_during_a_read_is_a_config_error_and_replaced(
    store: SqlStore,
) -> None:
    first = _backend_pid(store)

    def read_after_losing_it() -> None:
        with store.reading() as tx:
            _terminate(store, first)
            tx.principal_by_token("abcdefgh")

    with pytest.raises(ConfigError, match="database error"):
        read_after_losing_it()
    assert _backend_pid(store) != first


def test_a_failed_read_is_raised_and_its_connection_dropped(store: SqlStore) -> None:
    first = _backend_pid(store)
    with pytest.raises(psycopg.errors.UndefinedColumn), store.reading() as tx:
        tx._driver_rows("SELECT no_such_column FROM principals", ())
    assert _backend_pid(store) != first


def test_a_refusal_inside_a_read_keeps_the_connection(store: SqlStore) -> None:
    first = _backend_pid(store)

    def refuse() -> None:
        with store.reading() as tx:
            if tx.principal_by_token("abcdefgh") is None:
                raise LookupError

    with pytest.raises(LookupError):
        refuse()
    assert _backend_pid(store) == first
    with store.transaction() as tx:  # lent back out of autocommit
        assert not tx._connection.connection.driver_connection.autocommit  # type: ignore[union-attr]
