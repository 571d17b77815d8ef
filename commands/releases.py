"""``wresgov request`` and ``wresgov release``: the release workflow."""

from __future__ import annotations

import json
from pathlib import Path

import click

from audit import read_verifier_keys
from commands.context import authenticate, open_service
from governance.release_verify import verify_release
from governance.request_specs import pack_specs, read_table_specs
from governance.service import RequestInfo


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


@click.group()
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
    service = open_service(ctx)
    if (tables_file is None) == (pack is None):
        raise click.UsageError("give exactly one of --tables and --pack")
    specs = (
        read_table_specs(tables_file)
        if tables_file is not None
        else pack_specs(str(pack))
    )
    info = service.create_request(
        authenticate(ctx, service),
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
        service = open_service(ctx)
        info = getattr(service, method)(authenticate(ctx, service), request_id)
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
    service = open_service(ctx)
    _print_request(
        service.show_request(authenticate(ctx, service), request_id), evidence=evidence
    )


@request.command("list")
@click.pass_context
def request_list(ctx: click.Context) -> None:
    """List requests: all of them for reviewers, your own otherwise."""
    service = open_service(ctx)
    click.echo("id\tstate\tchecks\tapprovals\trequester\tscope\tperiod")
    for info in service.list_requests(authenticate(ctx, service)):
        record = info.record
        click.echo(
            f"{record.id}\t{record.state}\t{record.evidence or '-'}\t"
            f"{len(info.standing)}\t{record.requester}\t"
            f"{record.body or 'Wales'}\t{record.period}"
        )


@click.group()
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
    service = open_service(ctx)
    record = service.export_release(authenticate(ctx, service), request_id, out)
    click.echo(f"release {record.id} written to {record.directory}")
    click.echo(f"manifest sha256 {record.manifest_sha256}")


@release.command("revoke")
@click.argument("request_id", type=int)
@click.pass_context
def release_revoke(ctx: click.Context, request_id: int) -> None:
    """Revoke the release of REQUEST_ID (IG officer); it cannot be exported again."""
    service = open_service(ctx)
    _print_request(service.revoke_release(authenticate(ctx, service), request_id))


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
        keys = [open_service(ctx).signing_key("release").public_key]
    result = verify_release(directory, keys)
    if result.ok:
        click.echo(f"release verified: {directory}")
        return
    click.echo(f"release FAILED verification: {directory}")
    for problem in result.problems[:20]:
        click.echo(f"  {problem}")
    ctx.exit(1)
