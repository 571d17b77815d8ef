"""``wresgov synth`` through the command line: files written, summary printed."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from cli import main

PERIOD = 2026


def test_synth_writes_every_body_and_prints_a_summary(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["synth", "--out", str(tmp_path), "--staff", "400", "--dirty", "0.05"]
    )
    assert result.exit_code == 0, result.output
    assert f"wrote 60 files for 12 bodies to {tmp_path / str(PERIOD)}" in result.output
    assert "(400 people)" in result.output
    assert "faults injected:" in result.output
    faults = json.loads((tmp_path / str(PERIOD) / "RT4" / "faults.json").read_text())
    assert faults["body"] == "RT4"


def test_synth_refuses_a_bad_rate(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["synth", "--out", str(tmp_path), "--dirty", "2"])
    assert result.exit_code == 2
    assert "--dirty" in result.output
    assert not any(tmp_path.iterdir())


def test_synth_clean_run_has_no_faults_file(tmp_path: Path) -> None:
    args = ["synth", "--out", str(tmp_path), "--staff", "200", "--seed", "3"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "faults injected" not in result.output
    assert not list(tmp_path.rglob("faults.json"))
    assert len(list(tmp_path.rglob("*.csv"))) == 60
