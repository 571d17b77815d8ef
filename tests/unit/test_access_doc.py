"""docs/access-control.md shows the permissions, roles and policy file as they are.

Regenerate with ``python -m tests.unit.test_access_doc --write``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import get_args

from governance.access import Reason
from governance.access_policy import PERMISSIONS, ROLES, load_access_policy
from governance.policy_files import default_policy_dir
from tests.generated_blocks import is_current, rewrite

DOC = Path(__file__).resolve().parents[2] / "docs" / "access-control.md"
OTHER_REASONS = ("missing_token", "malformed_token", "unknown_token")


def render_permissions() -> str:
    policy = load_access_policy()
    lines = [
        "| permission | category | body-scoped | allows | roles |",
        "|---|---|---|---|---|",
    ]
    for name, spec in PERMISSIONS.items():
        roles = ", ".join(f"`{r}`" for r in policy.roles_with(name)) or "(none)"
        scoped = "yes" if spec.body_scoped else "no"
        lines.append(
            f"| `{name}` | {spec.category} | {scoped} | {spec.description} | {roles} |"
        )
    return "\n".join(lines) + "\n"


def render_roles() -> str:
    policy = load_access_policy()
    lines = ["| role | `body_scope` | permissions |", "|---|---|---|"]
    for name in ROLES:
        spec = policy.role(name)
        assert spec is not None
        held = ", ".join(f"`{p}`" for p in spec.permissions)
        lines.append(f"| `{name}` | {spec.body_scope} | {held} |")
    return "\n".join(lines) + "\n"


def blocks() -> dict[str, str]:
    policy_file = default_policy_dir() / "access.yaml"
    return {
        "permissions": render_permissions(),
        "roles": render_roles(),
        "policy-file": f"```yaml\n{policy_file.read_text(encoding='utf-8')}```\n",
    }


def test_access_control_doc_is_current() -> None:
    assert is_current(DOC, blocks()), (
        "docs/access-control.md is stale: run"
        " `python -m tests.unit.test_access_doc --write`"
    )


def test_every_reason_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    for reason in (*get_args(Reason), *OTHER_REASONS):
        assert f"| `{reason}` |" in text, reason


if __name__ == "__main__":
    if "--write" in sys.argv:
        changed = rewrite(DOC, blocks())
        sys.stdout.write(f"{DOC}: {'rewritten' if changed else 'up to date'}\n")
    else:
        sys.exit(0 if is_current(DOC, blocks()) else f"{DOC} is stale: use --write")
