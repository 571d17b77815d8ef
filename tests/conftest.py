"""Shared fixtures: settings, stores on each backend, hypothesis profiles.

PostgreSQL tests use the server named by ``WRESGOV_TEST_POSTGRES_URL`` (default: this
machine's ``postgresql://postgres@127.0.0.1:5432/test``), each test in a fresh
schema. They are skipped when no server answers, except under CI (``CI=true``), where
a missing server fails the run.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, settings

from governance.access import Subject
from governance.config import Settings
from governance.logging import configure as configure_logging
from governance.service import Service
from tests.factories import principal

settings.register_profile(
    "dev", max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "ci",
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("nightly", max_examples=2000, deadline=None)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev")
)

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
_pg_state: dict[str, str | None] = {}


def postgres_base_url() -> str | None:
    """The test server's URL, or None when no server answers."""
    if "url" not in _pg_state:
        url = os.environ.get("WRESGOV_TEST_POSTGRES_URL") or DEFAULT_PG_URL
        url = url.replace("postgresql://", "postgresql+psycopg://", 1)
        try:
            engine = sa.create_engine(url, connect_args={"connect_timeout": 3})
            with engine.connect() as connection:
                connection.execute(sa.text("SELECT 1"))
            engine.dispose()
            _pg_state["url"] = url
        except sa.exc.OperationalError:
            _pg_state["url"] = None
    return _pg_state["url"]


def postgres_url_or_skip() -> str:
    url = postgres_base_url()
    if url is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is required under CI but no server answers")
        pytest.skip("no PostgreSQL server (set WRESGOV_TEST_POSTGRES_URL)")
    return url


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped afterwards."""
    base = postgres_url_or_skip()
    name = f"t_{uuid.uuid4().hex[:16]}"
    engine = sa.create_engine(base)
    with engine.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{name}"'))
    separator = "&" if "?" in base else "?"
    yield f"{base}{separator}options={quote(f'-csearch_path={name}')}"
    with engine.begin() as connection:
        connection.execute(sa.text(f'DROP SCHEMA "{name}" CASCADE'))
    engine.dispose()


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)]
)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store' / 'wresgov.db'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def gov_settings(tmp_path: Path, database_url: str) -> Settings:
    (tmp_path / "store").mkdir(exist_ok=True)
    return Settings(home=tmp_path / "home", database_url=database_url)


@pytest.fixture
def service(gov_settings: Settings) -> Iterator[Service]:
    svc = Service(gov_settings)
    svc.init()
    yield svc
    svc.close()


@pytest.fixture
def dm(service: Service) -> Subject:
    """The data manager of Betsi Cadwaladr (7A1)."""
    return principal(service, "dm-7a1", "data_manager", "7A1")


@pytest.fixture
def ig(service: Service) -> Subject:
    """An IG officer."""
    return principal(service, "ig-officer-1", "ig_officer")


@pytest.fixture(autouse=True)
def _strict_logging() -> None:
    """Every log key must be on the allowlist while tests run."""
    configure_logging(renderer="json", strict=True)
