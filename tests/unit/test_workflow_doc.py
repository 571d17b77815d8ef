"""docs/release-workflow.md shows the diagram and table generated from the workflow.

Regenerate with ``python -m tests.unit.test_workflow_doc --write``.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml
from pydantic import TypeAdapter

from governance.release_policy import (
    ReleaseSection,
    load_release_policy,
    release_policy_from_mapping,
)
from governance.tablespec import TableSpec
from governance.workflow import (
    ACTION_RULES,
    STATES,
    TRANSITIONS,
    render_state_diagram,
    render_transition_table,
)
from tests.generated_blocks import is_current, rewrite

DOC = Path(__file__).resolve().parents[2] / "docs" / "release-workflow.md"


def blocks() -> dict[str, str]:
    return {
        "state-diagram": f"```mermaid\n{render_state_diagram()}```\n",
        "transition-table": render_transition_table(),
    }


def test_release_workflow_doc_is_current() -> None:
    assert is_current(DOC, blocks()), (
        "docs/release-workflow.md is stale: run"
        " `python -m tests.unit.test_workflow_doc --write`"
    )


def test_every_state_action_and_policy_key_is_explained() -> None:
    text = DOC.read_text(encoding="utf-8")
    prose = text.split("<!-- BEGIN GENERATED", 1)[0] + text.rsplit("-->", 1)[-1]
    for name in (*STATES, *ACTION_RULES, *ReleaseSection.model_fields):
        assert f"`{name}`" in prose, name


def test_diagram_has_one_edge_per_transition() -> None:
    lines = render_state_diagram().splitlines()
    assert lines[0] == "stateDiagram-v2"
    edges = [line for line in lines if "-->" in line and "[*]" not in line]
    assert len(edges) == len(TRANSITIONS)
    for transition, edge in zip(TRANSITIONS, edges, strict=True):
        assert edge.strip().startswith(f"{transition.source} --> {transition.target}:")


def test_yaml_examples_are_valid_release_policies() -> None:
    examples = re.findall(
        r"```yaml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL
    )
    assert examples
    for example in examples:
        data = yaml.safe_load(example)
        if isinstance(data, list):  # a table specification file (Asking for tables)
            assert TypeAdapter(list[TableSpec]).validate_python(data)
            continue
        policy = release_policy_from_mapping(data)
        assert policy.approvals_required == load_release_policy().approvals_required


if __name__ == "__main__":
    if "--write" in sys.argv:
        changed = rewrite(DOC, blocks())
        sys.stdout.write(f"{DOC}: {'rewritten' if changed else 'up to date'}\n")
    else:
        sys.exit(0 if is_current(DOC, blocks()) else f"{DOC} is stale: use --write")
