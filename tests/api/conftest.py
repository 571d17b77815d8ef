"""An API over a store that holds a release, with one principal per role."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api import create_app
from governance.config import Settings
from governance.service import Service
from tests.api_support import released

ROLES = ("admin", "data_manager", "analyst", "ig_officer", "publisher", "downstream")


@dataclass
class World:
    service: Service
    settings: Settings
    tokens: dict[str, str]
    """role -> token of principal ``api-<role>`` (the data manager's is for 7A1)."""
    request_id: int
    release_id: str

    def auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


def make_world(service: Service, settings: Settings, tmp_path: Path) -> World:
    request_id, release_id = released(service, tmp_path, prefix="world")
    admin = service.caller_for("admin")
    tokens = {
        role: service.add_principal(
            admin,
            f"api-{role}",
            role=role,
            body="7A1" if role == "data_manager" else None,
        )
        for role in ROLES
    }
    return World(service, settings, tokens, request_id, release_id)


@pytest.fixture
def world(service: Service, gov_settings: Settings, tmp_path: Path) -> World:
    return make_world(service, gov_settings, tmp_path)


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    app = create_app(world.settings, service=world.service)
    with TestClient(app, raise_server_exceptions=True) as test_client:
        yield test_client
