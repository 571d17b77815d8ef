from __future__ import annotations

import re
from pathlib import Path

import pytest

from governance.config import Settings, load_settings
from governance.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_and_environment() -> None:
    settings = load_settings({})
    assert settings.home == Path("wresgov-data")
    assert settings.resolved_database_url.endswith("wresgov-data/wresgov.db")
    assert settings.resolved_key_dir == Path("wresgov-data/keys")
    env = {"WRESGOV_HOME": "/srv/w", "WRESGOV_LOG_FORMAT": "json", "OTHER": "x"}
    settings = load_settings(env, {"home": None})
    assert settings.home == Path("/srv/w")
    assert settings.log_format == "json"
    assert load_settings(env, {"home": "/srv/other"}).home == Path("/srv/other")


def test_unknown_or_invalid_variables_are_named_without_values() -> None:
    with pytest.raises(ConfigError, match="WRESGOV_COLOUR") as caught:
        load_settings({"WRESGOV_COLOUR": "secret-value"})
    assert "secret-value" not in str(caught.value)
    with pytest.raises(ConfigError, match="WRESGOV_LOG_LEVEL"):
        load_settings({"WRESGOV_LOG_LEVEL": "loud"})


def test_token_is_not_a_setting() -> None:
    assert load_settings({"WRESGOV_TOKEN": "abc"}) == Settings()


def test_every_setting_is_documented() -> None:
    docs = (ROOT / "docs" / "configuration.md").read_text()
    example = (ROOT / ".env.example").read_text()
    for name in Settings.model_fields:
        variable = f"WRESGOV_{name.upper()}"
        assert variable in docs, variable
        assert re.search(rf"^#?\s*{variable}=", example, re.MULTILINE), variable
