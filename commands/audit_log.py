"""``wresgov audit``: read, verify and checkpoint the audit log (IG officers)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from commands.context import authenticate, open_service
from governance.audit_report import entries_csv, entries_jsonl
from governance.models import AuditQuery


@click.group()
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
    service = open_service(ctx)
    result = service.verify_audit(authenticate(ctx, service), trusted_keys=trusted_keys)
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
    service = open_service(ctx)
    report = service.audit_report(authenticate(ctx, service), since=since, until=until)
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
    service = open_service(ctx)
    result = service.checkpoint(authenticate(ctx, service))
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
    service = open_service(ctx)
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
    entries = service.audit_log(authenticate(ctx, service), query)
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
