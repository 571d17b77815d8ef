"""The ``wresgov`` command line: parse, load settings, call the service, print.

No domain logic lives here. Every ``GovernanceError`` becomes one line on stderr and
its exit code, in one place (:class:`GovernanceGroup`); anything else is a bug.
"""

from __future__ import annotations

import csv
import os
import sys
from pathlib import Path
from typing import Any

import click

from governance.config import Settings, load_settings
from governance.errors import GovernanceError
from governance.extract_format import KINDS, Kind
from governance.logging import configure as configure_logging
from governance.service import IngestResult, Service


class GovernanceGroup(click.Group):
    """Map governance errors to a one-line message and a stable exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except GovernanceError as exc:
            click.echo(f"{type(exc).__name__}: {exc}", err=True)
            ctx.exit(exc.exit_code)


def _settings(ctx: click.Context) -> Settings:
    settings = ctx.find_object(Settings)
    assert settings is not None  # set by the group callback  # noqa: S101
    return settings


@click.group(
    cls=GovernanceGroup, context_settings={"help_option_names": ["-h", "--help"]}
)
@click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    help="State directory (store, keys, reports). Env: WRESGOV_HOME.",
)
@click.version_option(package_name="wresgov")
@click.pass_context
def main(ctx: click.Context, home: Path | None) -> None:
    """wresgov: the governance gate for NHS Wales WRES data."""
    settings = load_settings(os.environ, {"home": home})
    configure_logging(renderer=settings.log_format, level=settings.log_level)
    ctx.obj = settings


# --- foundation: init, synth, ingest, demo ------------------------------------------


@main.command()
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Write DIR/<period>/<body code>/<kind>.csv here.",
)
@click.option(
    "--seed", type=int, default=0, show_default=True, help="Same seed, same bytes."
)
@click.option(
    "--staff",
    type=click.IntRange(0, 10_000_000),
    default=112_105,
    show_default=True,
    help="All-Wales headcount, split between bodies by the reference weights.",
)
@click.option(
    "--period",
    type=click.IntRange(1990, 2100),
    default=2026,
    show_default=True,
    help="WRES year: staff in post at 31 March, activity in the year before.",
)
@click.option(
    "--dirty",
    type=click.FloatRange(0.0, 1.0),
    default=0.0,
    show_default=True,
    help="Share of rows given one realistic fault, listed in <body>/faults.json.",
)
def synth(out_dir: Path, seed: int, staff: int, period: int, dirty: float) -> None:
    """Write synthetic ESR extracts for every NHS Wales body (fictitious people)."""
    from synthetic import generate  # here, so faker loads only when synthesising

    done: dict[str, int] = {}
    with click.progressbar(length=max(staff, 1), label="synth", file=sys.stderr) as bar:

        def advance(org: str, people: int, _total: int) -> None:
            bar.update(people - done.get(org, 0))
            done[org] = people

        summary = generate(
            out_dir,
            seed=seed,
            staff=staff,
            period=period,
            dirty=dirty,
            progress=advance,
        )
    click.echo(
        f"wrote {len(summary.files)} files for {len(summary.headcount)} bodies "
        f"to {out_dir / str(period)} (seed {seed})"
    )
    for kind, rows in summary.rows_by_kind().items():
        people = f" ({summary.staff:,} people)" if kind == "staff" else ""
        click.echo(f"  {kind:<12} {rows:>10,} rows{people}")
    if dirty > 0:
        faults = len(summary.faults())
        click.echo(f"  faults injected: {faults:,} (see <body>/faults.json)")


def _service(ctx: click.Context) -> Service:
    service = Service(_settings(ctx))
    ctx.call_on_close(service.close)
    return service


class _RowProgress:
    """Row counts on stderr while a long ingest runs (only on a terminal)."""

    def __init__(self, label: str, enabled: bool) -> None:
        self.label, self.enabled, self.shown = label, enabled, False

    def __call__(self, rows: int) -> None:
        if self.enabled:
            click.echo(f"\r  {self.label}: {rows:,} rows read", nl=False, err=True)
            self.shown = True

    def done(self) -> None:
        if self.shown:
            click.echo(err=True)


@main.command()
@click.pass_context
def init(ctx: click.Context) -> None:
    """Create the store, the key directory and a master key (safe to rerun)."""
    result = _service(ctx).init()
    click.echo(
        f"store: {result.database} (schema version {result.schema_version})", err=True
    )
    state = "created" if result.created_master_key else "kept existing"
    click.echo(f"keys: {result.key_dir} ({state} master key)", err=True)


@main.command()
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--kind", type=click.Choice(KINDS), required=True, help="Which extract this is."
)
@click.option("--org", required=True, help="Code of the NHS Wales body that sent it.")
@click.option("--period", type=int, required=True, help="WRES year: snapshot 31 March.")
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Show row counts on stderr (default: when stderr is a terminal).",
)
@click.pass_context
def ingest(
    ctx: click.Context,
    file: Path,
    kind: Kind,
    org: str,
    period: int,
    progress: bool | None,
) -> None:
    """Validate, pseudonymise and store one ESR extract, all rows or none."""
    show = sys.stderr.isatty() if progress is None else progress
    meter = _RowProgress(file.name, show)
    try:
        result = _service(ctx).ingest(
            file, kind=kind, org=org, period=period, progress=meter
        )
    finally:
        meter.done()
    _print_ingest(result)


def _print_ingest(result: IngestResult) -> None:
    where = f"{result.org} {result.period} {result.kind}"
    if result.outcome == "unchanged":
        click.echo(f"{where}: unchanged (same content as extract {result.extract_id})")
        return
    if result.outcome == "reactivated":
        click.echo(f"{where}: extract {result.extract_id} is active again")
        return
    click.echo(
        f"{where}: stored extract {result.extract_id}: {result.rows_read:,} rows read, "
        f"{result.rows_accepted:,} accepted, {result.rows_quarantined:,} quarantined"
    )
    if result.superseded is not None:
        click.echo(f"  supersedes extract {result.superseded}")
    if result.report is not None:
        click.echo(f"  quarantine report: {result.report}")
        for field, problem, rows in result.problems:
            click.echo(f"    {field}: {problem} ({rows:,} rows)")


@main.command()
@click.option("--org", help="Only this body.")
@click.option("--period", type=int, help="Only this WRES year.")
@click.pass_context
def extracts(ctx: click.Context, org: str | None, period: int | None) -> None:
    """List ingested extracts: status, rows accepted and quarantined."""
    rows = _service(ctx).extracts(org=org.upper() if org else None, period=period)
    click.echo("id\torg\tperiod\tkind\tstatus\tread\taccepted\tquarantined\tingested")
    for info in rows:
        click.echo(
            f"{info.id}\t{info.org}\t{info.period}\t{info.kind}\t{info.status}\t"
            f"{info.rows_read}\t{info.rows_accepted}\t{info.rows_quarantined}\t"
            f"{info.ingested_at:%Y-%m-%dT%H:%M:%SZ}"
        )


@main.command()
@click.argument("extract_id", type=int)
@click.pass_context
def quarantine(ctx: click.Context, extract_id: int) -> None:
    """Print an extract's quarantine report as CSV (row, field, problem)."""
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["row", "field", "problem"])
    for entry in _service(ctx).quarantine(extract_id):
        writer.writerow([entry.row, entry.field, entry.problem])


# --- disclosure control: protect, check ----------------------------------------------


class _SdcProgress:
    """Report long runs on stderr: each stage once, then every tenth of the way."""

    def __init__(self) -> None:
        self.last: dict[str, int] = {}

    def __call__(self, stage: str, fraction: float) -> None:
        tenth = int(max(0.0, min(fraction, 1.0)) * 10)
        if self.last.get(stage, -1) < tenth:
            self.last[stage] = tenth
            click.echo(f"{stage}: {tenth * 10}%", err=True)


@main.command("protect")
@click.argument("table", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--structure",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Structure file (YAML or JSON): dimensions, totals, hierarchies.",
)
@click.option(
    "--policy",
    "policy_ref",
    default="wres-wales",
    show_default=True,
    help="Policy id (file stem) or path.",
)
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
    from governance.sdc.clear import apply, render_evidence
    from governance.sdc.derived import percentages_of
    from governance.sdc.linked import LinkedSet
    from governance.sdc.policy import load_policy, method_name
    from governance.sdc.structure import load_structure
    from governance.sdc.tidy import load_table

    settings = _settings(ctx)
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


@main.command("check")
@click.argument("table", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--structure",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Structure file; inferred from total rows when left out.",
)
@click.option(
    "--policy",
    "policy_ref",
    default="wres-wales",
    show_default=True,
    help="Policy id (file stem) or path.",
)
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
    from governance.sdc.check import check_table, render_json, render_junit, render_text
    from governance.sdc.policy import load_policy
    from governance.sdc.structure import load_structure
    from governance.sdc.tidy import read_tidy

    settings = _settings(ctx)
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


if __name__ == "__main__":  # pragma: no cover - entry point is the console script
    sys.exit(main())
