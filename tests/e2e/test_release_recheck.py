"""Every table of a release re-checks with ``wresgov check`` and its structure file."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from cli import main
from governance.release import write_release
from tests.release_support import POLICY, cleared_set, release_info, signing_key


def test_every_released_table_rechecks_with_the_cli(tmp_path: Path) -> None:
    out = tmp_path / "rel"
    cleared = cleared_set(depts=("=cmd", "Ops"))  # neutralised codes too
    write_release(
        out,
        cleared=cleared,
        info=release_info(),
        policy=POLICY,
        signing_key=signing_key(),
    )
    runner = CliRunner()
    for table in cleared.tables:
        result = runner.invoke(
            main,
            [
                "check",
                str(out / "tables" / f"{table.name}.csv"),
                "--structure",
                str(out / "tables" / f"{table.name}.structure.yaml"),
            ],
            env={"WRESGOV_HOME": str(tmp_path / "home")},
            catch_exceptions=False,
        )
        assert result.exit_code == 0, result.output
        assert "'=cmd" in (out / "tables" / f"{table.name}.csv").read_text()
