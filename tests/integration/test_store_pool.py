"""PostgreSQL connections are pooled and reused; one left idle is checked first."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from governance.config import Settings
from governance.service import Service
from governance.storage import sql
from governance.storage.sql import SqlStore

pytestmark = pytest.mark.postgresql


def _backend_pid(store: SqlStore) -> int:
    with store.reading() as tx:
        return int(
            tx._connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
        )


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
    other = sa.create_engine(store.url_for_workers, poolclass=sa.NullPool)
    with other.connect() as connection:
        connection.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
    other.dispose()
    monkeypatch.setattr(sql, "PING_AFTER", 0.0)
    second = _backend_pid(store)
    assert second != first
    assert _backend_pid(store) == second  # pinged (idle "0 s"), still alive: kept
