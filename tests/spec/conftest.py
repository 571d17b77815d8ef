"""Fixtures for the spec tests (the runner itself is in ``sdc_spec``)."""

from __future__ import annotations

import pytest

from tests.spec.sdc_spec import SpecRunner


@pytest.fixture
def spec() -> SpecRunner:
    return SpecRunner()
