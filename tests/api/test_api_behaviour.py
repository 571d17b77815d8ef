"""What API clients rely on: problems, ETags, limits, timeouts, exports, checks."""

from __future__ import annotations

import gc
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api import create_app
from api.app import ready_to_serve
from audit import AuditEntry, verify
from governance.models import AuditQuery
from tests.api.conftest import World
from tests.api_support import CHECK_TABLE, PURPOSE, SPEC, UNSAFE_TABLE

PROBLEM = "application/problem+json"


def _client(world: World, **settings: object) -> TestClient:
    changed = world.settings.model_copy(update=settings)
    return TestClient(create_app(changed, service=world.service))


def test_health_needs_no_token(client: TestClient) -> None:
    response = client.get("/v1/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["schema_version"] >= 1


@pytest.mark.parametrize(
    "header",
    [
        "",
        "Bearer",
        "Bearer wgv_not-a-token",
        "Basic dXNlcjpwYXNz",
        "Bearer " + "x" * 500,
    ],
)
def test_a_bad_token_is_a_401_problem(client: TestClient, header: str) -> None:
    response = client.get("/v1/catalogue", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["www-authenticate"] == "Bearer"
    body = response.json()
    assert body["type"].endswith("#unauthenticated") and body["status"] == 401
    assert "x" * 20 not in response.text  # the presented token is never echoed


def test_an_unknown_route_is_a_problem(client: TestClient) -> None:
    response = client.get("/v1/nothing-here")
    assert (response.status_code, response.headers["content-type"]) == (404, PROBLEM)


def test_validation_errors_never_echo_the_input(
    client: TestClient, world: World
) -> None:
    canary = "AB123456C"  # an NI number in the wrong place
    response = client.post(
        "/v1/requests",
        headers=world.auth("analyst"),
        json={"purpose": canary, "period": canary, "tables": [{"name": canary}]},
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert canary not in response.text
    assert {e["loc"] for e in response.json()["errors"]} >= {
        "body.purpose",
        "body.period",
    }


def test_tables_or_pack_not_both(client: TestClient, world: World) -> None:
    body = {
        "purpose": PURPOSE,
        "period": 2026,
        "tables": [SPEC.model_dump(mode="json")],
        "pack": "wres-representation",
    }
    response = client.post("/v1/requests", headers=world.auth("analyst"), json=body)
    assert response.status_code == 422
    assert "exactly one" in response.json()["detail"]


def test_a_pack_request_is_submitted_and_checked(
    client: TestClient, world: World
) -> None:
    body = {
        "purpose": PURPOSE,
        "period": 2026,
        "pack": "wres-representation",
        "submit": True,
    }
    response = client.post("/v1/requests", headers=world.auth("analyst"), json=body)
    assert response.status_code == 201, response.text
    made = response.json()
    assert made["state"] == "checked" and made["pack"] == "wres-representation"
    assert made["evidence"] in {"pass", "needs_review", "fail"}
    assert made["evidence_detail"]["outcome"] == made["evidence"]


def test_download_with_etag_and_304(client: TestClient, world: World) -> None:
    auth = world.auth("downstream")
    release = client.get(f"/v1/releases/{world.release_id}", headers=auth).json()
    files = {f["path"]: f for f in release["files"]}
    assert {"manifest.json", "manifest.sig", "tables/staff_by_group.csv"} <= set(files)
    url = files["tables/staff_by_group.csv"]["url"]
    first = client.get(url, headers=auth)
    assert first.status_code == 200
    assert first.headers["etag"] == f'"{files["tables/staff_by_group.csv"]["sha256"]}"'
    assert first.headers["content-type"].startswith("text/csv")
    assert first.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in first.headers["content-security-policy"]
    assert first.headers["content-disposition"].startswith("attachment;")
    assert "<10" in first.text
    again = client.get(url, headers={**auth, "If-None-Match": first.headers["etag"]})
    assert (again.status_code, again.content) == (304, b"")
    other = client.get(url, headers={**auth, "If-None-Match": '"0000"'})
    assert other.status_code == 200


def test_a_file_changed_on_disk_is_refused(client: TestClient, world: World) -> None:
    auth = world.auth("analyst")
    record = client.get(f"/v1/releases/{world.release_id}", headers=auth).json()
    directory = Path(world.settings.resolved_release_dir) / world.release_id
    target = directory / "tables" / "staff_by_group.csv"
    url = f"/v1/releases/{world.release_id}/files/tables/staff_by_group.csv"
    assert client.get(url, headers=auth).status_code == 200  # now held in memory
    target.write_text(target.read_text().replace("<10", "6"))
    response = client.get(url, headers=auth)
    assert response.status_code == 409
    assert response.json()["type"].endswith("#release-unavailable")
    assert ",6," not in response.text
    assert record["files"]  # the listing worked before the change


def test_paths_outside_the_manifest_are_not_served(
    client: TestClient, world: World
) -> None:
    auth = world.auth("analyst")
    base = f"/v1/releases/{world.release_id}/files/"
    for path in ("../../wresgov.db", "keys/master.key", "nothing.csv", "%2e%2e/x"):
        assert client.get(base + path, headers=auth).status_code == 404, path


def test_a_release_id_of_other_characters_is_refused_before_the_store(
    client: TestClient, world: World
) -> None:
    # A NUL cannot be stored in PostgreSQL text: it must never reach the database
    for bad in ("R1%00x", "R1%20x", "%E2%80%AEx"):
        response = client.get(f"/v1/releases/{bad}", headers=world.auth("analyst"))
        assert response.status_code == 422, bad
        assert "\x00" not in response.text


def test_a_value_the_database_cannot_take_is_invalid_input(
    client: TestClient, world: World
) -> None:
    # PostgreSQL text holds no NUL: a filter or a purpose with one is the caller's
    # error (422, never quoting it), not the server's, and nothing is written.
    ig, analyst = world.auth("ig_officer"), world.auth("analyst")
    for params in ({"principal": "a\x00b"}, {"action": "x\x00"}):
        response = client.get("/v1/audit/entries", headers=ig, params=params)
        assert response.status_code in (200, 422), params  # SQLite compares it
        assert "\x00" not in response.text
    before = client.get("/v1/requests", headers=analyst).json()
    body = {"purpose": "Annual WRES tables\x00 for the board", "period": 2026,
            "pack": "wres-representation"}  # fmt: skip
    response = client.post("/v1/requests", headers=analyst, json=body)
    assert response.status_code == 422  # it would go on every audit entry
    assert response.json()["type"].endswith("invalid-input")
    assert "\x00" not in response.text
    assert client.get("/v1/requests", headers=analyst).json() == before


def test_a_revoked_release_is_no_longer_served(
    client: TestClient, world: World
) -> None:
    revoke = client.post(
        f"/v1/requests/{world.request_id}/revoke", headers=world.auth("ig_officer")
    )
    assert revoke.status_code == 200 and revoke.json()["state"] == "revoked"
    auth = world.auth("downstream")
    listing = client.get("/v1/releases", headers=auth).json()
    assert world.release_id not in {r["id"] for r in listing}
    response = client.get(f"/v1/releases/{world.release_id}", headers=auth)
    assert response.status_code == 403
    assert response.json()["reason"] == "not_released"


def test_checks_report_safe_and_unsafe(client: TestClient, world: World) -> None:
    auth = world.auth("publisher")
    safe = client.post(
        "/v1/checks", headers=auth, files={"table": ("t.csv", CHECK_TABLE, "text/csv")}
    )
    assert safe.status_code == 200 and safe.json()["safe"] is True
    unsafe = client.post(
        "/v1/checks", headers=auth, files={"table": ("t.csv", UNSAFE_TABLE, "text/csv")}
    )
    assert unsafe.status_code == 200 and unsafe.json()["safe"] is False
    assert unsafe.json()["findings"]
    garbage = client.post(
        "/v1/checks",
        headers=auth,
        files={"table": ("t.csv", b"\xff\xfe\x00", "text/csv")},
    )
    assert garbage.status_code == 422
    ig = world.service.caller_for("world-ig-1")
    checks = world.service.audit_log(ig, AuditQuery(action="check.run"))
    assert [json.loads(e.detail)["safe"] for e in checks] == [True, False]


def test_bodies_over_the_limit_are_refused(world: World) -> None:
    with _client(world, api_max_body=2048) as client:
        big = "dept,grade,display\n" + "A,B,10\n" * 1000
        response = client.post(
            "/v1/checks",
            headers=world.auth("publisher"),
            files={"table": ("t.csv", big, "text/csv")},
        )
        assert (response.status_code, response.headers["content-type"]) == (
            413,
            PROBLEM,
        )


def test_each_token_is_rate_limited(world: World) -> None:
    with _client(world, api_rate_limit=3) as client:
        statuses = [
            client.get("/v1/catalogue", headers=world.auth("analyst")).status_code
            for _ in range(4)
        ]
        assert statuses == [200, 200, 200, 429]
        limited = client.get("/v1/catalogue", headers=world.auth("analyst"))
        assert int(limited.headers["retry-after"]) >= 1
        # another token has its own bucket
        assert client.get("/v1/catalogue", headers=world.auth("ig_officer")).is_success


def test_a_slow_call_times_out_with_a_problem(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = world.service.catalogue

    def slow(caller: object) -> object:
        time.sleep(0.5)
        return real(caller)  # type: ignore[arg-type]

    monkeypatch.setattr(world.service, "catalogue", slow)
    with _client(world, api_timeout=0.05) as client:
        response = client.get("/v1/catalogue", headers=world.auth("analyst"))
    assert response.status_code == 503
    assert response.json()["type"].endswith("#timeout")


def test_audit_export_formats_verify_offline(client: TestClient, world: World) -> None:
    auth = world.auth("ig_officer")
    listed = client.get("/v1/audit/entries", headers=auth, params={"limit": 5})
    assert listed.status_code == 200 and len(listed.json()) == 5
    csv_text = client.get("/v1/audit/entries?format=csv", headers=auth).text
    assert csv_text.startswith("seq,time,principal,role,action")
    lines = client.get("/v1/audit/entries?format=jsonl", headers=auth).text.splitlines()
    entries = [AuditEntry.from_export(json.loads(line)) for line in lines]
    assert verify(entries).ok
    denied = client.get(
        "/v1/audit/entries", headers=world.auth("analyst"), params={"outcome": "deny"}
    )
    assert denied.status_code == 403


def test_verify_checkpoint_and_report(client: TestClient, world: World) -> None:
    auth = world.auth("ig_officer")
    checkpoint = client.post("/v1/audit/checkpoints", headers=auth)
    assert checkpoint.status_code == 201
    verified = client.post("/v1/audit/verify", headers=auth).json()
    assert verified["ok"] is True and verified["checkpoints"] >= 2
    assert verified["entries"] == verified["stored_size"]
    report = client.get("/v1/audit/report", headers=auth).json()
    assert report["entries"] > 0 and report["activity"]


def test_policies_and_catalogue(client: TestClient, world: World) -> None:
    auth = world.auth("publisher")
    policies = {p["id"]: p for p in client.get("/v1/policies", headers=auth).json()}
    assert policies["wres-wales"]["kind"] == "disclosure"
    assert policies["access"]["kind"] == "access"
    one = client.get("/v1/policies/wres-wales", headers=auth).json()
    assert (
        one["sha256"] == policies["wres-wales"]["sha256"] and "min_count" in one["text"]
    )
    assert client.get("/v1/policies/nope", headers=auth).status_code == 404
    catalogue = client.get("/v1/catalogue", headers=auth).json()
    assert "wres-representation" in catalogue["packs"] and catalogue["indicators"]


def test_the_catalogue_is_encoded_once_and_every_read_audited(
    client: TestClient, world: World
) -> None:
    def reads() -> int:
        query = AuditQuery(action="policy.read", resource="catalogue")
        with world.service.store.transaction() as tx:
            return len(tx.audit_entries(query))

    before = reads()
    auth = world.auth("publisher")
    first, second = (client.get("/v1/catalogue", headers=auth) for _ in range(2))
    assert first.status_code == second.status_code == 200
    assert first.headers["content-type"] == "application/json"
    assert first.content == second.content
    assert reads() == before + 2
    denied = client.get("/v1/catalogue", headers=world.auth("downstream"))
    assert denied.status_code == 403 and b"indicators" not in denied.content


def test_a_revoked_token_fails_on_its_very_next_request(
    client: TestClient, world: World
) -> None:
    admin = world.service.caller_for("admin")
    token = world.service.add_principal(admin, "short-lived", role="downstream")
    auth = {"Authorization": f"Bearer {token}"}
    url = f"/v1/releases/{world.release_id}/files/manifest.json"
    assert client.get(url, headers=auth).status_code == 200
    world.service.revoke_principal(admin, "short-lived")
    refused = client.get(url, headers=auth)
    assert (
        refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"
    )
    query = AuditQuery(action="authenticate", outcome="deny")
    with world.service.store.transaction() as tx:
        last = tx.audit_entries(query)[-1]
    assert json.loads(last.detail)["reason"] == "unknown_token"


def test_a_served_app_has_its_start_up_objects_frozen(world: World) -> None:
    app = create_app(world.settings, service=world.service)
    try:
        assert ready_to_serve(app) is app
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()  # the test process's objects back to the collector


def test_a_streamed_body_is_cut_off_at_the_limit(world: World) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(10):
            yield b"x" * 1024

    with _client(world, api_max_body=4096) as client:
        response = client.post(
            "/v1/requests",
            headers={**world.auth("analyst"), "Content-Type": "application/json"},
            content=chunks(),
        )
        assert (response.status_code, response.headers["content-type"]) == (
            413,
            PROBLEM,
        )
        small = client.post(
            "/v1/requests",
            headers={**world.auth("analyst"), "Content-Type": "application/json"},
            content=iter([b"{}"]),
        )
        assert small.status_code == 422  # read in full, then refused as invalid
