"""Identifier canaries planted in extracts never reach the store, logs or output."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from audit import canonical_json
from cli import main
from governance.config import Settings
from governance.models import AuditQuery
from governance.service import Service
from tests.factories import make_row, store_snapshot, write_extract

CANARIES = {
    "forename": "Zyxcanaryforename",
    "surname": "Qwvcanarysurname",
    "title": "Canarytitle",
    "employee_number": "97531864",
    "assignment_number": "97531864-7",
    "ni_number": "JW975318C",
    "date_of_birth": "13/11/1971",
}
DOB_FORMS = ("1971-11-13", "13/11/1971", "19711113")


def planted_rows() -> list[dict[str, str]]:
    rows = [make_row("staff", i) for i in range(80)]
    rows[7].update(CANARIES)
    # A second canary row that fails validation: its values must not leak into the
    # quarantine report or the messages either.
    rows[8].update(
        {**CANARIES, "employee_number": "86420975", "ethnic_origin": "Canaryethnic"}
    )
    return rows


def needles() -> list[bytes]:
    values = [v for k, v in CANARIES.items() if k != "date_of_birth"]
    values += [*DOB_FORMS, "86420975", "Canaryethnic"]
    return [v.encode() for v in values] + [v.upper().encode() for v in values]


def assert_clean(text: bytes, where: str) -> None:
    lowered = text.lower()
    for needle in needles():
        assert needle.lower() not in lowered, f"{needle!r} found in {where}"


def test_canaries_never_leak(gov_settings: Settings, tmp_path: Path) -> None:
    extract = write_extract(tmp_path / "staff.csv", "staff", planted_rows())
    env = {
        "WRESGOV_HOME": str(gov_settings.home),
        "WRESGOV_DATABASE_URL": str(gov_settings.database_url),
        "WRESGOV_LOG_LEVEL": "debug",
        "WRESGOV_LOG_FORMAT": "json",
    }
    runner = CliRunner()
    outputs = []
    init = runner.invoke(main, ["init"], env=env, catch_exceptions=False)
    assert init.exit_code == 0, init.output
    outputs.append(init.stderr_bytes)
    add = runner.invoke(
        main,
        ["principal", "add", "dm-7a1", "--role", "data_manager", "--org", "7A1"],
        env={**env, "WRESGOV_TOKEN": init.stdout.strip()},
        catch_exceptions=False,
    )
    assert add.exit_code == 0, add.output
    env["WRESGOV_TOKEN"] = add.stdout.strip()
    for args in (
        ["ingest", str(extract), "--kind", "staff", "--org", "7A1", "--period", "2026"],
        ["extracts", "--org", "7A1"],
        ["quarantine", "1"],
    ):
        result = runner.invoke(main, args, env=env, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        outputs.append(result.stdout_bytes + result.stderr_bytes)
    assert b"quarantined" in outputs[1]
    assert b"extract_ingested" in outputs[1], "the operational log was captured"
    ig = Service(gov_settings)
    try:
        admin = ig.caller_for("admin")
        ig.add_principal(admin, "ig-1", role="ig_officer")
        exported = [
            canonical_json(entry.to_export())
            for entry in ig.audit_log(ig.caller_for("ig-1"), AuditQuery())
        ]
    finally:
        ig.close()
    assert_clean(b"\n".join(exported), "the audit log")
    for number, output in enumerate(outputs):
        assert_clean(output, f"CLI output {number}")

    reports = list((gov_settings.home / "reports").glob("*.csv"))
    assert reports
    for report in reports:
        assert_clean(report.read_bytes(), report.name)

    service = Service(gov_settings)
    try:
        snapshot = store_snapshot(service)
        assert snapshot["staff_records"], "the clean rows were stored"
        assert_clean(repr(snapshot).encode(), "the store's rows")
    finally:
        service.close()
    if str(gov_settings.database_url).startswith("sqlite"):
        store_dir = Path(
            str(gov_settings.database_url).removeprefix("sqlite:///")
        ).parent
        files = [p for p in store_dir.iterdir() if p.is_file()]
        assert files
        master = (gov_settings.resolved_key_dir / "master.key").read_bytes()
        for path in files:
            assert_clean(path.read_bytes(), path.name)
            data = path.read_bytes()
            assert master not in data and master.hex().encode() not in data, path
