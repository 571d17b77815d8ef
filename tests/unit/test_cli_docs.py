"""docs/cli.md is generated from the live ``--help`` of every command.

Regenerate with ``make docs`` (``python -m tests.unit.test_cli_docs --write``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from click.testing import CliRunner

from cli import main

DOC = Path(__file__).resolve().parents[2] / "docs" / "cli.md"

INTRO = """# Command-line reference

Generated from the live `--help` of every command by `make docs`; a test fails when
this page is stale. Every command reads its settings from `WRESGOV_*` variables (see
[configuration.md](configuration.md)). Errors print one line on stderr and exit with
the code of their class (`governance/errors.py`): 10 configuration, 11 policy,
12 ingest rejected, 13 access denied, 14 invalid transition, 15 unusable table,
16 not found, 17 conflict, 18 release, 20 disclosure, 21 audit integrity; 2 for
a usage error (and for `wresgov check` on an unusable table).
"""


def _commands(
    group: click.Group, prefix: list[str]
) -> list[tuple[list[str], click.Command]]:
    found: list[tuple[list[str], click.Command]] = []
    context = click.Context(group)
    for name in group.list_commands(context):
        command = group.get_command(context, name)
        if command is None or command.hidden:
            continue
        found.append(([*prefix, name], command))
        if isinstance(command, click.Group):
            found.extend(_commands(command, [*prefix, name]))
    return found


def render() -> str:
    runner = CliRunner()
    parts = [INTRO]
    top = runner.invoke(main, ["--help"], terminal_width=88, prog_name="wresgov")
    parts.append(f"## wresgov\n\n```\n{top.output.rstrip()}\n```\n")
    for path, _command in _commands(main, []):
        result = runner.invoke(
            main, [*path, "--help"], terminal_width=88, prog_name="wresgov"
        )
        assert result.exit_code == 0, result.output
        title = " ".join(path)
        parts.append(f"## wresgov {title}\n\n```\n{result.output.rstrip()}\n```\n")
    return "\n".join(parts)


def test_cli_reference_is_current() -> None:
    assert DOC.read_text(encoding="utf-8") == render(), (
        "docs/cli.md is stale: run `make docs`"
    )


if __name__ == "__main__":
    if "--write" in sys.argv:
        DOC.write_text(render(), encoding="utf-8")
