"""Every endpoint x role through the HTTP API, against the access policy.

0 unexpected allows; every 403 is a denial in the audit log; every endpoint refuses a
missing token with 401, audited too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from governance.access_policy import PERMISSIONS, load_access_policy
from governance.models import AuditQuery
from tests.api.conftest import ROLES, World
from tests.api_support import CHECK_TABLE, PURPOSE, SPEC

Expect = Callable[[str], bool]


def held(*permissions: str) -> Expect:
    """The role holds one of ``permissions`` (all Wales: a body-scoped grant of a
    body-scoped permission does not cover it)."""
    policy = load_access_policy()

    def expected(role: str) -> bool:
        return any(
            p in policy.permissions_of(role)
            and (role != "data_manager" or not PERMISSIONS[p].body_scoped)
            for p in permissions
        )

    return expected


def all_of(*expects: Expect) -> Expect:
    return lambda role: all(e(role) for e in expects)


def creator(permission: str) -> Expect:
    """Actions on one's own request: only a role that creates requests has one."""
    return all_of(held("request.create"), held(permission))


@dataclass(frozen=True)
class Case:
    method: str
    route: str
    """The route's template, as the app declares it."""
    expect: Expect
    target: str = "-"
    """What the path's ``{request_id}`` names: ``own`` draft, ``other`` draft,
    ``checked`` (another's), ``own_checked``."""
    query: str = ""


def _json(case: Case) -> object:
    if case.route == "/v1/requests" and case.method == "POST":
        return {
            "purpose": PURPOSE,
            "period": 2026,
            "tables": [SPEC.model_dump(mode="json")],
        }
    return None


CASES = (
    Case("GET", "/v1/catalogue", held("catalogue.read")),
    Case("GET", "/v1/policies", held("policy.read")),
    Case("GET", "/v1/policies/{policy_id}", held("policy.read")),
    Case("GET", "/v1/requests", held("request.read_any", "request.read_own")),
    Case("POST", "/v1/requests", held("request.create")),
    Case(
        "GET", "/v1/requests/{request_id}",
        lambda r: held("request.read_any")(r) or creator("request.read_own")(r), "own",
    ),
    Case("GET", "/v1/requests/{request_id}", held("request.read_any"), "other"),
    Case("POST", "/v1/requests/{request_id}/submit", creator("request.submit"), "own"),
    Case("POST", "/v1/requests/{request_id}/submit", lambda r: False, "other"),
    Case("POST", "/v1/requests/{request_id}/withdraw", creator("request.withdraw"), "own"),
    Case("POST", "/v1/requests/{request_id}/approve", held("request.review"), "checked"),
    Case("POST", "/v1/requests/{request_id}/reject", held("request.review"), "checked"),
    Case("POST", "/v1/requests/{request_id}/return", held("request.review"), "checked"),
    Case("POST", "/v1/requests/{request_id}/revoke", held("release.revoke"), "checked"),
    Case(
        "POST", "/v1/requests/{request_id}/release", creator("release.export"),
        "own_checked",
    ),
    Case("GET", "/v1/releases", held("release.read")),
    Case("GET", "/v1/releases/{release_id}", held("release.read")),
    Case("GET", "/v1/releases/{release_id}/files/{path:path}", held("release.read")),
    Case("POST", "/v1/checks", held("check.run")),
    Case("GET", "/v1/audit/entries", held("audit.read")),
    Case(
        "GET", "/v1/audit/entries", all_of(held("audit.read"), held("audit.export")),
        query="?format=csv",
    ),
    Case("POST", "/v1/audit/verify", held("audit.verify")),
    Case("POST", "/v1/audit/checkpoints", held("audit.checkpoint")),
    Case("GET", "/v1/audit/report", held("audit.read")),
)  # fmt: skip

#: Routes that need no token.
OPEN_ROUTES = {("GET", "/v1/health")}


def _request_id(world: World, role: str, target: str) -> int:
    service = world.service
    own = target in ("own", "own_checked") and held("request.create")(role)
    requester = service.caller_for(f"api-{role}" if own else "world-analyst")
    info = service.create_request(
        requester, purpose=PURPOSE, period=2026, tables=[SPEC]
    )
    if target in ("checked", "own_checked"):
        info = service.submit_request(requester, info.id)
    return info.id


def _path(world: World, role: str, case: Case) -> str:
    path = case.route.replace("{policy_id}", "wres-wales")
    path = path.replace("{release_id}", world.release_id).replace(
        "{path}", "manifest.json"
    )
    if "{request_id}" in path:
        path = path.replace("{request_id}", str(_request_id(world, role, case.target)))
    return path + case.query


def _send(client: TestClient, world: World, role: str | None, case: Case) -> int:
    path = _path(world, role or "analyst", case)
    headers = world.auth(role) if role else {}
    if case.route == "/v1/checks":
        response = client.post(
            path, headers=headers, files={"table": ("t.csv", CHECK_TABLE, "text/csv")}
        )
    else:
        response = client.request(case.method, path, headers=headers, json=_json(case))
    assert response.status_code < 500, (case, response.text)
    if response.status_code in (401, 403):
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["status"] == response.status_code
    return response.status_code


@pytest.mark.parametrize("role", ROLES)
def test_every_endpoint_for_every_role(
    client: TestClient, world: World, role: str
) -> None:
    unexpected, denials = [], 0
    for case in CASES:
        status = _send(client, world, role, case)
        assert status != 401, case
        allowed = status != 403
        denials += not allowed
        if allowed != case.expect(role):
            verb = "allowed" if allowed else "denied"
            unexpected.append(
                f"{role} {case.method} {case.route} {case.target}: {verb}"
            )
    assert unexpected == []
    ig = world.service.caller_for("world-ig-1")
    recorded = world.service.audit_log(
        ig, AuditQuery(principal=f"api-{role}", outcome="deny")
    )
    assert len(recorded) == denials
    assert all('"reason":' in entry.detail for entry in recorded)


def test_every_endpoint_refuses_a_missing_token_and_audits_it(
    client: TestClient, world: World
) -> None:
    ig = world.service.caller_for("world-ig-1")
    query = AuditQuery(action="authenticate", outcome="deny")
    before = len(world.service.audit_log(ig, query))
    for case in CASES:
        assert _send(client, world, None, case) == 401, case
    after = len(world.service.audit_log(ig, query))
    assert after - before == len(CASES)


def test_the_matrix_covers_every_route(client: TestClient) -> None:
    routes: set[tuple[str, str]] = set()
    for route in client.app.routes:  # type: ignore[attr-defined]
        if isinstance(route, APIRoute):
            assert route.methods is not None  # an APIRoute always has its methods
            routes |= {(method, route.path) for method in route.methods}
    covered = {(case.method, case.route) for case in CASES} | OPEN_ROUTES
    assert routes - covered == set()
    assert covered - routes == set()
