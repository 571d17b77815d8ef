"""Locate the policy files shipped with wresgov, installed editable or as a wheel.

In a source checkout (and an editable install) they live in ``policies/`` beside the
``governance`` package; in a wheel they are copied to ``governance/_policies``.
"""

from __future__ import annotations

from pathlib import Path

from governance.errors import PolicyError

_PACKAGE_DIR = Path(__file__).resolve().parent


def default_policy_dir() -> Path:
    """Return the directory of the shipped policy files.

    Raises:
        PolicyError: neither layout holds a policy directory.
    """
    for candidate in (_PACKAGE_DIR / "_policies", _PACKAGE_DIR.parent / "policies"):
        if candidate.is_dir():
            return candidate
    raise PolicyError("the shipped policies/ directory was not found")
