"""The ``wresgov`` command line: parse, load settings, call the service, print.

This module is the entry point and holds the foundation commands (init, synth,
ingest, demo, extracts, quarantine) and ``serve``; the other groups live in
``commands/`` and are added to :func:`main` at the end. No domain logic lives here. Every ``GovernanceError`` becomes one line on stderr and
its exit code, in one place (:class:`GovernanceGroup`); anything else is a bug.
"""

from __future__ import annotations

import csv
import os
import sys
from pathlib import Path
from typing import Any

import click

from commands.access import grant, principal
from commands.audit_log import audit
from commands.context import authenticate, open_service, settings_of
from commands.releases import release, request
from commands.tables import check_command, protect_command
from governance.config import load_settings
from governance.errors import GovernanceError
from governance.extract_format import KINDS, Kind
from governance.logging import configure as configure_logging
from governance.service import IngestResult


class GovernanceGroup(click.Group):
    """Map governance errors to a one-line message and a stable exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except GovernanceError as exc:
            click.echo(f"{type(exc).__name__}: {exc}", err=True)
            ctx.exit(exc.exit_code)


@click.group(
    cls=GovernanceGroup, context_settings={"help_option_names": ["-h", "--help"]}
)
@click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    help="State directory (store, keys, reports). Env: WRESGOV_HOME.",
)
@click.option(
    "--token",
    envvar="WRESGOV_TOKEN",
    show_envvar=True,
    help="Your access token (prefer the environment variable to the command line).",
)
@click.version_option(package_name="wresgov")
@click.pass_context
def main(ctx: click.Context, home: Path | None, token: str | None) -> None:
    """wresgov: the governance gate for NHS Wales WRES data."""
    settings = load_settings(os.environ, {"home": home})
    configure_logging(renderer=settings.log_format, level=settings.log_level)
    ctx.obj = settings
    ctx.meta["wresgov.token"] = token


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
@click.option(
    "--admin",
    default="admin",
    show_default=True,
    help="Name of the first admin, created when the store has no principal.",
)
@click.pass_context
def init(ctx: click.Context, admin: str) -> None:
    """Create the store, keys and the first admin (safe to rerun).

    The first admin's token is printed once, alone on stdout, so a script can
    capture it; everything else goes to stderr.
    """
    result = open_service(ctx).init(admin)
    click.echo(
        f"store: {result.database} (schema version {result.schema_version})", err=True
    )
    state = "created" if result.created_master_key else "kept existing"
    click.echo(f"keys: {result.key_dir} ({state} master key)", err=True)
    if result.admin_token is not None:
        click.echo(
            f"first admin {admin!r} created; its token follows (shown once)", err=True
        )
        click.echo(result.admin_token)


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
    service = open_service(ctx)
    caller = authenticate(ctx, service)
    try:
        result = service.ingest(
            caller, file, kind=kind, org=org, period=period, progress=meter
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
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    help="New directory for everything the demo writes (default: a new one here).",
)
@click.option(
    "--staff",
    type=click.IntRange(min=1),
    default=112_105,
    show_default=True,
    help="All-Wales synthetic headcount.",
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--dirty",
    type=click.FloatRange(0.0, 0.02),
    default=0.0,
    show_default=True,
    help="Share of rows given a realistic fault (quarantined at ingest).",
)
def demo(directory: Path | None, staff: int, seed: int, dirty: float) -> None:
    """Run the annual cycle on synthetic data in a fresh directory."""
    from synthetic.demo import new_demo_dir, run_demo  # faker loads only here

    target = directory or new_demo_dir(Path.cwd())
    click.echo(f"wresgov demo in {target}")

    def ingested(org: str, done: int, total: int) -> None:
        click.echo(f"  ingested {org:<5} ({done}/{total} bodies)", err=True)

    result = run_demo(
        target,
        staff=staff,
        seed=seed,
        dirty=dirty,
        report=lambda line: click.echo(f"  {line}"),
        progress=ingested,
    )
    click.echo("\ningest summary (rows accepted / quarantined):")
    header = "  body   " + "".join(f"{kind:>22}" for kind in KINDS)
    click.echo(header)
    for org in dict.fromkeys(r.org for r in result.ingests):
        cells = "".join(
            f"{f'{r.rows_accepted:,} / {r.rows_quarantined:,}':>22}"
            for r in result.ingests
            if r.org == org
        )
        click.echo(f"  {org:<6} {cells}")
    totals = "".join(
        f"{f'{a:,} / {q:,}':>22}" for a, q in (result.totals(kind) for kind in KINDS)
    )
    click.echo(f"  {'Wales':<6} {totals}")
    click.echo(f"\ndone in {result.seconds:.1f} s; everything is in {result.directory}")
    click.echo(f"  release: {result.release.directory or 'none (the checks failed)'}")
    click.echo(f"  store:   {result.database}")
    click.echo(f"  keys:    {result.key_dir}")
    click.echo(f"  reports: {result.reports_dir}")
    click.echo(f"  extracts: {result.extracts_dir}")
    if result.release.directory is None:
        raise SystemExit(1)


@main.command()
@click.option("--org", help="Only this body.")
@click.option("--period", type=int, help="Only this WRES year.")
@click.pass_context
def extracts(ctx: click.Context, org: str | None, period: int | None) -> None:
    """List ingested extracts: status, rows accepted and quarantined."""
    service = open_service(ctx)
    rows = service.extracts(
        authenticate(ctx, service), org=org.upper() if org else None, period=period
    )
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
    service = open_service(ctx)
    for entry in service.quarantine(authenticate(ctx, service), extract_id):
        writer.writerow([entry.row, entry.field, entry.problem])


# --- the HTTP API -------------------------------------------------------------------


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Server processes (use PostgreSQL for more than one).",
)
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, workers: int) -> None:
    """Serve the HTTP API (docs/http-api.md) until interrupted."""
    import uvicorn  # imported here so that other commands do not load the server

    settings = settings_of(ctx)
    open_service(ctx).check_store()
    if workers > 1 and settings.resolved_database_url.startswith("sqlite"):
        raise click.UsageError("--workers above 1 needs a PostgreSQL store")
    common: dict[str, Any] = {
        "host": host,
        "port": port,
        "access_log": False,  # api.access_log logs each request without ids or query
        "timeout_keep_alive": 5,
        "log_level": "warning",
    }
    if workers == 1:
        from api.app import create_app, ready_to_serve

        uvicorn.run(ready_to_serve(create_app(settings)), **common)
        return
    # Worker processes build their own app from the environment.
    os.environ["WRESGOV_HOME"] = str(settings.home)
    uvicorn.run("api.app:app_from_environment", factory=True, workers=workers, **common)


# --- the command groups of commands/ ------------------------------------------------

for command in (
    principal,
    grant,
    audit,
    request,
    release,
    protect_command,
    check_command,
):
    main.add_command(command)

if __name__ == "__main__":  # pragma: no cover - entry point is the console script
    sys.exit(main())
