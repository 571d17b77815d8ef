"""``wresgov principal`` and ``wresgov grant``: who may do what (admin)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

import click

from commands.context import authenticate, open_service

ROLE_NAMES = (
    "admin",
    "data_manager",
    "analyst",
    "ig_officer",
    "publisher",
    "downstream",
)


@click.group()
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


T = TypeVar("T")


def _granting(
    ctx: click.Context,
    call: Callable[[Any], Callable[..., T]],
    name: str,
    *,
    role: str,
    org: str | None,
    expires: datetime | None,
) -> T:
    """Run the service's ``call`` (a principal's first grant or another one) as
    the authenticated caller, with the grant the options describe."""
    service = open_service(ctx)
    return call(service)(
        authenticate(ctx, service),
        name,
        role=role,
        body=org,
        expires=expires.date() if expires else None,
    )


@principal.command("add")
@_grant_options
@click.pass_context
def principal_add(ctx: click.Context, /, name: str, **terms: Any) -> None:
    """Create principal NAME with one grant; print its token alone on stdout."""
    token = _granting(ctx, lambda service: service.add_principal, name, **terms)
    click.echo(f"principal {name!r} created; its token follows (shown once)", err=True)
    click.echo(token)


@principal.command("list")
@click.pass_context
def principal_list(ctx: click.Context) -> None:
    """List principals and their grants (never tokens)."""
    service = open_service(ctx)
    views = service.principals(authenticate(ctx, service))
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
    service = open_service(ctx)
    service.revoke_principal(authenticate(ctx, service), name)
    click.echo(f"principal {name!r} revoked", err=True)


@click.group()
def grant() -> None:
    """Manage grants (admin): add a role to a principal, revoke a grant."""


@grant.command("add")
@_grant_options
@click.pass_context
def grant_add(ctx: click.Context, /, name: str, **terms: Any) -> None:
    """Grant ROLE to principal NAME; print the new grant's id."""
    grant_id = _granting(ctx, lambda service: service.add_grant, name, **terms)
    click.echo(grant_id)


@grant.command("revoke")
@click.argument("grant_id", type=int)
@click.pass_context
def grant_revoke(ctx: click.Context, grant_id: int) -> None:
    """Revoke grant GRANT_ID from now on."""
    service = open_service(ctx)
    service.revoke_grant(authenticate(ctx, service), grant_id)
    click.echo(f"grant {grant_id} revoked", err=True)
