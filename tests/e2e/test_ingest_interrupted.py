"""Killing an ingest part-way leaves the store as it was; a rerun completes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from governance.config import Settings
from governance.service import Service
from tests.factories import extract_text, make_row, store_snapshot

ROWS = 120_000


def test_kill_part_way_then_rerun(gov_settings: Settings, tmp_path: Path) -> None:
    service = Service(gov_settings)
    admin_token = service.init().admin_token
    assert admin_token is not None
    token = service.add_principal(
        service.authenticate(admin_token), "dm-7a1", role="data_manager", body="7A1"
    )
    before = store_snapshot(service)
    path = tmp_path / "big-staff.csv"
    path.write_text(extract_text("staff", [make_row("staff", i) for i in range(ROWS)]))

    env = dict(os.environ)
    env.update(
        WRESGOV_HOME=str(gov_settings.home),
        WRESGOV_DATABASE_URL=str(gov_settings.database_url),
        WRESGOV_TOKEN=token,
    )
    command = [
        sys.executable, "-c", "import cli; cli.main()",
        "ingest", str(path), "--kind", "staff", "--org", "7A1", "--period", "2026",
        "--progress",
    ]  # fmt: skip
    with subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    ) as process:
        assert process.stderr is not None
        seen = b""
        deadline = time.monotonic() + 60
        # Wait until at least two batches have gone into the open transaction.
        while b"10,000 rows read" not in seen and time.monotonic() < deadline:
            chunk = os.read(process.stderr.fileno(), 4096)
            if not chunk:
                break
            seen += chunk
        assert b"10,000 rows read" in seen, seen[-500:]
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL

    assert store_snapshot(service) == before

    result = service.ingest(
        service.authenticate(token), path, kind="staff", org="7A1", period=2026
    )
    assert (result.rows_read, result.rows_accepted, result.rows_quarantined) == (
        ROWS,
        ROWS,
        0,
    )
    with service.store.transaction() as tx:
        assert tx.count_records("staff", result.extract_id) == ROWS
        assert len(tx.extracts()) == 1
    service.close()
