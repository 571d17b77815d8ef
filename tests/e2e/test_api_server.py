"""The HTTP API as deployed: `wresgov serve` in its own process on 127.0.0.1.

An analyst requests tables, two IG officers approve, the analyst releases them, a
downstream tool downloads every file over HTTP and verifies the signed manifest
offline; then the audit chain verifies, with every call in it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx2 as httpx
import pytest

from governance.config import Settings
from governance.models import AuditQuery
from governance.release_verify import verify_release
from governance.service import Service
from tests.api_support import PURPOSE, SPEC, ingest_staff


@dataclass
class Server:
    url: str
    tokens: dict[str, str]
    service: Service


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server(gov_settings: Settings, tmp_path: Path) -> Iterator[Server]:
    service = Service(gov_settings)
    service.init()
    ingest_staff(service, tmp_path, prefix="e2e")
    admin = service.caller_for("admin")
    tokens = {
        name: service.add_principal(admin, name, role=role)
        for name, role in (
            ("analyst", "analyst"),
            ("ig-1", "ig_officer"),
            ("ig-2", "ig_officer"),
            ("tool", "downstream"),
        )
    }
    port = _free_port()
    env = dict(os.environ)
    env.update(
        WRESGOV_HOME=str(gov_settings.home),
        WRESGOV_DATABASE_URL=str(gov_settings.database_url),
    )
    command = [
        sys.executable, "-c", "import cli; cli.main()", "serve", "--port", str(port),
    ]  # fmt: skip
    with subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    ) as process:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:  # pragma: no cover - only when the server fails to start
            process.kill()
            pytest.fail(f"server did not start: {process.communicate()[1][-2000:]!r}")
        try:
            yield Server(url, tokens, service)
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:  # pragma: no cover
                process.kill()
            service.close()


def _client(server: Server, name: str) -> httpx.Client:
    return httpx.Client(
        base_url=server.url,
        headers={"Authorization": f"Bearer {server.tokens[name]}"},
        timeout=60,
    )


def test_request_approve_download_verify(server: Server, tmp_path: Path) -> None:
    with _client(server, "analyst") as analyst:
        made = analyst.post(
            "/v1/requests",
            json={
                "purpose": PURPOSE,
                "period": 2026,
                "tables": [SPEC.model_dump(mode="json")],
                "submit": True,
            },
        )
        assert made.status_code == 201, made.text
        request_id = made.json()["id"]
        assert made.json()["state"] == "checked"
        for officer in ("ig-1", "ig-2"):
            with _client(server, officer) as ig:
                approved = ig.post(f"/v1/requests/{request_id}/approve")
                assert approved.status_code == 200, approved.text
        assert approved.json()["state"] == "approved"
        own = analyst.post(f"/v1/requests/{request_id}/approve")
        assert own.status_code == 403  # nobody approves their own request
        released = analyst.post(f"/v1/requests/{request_id}/release")
        assert released.status_code == 201, released.text
        release = released.json()

    out = tmp_path / "downloaded"
    with _client(server, "tool") as tool:
        listing = tool.get("/v1/releases").json()
        assert release["id"] in {r["id"] for r in listing}
        files = tool.get(f"/v1/releases/{release['id']}").json()["files"]
        for item in files:
            response = tool.get(item["url"])
            assert response.status_code == 200, item["path"]
            assert response.headers["etag"] == f'"{item["sha256"]}"'
            target = out / item["path"]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(response.content)
    trusted = [server.service.signing_key("release").public_key]
    result = verify_release(out, trusted)
    assert result.ok, result.problems
    # A changed byte in what was downloaded fails the offline verification.
    table = out / "tables" / f"{SPEC.name}.csv"
    table.write_bytes(table.read_bytes().replace(b"<10", b"<11", 1))
    assert not verify_release(out, trusted).ok

    with _client(server, "ig-1") as ig:
        verified = ig.post("/v1/audit/verify").json()
        assert verified["ok"] is True, verified
        downloads = ig.get(
            "/v1/audit/entries", params={"principal": "tool", "action": "release.read"}
        ).json()
        assert len(downloads) == len(files) + 2  # the listing, the release, each file


def test_unauthenticated_calls_are_refused_and_audited(server: Server) -> None:
    response = httpx.get(f"{server.url}/v1/releases", timeout=10)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    ig = server.service.caller_for("ig-1")
    denied = server.service.audit_log(ig, AuditQuery(action="authenticate"))
    assert [e.outcome for e in denied] == ["deny"]
