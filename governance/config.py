"""Settings, and the one function that reads ``WRESGOV_*`` variables.

``load_settings(environ)`` is the only reader of the environment; ``cli.py`` is the only
caller that passes ``os.environ``, and tests pass plain dicts. Nothing here runs at
import time. Error messages quote the variable name, never its value.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from governance.errors import ConfigError

ENV_PREFIX = "WRESGOV_"

#: Variables that are read elsewhere (the CLI's authentication, the test suite) and so
#: are not settings, but must not be refused as unknown.
NON_SETTING_VARIABLES = frozenset({"WRESGOV_TOKEN", "WRESGOV_TEST_POSTGRES_URL"})


class Settings(BaseModel):
    """Where wresgov keeps its state, and how it logs."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    home: Path = Path("wresgov-data")
    """Directory for the default SQLite store, keys, reports and checkpoints."""

    database_url: str | None = None
    """SQLAlchemy URL of the store; default ``sqlite:///<home>/wresgov.db``."""

    key_dir: Path | None = None
    """Key directory (0700); default ``<home>/keys``. Never inside the database."""

    policy_dir: Path | None = None
    """Directory of policy files; default the ``policies/`` shipped with wresgov."""

    checkpoint_dir: Path | None = None
    """Where signed audit checkpoints are written, outside the store; default
    ``<home>/checkpoints``."""

    release_dir: Path | None = None
    """Where releases exported through the HTTP API are written (one directory per
    release); default ``<home>/releases``."""

    log_format: Literal["console", "json"] = "console"
    log_level: Literal["debug", "info", "warning", "error"] = "warning"

    api_rate_limit: int = Field(default=600, ge=1)
    """HTTP API: requests each token may make per minute (per server process)."""

    api_max_body: int = Field(default=5 * 1024 * 1024, ge=1024)
    """HTTP API: the largest request body accepted, in bytes."""

    api_timeout: float = Field(default=60.0, gt=0)
    """HTTP API: seconds a request may take before the server answers 503."""

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'wresgov.db').resolve()}"

    @property
    def resolved_key_dir(self) -> Path:
        return self.key_dir if self.key_dir is not None else self.home / "keys"

    @property
    def resolved_checkpoint_dir(self) -> Path:
        if self.checkpoint_dir is not None:
            return self.checkpoint_dir
        return self.home / "checkpoints"

    @property
    def resolved_release_dir(self) -> Path:
        return (
            self.release_dir if self.release_dir is not None else self.home / "releases"
        )

    @property
    def reports_dir(self) -> Path:
        """Where quarantine reports are written."""
        return self.home / "reports"


def load_settings(
    environ: Mapping[str, str], overrides: Mapping[str, object] | None = None
) -> Settings:
    """Build settings from defaults, then ``WRESGOV_*`` variables, then overrides.

    Raises:
        ConfigError: a variable is unknown or has an invalid value.
    """
    values: dict[str, object] = {
        key.removeprefix(ENV_PREFIX).lower(): value
        for key, value in environ.items()
        if key.startswith(ENV_PREFIX) and key not in NON_SETTING_VARIABLES and value
    }
    values.update({k: v for k, v in (overrides or {}).items() if v is not None})
    try:
        return Settings.model_validate(values)
    except ValidationError as exc:
        bad = ", ".join(
            f"{ENV_PREFIX}{str(err['loc'][0]).upper()} ({err['msg']})"
            for err in exc.errors(include_input=False)
        )
        raise ConfigError(
            f"invalid settings: {bad}; see docs/configuration.md"
        ) from None
