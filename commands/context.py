"""What every command needs from the click context: settings, service, caller."""

from __future__ import annotations

import click

from governance.access import Subject
from governance.config import Settings
from governance.service import Service


def settings_of(ctx: click.Context) -> Settings:
    """The settings the entry point loaded (``--home``, environment)."""
    settings = ctx.find_object(Settings)
    assert settings is not None  # set by the group callback  # noqa: S101
    return settings


def open_service(ctx: click.Context) -> Service:
    """A service on the configured store, closed when the command ends."""
    service = Service(settings_of(ctx))
    ctx.call_on_close(service.close)
    return service


def authenticate(ctx: click.Context, service: Service) -> Subject:
    """Authenticate the token given by --token or WRESGOV_TOKEN."""
    token = ctx.find_root().meta.get("wresgov.token")
    return service.authenticate(token)
