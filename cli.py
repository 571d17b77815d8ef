"""The ``wresgov`` command line: parse, load settings, call the service, print.

No domain logic lives here. Every ``GovernanceError`` becomes one line on stderr and
its exit code, in one place (:class:`GovernanceGroup`); anything else is a bug.
"""

from __future__ import annotations

import csv
import json
import os
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from audit import read_verifier_keys
from governance.access import Subject
from governance.audit_report import entries_csv, entries_jsonl
from governance.config import Settings, load_settings
from governance.errors import GovernanceError
from governance.extract_format import KINDS, Kind
from governance.logging import configure as configure_logging
from governance.models import AuditQuery
from governance.release_verify import verify_release
from governance.request_specs import pack_specs, read_table_specs
from governance.service import IngestResult, RequestInfo, Service


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


def _caller(ctx: click.Context, service: Service) -> Subject:
    """Authenticate the token given by --token or WRESGOV_TOKEN."""
    token = ctx.find_root().meta.get("wresgov.token")
    return service.authenticate(token)


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
    result = _service(ctx).init(admin)
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
    service = _service(ctx)
    caller = _caller(ctx, service)
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
    service = _service(ctx)
    rows = service.extracts(
        _caller(ctx, service), org=org.upper() if org else None, period=period
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
    service = _service(ctx)
    for entry in service.quarantine(_caller(ctx, service), extract_id):
        writer.writerow([entry.row, entry.field, entry.problem])


# --- governance: principals, grants, the audit log ---------------------------------

ROLE_NAMES = (
    "admin",
    "data_manager",
    "analyst",
    "ig_officer",
    "publisher",
    "downstream",
)


@main.group()
def principal() -> None:
    """Manage principals (admin): add, list, revoke."""


F = TypeVar("F", bound=Callable[..., Any])


def _grant_options(command: F) -> F:
    """NAME, --role, --org and --expires: what a grant is made of."""
    for option in reversed(
        [
            click.argument("name"),
            click.option("--role", type=click.Choice(ROLE_NAMES), required=True),
            click.option(
                "--org",
                help="Body code the grant is limited to (data managers need one).",
            ),
            click.option(
                "--expires",
                type=click.DateTime(formats=["%Y-%m-%d"]),
                help="Date (YYYY-MM-DD) from which the grant no longer works.",
            ),
        ]
    ):
        command = option(command)
    return command


@principal.command("add")
@_grant_options
@click.pass_context
def principal_add(
    ctx: click.Context,
    name: str,
    role: str,
    org: str | None,
    expires: datetime | None,
) -> None:
    """Create principal NAME with one grant; print its token alone on stdout."""
    service = _service(ctx)
    token = service.add_principal(
        _caller(ctx, service),
        name,
        role=role,
        body=org,
        expires=expires.date() if expires else None,
    )
    click.echo(f"principal {name!r} created; its token follows (shown once)", err=True)
    click.echo(token)


@principal.command("list")
@click.pass_context
def principal_list(ctx: click.Context) -> None:
    """List principals and their grants (never tokens)."""
    service = _service(ctx)
    views = service.principals(_caller(ctx, service))
    click.echo("principal\tactive\tgrant\trole\tbody\tfrom\tuntil\trevoked")
    for view in views:
        for grant in view.grants or ():
            click.echo(
                f"{view.principal.id}\t{'yes' if view.principal.active else 'no'}\t"
                f"{grant.id}\t{grant.role}\t{grant.body or 'all Wales'}\t"
                f"{grant.valid_from:%Y-%m-%d}\t"
                f"{grant.valid_until.strftime('%Y-%m-%d') if grant.valid_until else '-'}\t"
                f"{grant.revoked_at.strftime('%Y-%m-%d') if grant.revoked_at else '-'}"
            )


@principal.command("revoke")
@click.argument("name")
@click.pass_context
def principal_revoke(ctx: click.Context, name: str) -> None:
    """Deactivate principal NAME; its token stops working at once."""
    service = _service(ctx)
    service.revoke_principal(_caller(ctx, service), name)
    click.echo(f"principal {name!r} revoked", err=True)


@main.group()
def grant() -> None:
    """Manage grants (admin): add a role to a principal, revoke a grant."""


@grant.command("add")
@_grant_options
@click.pass_context
def grant_add(
    ctx: click.Context,
    name: str,
    role: str,
    org: str | None,
    expires: datetime | None,
) -> None:
    """Grant ROLE to principal NAME; print the new grant's id."""
    service = _service(ctx)
    grant_id = service.add_grant(
        _caller(ctx, service),
        name,
        role=role,
        body=org,
        expires=expires.date() if expires else None,
    )
    click.echo(grant_id)


@grant.command("revoke")
@click.argument("grant_id", type=int)
@click.pass_context
def grant_revoke(ctx: click.Context, grant_id: int) -> None:
    """Revoke grant GRANT_ID from now on."""
    service = _service(ctx)
    service.revoke_grant(_caller(ctx, service), grant_id)
    click.echo(f"grant {grant_id} revoked", err=True)


@main.group()
def audit() -> None:
    """Read, verify and checkpoint the tamper-evident audit log (IG officers)."""


@audit.command("verify")
@click.option(
    "--keys",
    "trusted_keys",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Extra trusted checkpoint public keys, one per line.",
)
@click.pass_context
def audit_verify(ctx: click.Context, trusted_keys: Path | None) -> None:
    """Verify the chain and every checkpoint; exit 0 if intact, 1 if not.

    Detects a changed, deleted, inserted or reordered entry, a tail cut before the
    last checkpoint, and a checkpoint signed by another key; names the first bad
    sequence number.
    """
    service = _service(ctx)
    result = service.verify_audit(_caller(ctx, service), trusted_keys=trusted_keys)
    click.echo(result.summary())
    if not result.ok:
        if result.first_bad_seq is not None:
            click.echo(f"first bad entry: seq {result.first_bad_seq}")
        for problem in result.report.problems[1:10]:
            click.echo(f"  also: {problem}")
        ctx.exit(1)


@audit.command("report")
@click.option("--since", help="From this time (ISO 8601, UTC), inclusive.")
@click.option("--until", help="Up to this time (ISO 8601, UTC), exclusive.")
@click.option(
    "--format",
    "output",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
)
@click.pass_context
def audit_report(
    ctx: click.Context, since: str | None, until: str | None, output: str
) -> None:
    """Activity per principal and action, denials, and flags for review."""
    service = _service(ctx)
    report = service.audit_report(_caller(ctx, service), since=since, until=until)
    if output == "json":
        click.echo(
            json.dumps(
                {
                    "entries": report.entries,
                    "from": report.first_time,
                    "to": report.last_time,
                    "activity": [vars(row) for row in report.activity],
                    "flags": [vars(flag) for flag in report.flags],
                },
                indent=2,
                sort_keys=True,
            )
        )
        return
    click.echo(
        f"{report.entries:,} entries from {report.first_time} to {report.last_time}; "
        f"{report.denials:,} denials; {len(report.flags)} flag(s)"
    )
    click.echo("\nprincipal\taction\tallowed\tdenied\terrors")
    for row in report.activity:
        click.echo(
            f"{row.principal}\t{row.action}\t{row.allowed}\t{row.denied}\t{row.errors}"
        )
    if report.flags:
        click.echo("\nflags (see docs/ig-officer-guide.md):")
        for flag in report.flags:
            click.echo(f"  {flag.describe()} [first at seq {flag.first_seq}]")


@audit.command("checkpoint")
@click.pass_context
def audit_checkpoint(ctx: click.Context) -> None:
    """Sign the chain head and write the checkpoint outside the store."""
    service = _service(ctx)
    result = service.checkpoint(_caller(ctx, service))
    click.echo(f"checkpoint of {result.size} entries: {result.path}")


@audit.command("log")
@click.option("--principal", "principal_id", help="Only this principal.")
@click.option("--role", help="Only entries made in this role.")
@click.option("--action", help="Only this action, e.g. extract.ingest.")
@click.option("--org", help="Only this body.")
@click.option("--outcome", type=click.Choice(["allow", "deny", "ok", "error"]))
@click.option("--request", "request_id", help="Only entries about this request.")
@click.option("--since", help="From this time (ISO 8601, UTC), inclusive.")
@click.option("--until", help="Up to this time (ISO 8601, UTC), exclusive.")
@click.option("--limit", type=click.IntRange(min=1))
@click.option(
    "--format",
    "output",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
)
@click.pass_context
def audit_log(
    ctx: click.Context,
    principal_id: str | None,
    role: str | None,
    action: str | None,
    org: str | None,
    outcome: str | None,
    request_id: str | None,
    since: str | None,
    until: str | None,
    limit: int | None,
    output: str,
) -> None:
    """Print audit entries matching the filters (json: one entry per line)."""
    service = _service(ctx)
    query = AuditQuery.of(
        principal=principal_id,
        role=role,
        action=action,
        body=org,
        outcome=outcome,
        request=request_id,
        since=since,
        until=until,
        limit=limit,
    )
    entries = service.audit_log(_caller(ctx, service), query)
    if output == "json":
        click.echo(entries_jsonl(entries), nl=False)
        return
    columns = ["seq", "time", "principal", "role", "action", "resource", "body",
               "purpose", "outcome", "detail"]  # fmt: skip
    if output == "csv":
        click.echo(entries_csv(entries), nl=False)
        return
    click.echo("\t".join(columns))
    for entry in entries:
        click.echo("\t".join(str(getattr(entry, name) or "-") for name in columns))


# --- the release workflow: requests and releases -------------------------------------


def _print_request(info: RequestInfo, *, evidence: bool = False) -> None:
    record = info.record
    click.echo(f"request {record.id}: {record.state}")
    click.echo(f"  requester: {record.requester}")
    click.echo(f"  purpose:   {record.purpose}")
    click.echo(f"  scope:     {record.body or 'all Wales'}, period {record.period}")
    click.echo(f"  tables:    {', '.join(spec.name for spec in info.specs)}")
    if record.evidence:
        click.echo(f"  checks:    {record.evidence}")
    if record.approvals:
        approvers = ", ".join(
            f"{p} ({at:%Y-%m-%d %H:%M}{', lapsed' if p in info.lapsed else ''})"
            for p, at in record.approvals
        )
        click.echo(f"  approvals: {approvers}")
    for release in info.releases:
        state = (
            f"revoked {release.revoked_at:%Y-%m-%d}" if release.revoked_at else "live"
        )
        click.echo(f"  release:   {release.id} in {release.directory} ({state})")
    if evidence and info.evidence() is not None:
        click.echo(json.dumps(info.evidence(), indent=2, sort_keys=True))


@main.group()
def request() -> None:
    """Ask for cleared tables, and review requests (the release workflow)."""


@request.command("create")
@click.option("--purpose", required=True, help="Why the tables are needed (recorded).")
@click.option(
    "--period", type=int, required=True, help="WRES year (31 March snapshot)."
)
@click.option("--org", help="One body's tables (default: all Wales).")
@click.option(
    "--tables",
    "tables_file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="YAML or JSON list of table specifications (docs/release-workflow.md).",
)
@click.option("--pack", help="A named pack of indicator tables instead of --tables.")
@click.option("--policy", "policy_id", default="wres-wales", show_default=True)
@click.pass_context
def request_create(
    ctx: click.Context,
    purpose: str,
    period: int,
    org: str | None,
    tables_file: Path | None,
    pack: str | None,
    policy_id: str,
) -> None:
    """Draft a request; prints its id."""
    service = _service(ctx)
    if (tables_file is None) == (pack is None):
        raise click.UsageError("give exactly one of --tables and --pack")
    specs = (
        read_table_specs(tables_file)
        if tables_file is not None
        else pack_specs(str(pack))
    )
    info = service.create_request(
        _caller(ctx, service),
        purpose=purpose,
        period=period,
        tables=specs,
        body=org,
        pack=pack,
        policy_id=policy_id,
    )
    click.echo(info.id)


def _request_step(name: str, method: str, help_text: str) -> None:
    @request.command(name, help=help_text)
    @click.argument("request_id", type=int)
    @click.pass_context
    def command(ctx: click.Context, request_id: int) -> None:
        service = _service(ctx)
        info = getattr(service, method)(_caller(ctx, service), request_id)
        _print_request(info)


_request_step("submit", "submit_request", "Submit REQUEST_ID; the checks run at once.")
_request_step(
    "approve", "approve_request", "Approve REQUEST_ID (IG officer, not the requester)."
)
_request_step("reject", "reject_request", "Reject REQUEST_ID for good (IG officer).")
_request_step(
    "return", "return_request", "Return REQUEST_ID to its author (IG officer)."
)
_request_step("withdraw", "withdraw_request", "Withdraw your request REQUEST_ID.")


@request.command("show")
@click.argument("request_id", type=int)
@click.option("--evidence/--no-evidence", default=True, show_default=True)
@click.pass_context
def request_show(ctx: click.Context, request_id: int, evidence: bool) -> None:
    """Show REQUEST_ID and the engine's evidence (never a hidden value)."""
    service = _service(ctx)
    _print_request(
        service.show_request(_caller(ctx, service), request_id), evidence=evidence
    )


@request.command("list")
@click.pass_context
def request_list(ctx: click.Context) -> None:
    """List requests: all of them for reviewers, your own otherwise."""
    service = _service(ctx)
    click.echo("id\tstate\tchecks\tapprovals\trequester\tscope\tperiod")
    for info in service.list_requests(_caller(ctx, service)):
        record = info.record
        click.echo(
            f"{record.id}\t{record.state}\t{record.evidence or '-'}\t"
            f"{len(info.standing)}\t{record.requester}\t"
            f"{record.body or 'Wales'}\t{record.period}"
        )


@main.group()
def release() -> None:
    """Export, revoke and verify signed releases."""


@release.command("export")
@click.argument("request_id", type=int)
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="New directory for the release.",
)
@click.pass_context
def release_export(ctx: click.Context, request_id: int, out: Path) -> None:
    """Write the approved request's tables as a signed release in OUT."""
    service = _service(ctx)
    record = service.export_release(_caller(ctx, service), request_id, out)
    click.echo(f"release {record.id} written to {record.directory}")
    click.echo(f"manifest sha256 {record.manifest_sha256}")


@release.command("revoke")
@click.argument("request_id", type=int)
@click.pass_context
def release_revoke(ctx: click.Context, request_id: int) -> None:
    """Revoke the release of REQUEST_ID (IG officer); it cannot be exported again."""
    service = _service(ctx)
    _print_request(service.revoke_release(_caller(ctx, service), request_id))


@release.command("verify")
@click.argument(
    "directory", type=click.Path(file_okay=False, exists=True, path_type=Path)
)
@click.option(
    "--key",
    "key_file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Trusted release public key (default: this installation's release key).",
)
@click.pass_context
def release_verify(ctx: click.Context, directory: Path, key_file: Path | None) -> None:
    """Check a release's signature and every artefact's hash offline; exit 0 or 1."""
    if key_file is not None:
        keys = read_verifier_keys(key_file)
    else:
        keys = [_service(ctx).signing_key("release").public_key]
    result = verify_release(directory, keys)
    if result.ok:
        click.echo(f"release verified: {directory}")
        return
    click.echo(f"release FAILED verification: {directory}")
    for problem in result.problems[:20]:
        click.echo(f"  {problem}")
    ctx.exit(1)


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

    settings = _settings(ctx)
    _service(ctx).check_store()
    if workers > 1 and settings.resolved_database_url.startswith("sqlite"):
        raise click.UsageError("--workers above 1 needs a PostgreSQL store")
    common: dict[str, Any] = {
        "host": host,
        "port": port,
        "access_log": False,  # api.app logs each request without ids or query
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
    from governance.sdc.check import check_table
    from governance.sdc.check_report import render_json, render_junit, render_text
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
