"""``wresgov protect`` and ``wresgov check``: disclosure control for tables made
anywhere (issue 3's commands for analysts and pipelines)."""

from __future__ import annotations

from pathlib import Path

import click

from commands.context import settings_of


class _SdcProgress:
    """Report long runs on stderr: each stage once, then every tenth of the way."""

    def __init__(self) -> None:
        self.last: dict[str, int] = {}

    def __call__(self, stage: str, fraction: float) -> None:
        tenth = int(max(0.0, min(fraction, 1.0)) * 10)
        if self.last.get(stage, -1) < tenth:
            self.last[stage] = tenth
            click.echo(f"{stage}: {tenth * 10}%", err=True)


#: The disclosure policy both commands apply.
_policy_option = click.option(
    "--policy",
    "policy_ref",
    default="wres-wales",
    show_default=True,
    help="Policy id (file stem) or path.",
)


@click.command("protect")
@click.argument("table", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--structure",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Structure file (YAML or JSON): dimensions, totals, hierarchies.",
)
@_policy_option
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the cleared CSV.",
)
@click.option(
    "--evidence",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the evidence JSON [default: OUT with .evidence.json].",
)
@click.option(
    "--method",
    type=click.Choice(["optimal", "fast", "auto"]),
    help="Override the policy's secondary suppression method.",
)
@click.option(
    "--magnitude",
    metavar="COLUMN",
    help="Protect this magnitude column (e.g. fte); 'count' is then contributors.",
)
@click.option(
    "--decimals", type=click.IntRange(0, 6), help="Decimals shown for magnitudes."
)
@click.option(
    "--percent-of",
    "percent_of",
    multiple=True,
    metavar="DIMENSION",
    help="Add a percent_DIMENSION column: each cell over its parent. Repeatable.",
)
@click.pass_context
def protect_command(
    ctx: click.Context,
    table: Path,
    structure: Path,
    policy_ref: str,
    out: Path,
    evidence: Path | None,
    method: str | None,
    magnitude: str | None,
    decimals: int | None,
    percent_of: tuple[str, ...],
) -> None:
    """Protect TABLE (tidy CSV or XLSX) and write the cleared table and its evidence."""
    # imported here so that other commands do not load numpy and HiGHS
    from governance.errors import TableError
    from governance.sdc.clear import apply
    from governance.sdc.derived import percentages_of
    from governance.sdc.evidence import render_evidence
    from governance.sdc.linked import LinkedSet
    from governance.sdc.policy import load_policy, method_name
    from governance.sdc.structure import load_structure
    from governance.sdc.tidy import load_table

    settings = settings_of(ctx)
    policy = load_policy(policy_ref, policy_dir=settings.policy_dir)
    dimensions = load_structure(structure)
    loaded = load_table(table, dimensions, magnitude=magnitude, decimals=decimals)
    for name in percent_of:
        if name not in {d.name for d in dimensions}:
            raise TableError(f"--percent-of: the structure has no dimension {name!r}")
    derived = [r for name in percent_of for r in percentages_of(loaded, name)]
    cleared = apply(
        LinkedSet([loaded]),
        policy,
        derived=derived,
        method=method_name(method),
        progress=_SdcProgress(),
    )
    evidence = evidence or out.with_name(f"{out.stem}.evidence.json")
    out.write_text(cleared.tables[0].render_csv(), encoding="utf-8")
    evidence.write_text(render_evidence(cleared), encoding="utf-8")
    ev = cleared.evidence
    click.echo(
        f"{out}: {len(cleared.tables[0].cells)} rows, {ev.primary} primary,"
        f" {ev.secondary} secondary ({ev.method_used}); evidence {evidence};"
        f" policy {ev.policy_id} sha256 {ev.policy_sha256[:16]}"
    )


@click.command("check")
@click.argument("table", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--structure",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Structure file; inferred from total rows when left out.",
)
@_policy_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "junit"]),
    default="text",
    show_default=True,
)
@click.pass_context
def check_command(
    ctx: click.Context, table: Path, structure: Path | None, policy_ref: str, fmt: str
) -> None:
    """Check TABLE before publication. Exit 0 safe, 1 unsafe, 2 unusable input."""
    from governance.errors import UserError
    from governance.sdc.check import check_table
    from governance.sdc.check_report import render_json, render_junit, render_text
    from governance.sdc.policy import load_policy
    from governance.sdc.structure import load_structure
    from governance.sdc.tidy import read_tidy

    settings = settings_of(ctx)
    try:
        policy = load_policy(policy_ref, policy_dir=settings.policy_dir)
        dimensions = load_structure(structure) if structure is not None else None
        result = check_table(read_tidy(table), policy, dimensions)
    except UserError as exc:
        click.echo(f"{type(exc).__name__}: {exc}", err=True)
        ctx.exit(2)
    render = {"text": render_text, "json": render_json, "junit": render_junit}
    click.echo(render[fmt](result), nl=False)
    ctx.exit(0 if result.safe else 1)
