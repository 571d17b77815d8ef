"""Property-based fuzzing of the OpenAPI document with schemathesis.

Every operation is called with generated parameters and bodies (valid and invalid)
by a principal whose role fits the operation: no response may be a 5xx, and every
response must match the schema the document declares for it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance
from schemathesis.core.result import Ok

from api import create_app
from governance.config import Settings
from governance.service import Service
from tests.api.conftest import World, make_world

#: Which role calls each tag's operations.
ROLE_FOR_TAG = {
    "meta": "publisher",
    "requests": "analyst",
    "releases": "downstream",
    "checks": "publisher",
    "audit": "ig_officer",
}


@pytest.fixture
def fuzz_world(tmp_path: Path) -> Iterator[World]:
    settings_ = Settings(home=tmp_path / "home")
    service = Service(settings_)
    service.init()
    yield make_world(service, settings_, tmp_path)
    service.close()


def _fuzz(operation: Any, headers: dict[str, str]) -> Callable[[], None]:
    @given(case=operation.as_strategy())
    @settings(
        max_examples=20,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def call(case: schemathesis.Case[Any]) -> None:
        case.call_and_validate(
            headers=headers, checks=[not_a_server_error, response_schema_conformance]
        )

    return call


def test_no_server_errors_and_responses_match_the_schema(fuzz_world: World) -> None:
    app = create_app(fuzz_world.settings, service=fuzz_world.service)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok)  # not an Err: every operation loads
        operations.append(result.ok())
    assert len(operations) >= 20
    for operation in operations:
        role = ROLE_FOR_TAG[(operation.tags or ["meta"])[0]]
        _fuzz(operation, fuzz_world.auth(role))()
