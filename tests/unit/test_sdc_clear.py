"""The pipeline: only ``apply`` builds cleared tables, they are audited, and the
evidence never holds a hidden value."""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pytest

from governance.errors import DisclosureError
from governance.sdc import suppress
from governance.sdc.clear import ClearedSet, ClearedTable, Evidence, apply
from governance.sdc.evidence import evidence_mapping, render_evidence
from governance.sdc.linked import LinkedSet
from governance.sdc.policy import load_policy
from governance.sdc.problem import BoolArray, ProtectionProblem
from governance.sdc.table import Dimension, InputCell, Table

DEPT = Dimension("dept", "Total", {"Total": ["Sales", "Ops"]})
GRADE = Dimension("grade", "Total", {"Total": ["G1", "G2", "G3"]})
COUNTS = {
    ("Sales", "G1"): 25,
    ("Sales", "G2"): 7,
    ("Sales", "G3"): 30,
    ("Ops", "G1"): 12,
    ("Ops", "G2"): 15,
    ("Ops", "G3"): 18,
}


def linked() -> LinkedSet:
    cells = [InputCell(k, float(v)) for k, v in COUNTS.items()]
    return LinkedSet([Table.from_cells("t", [DEPT, GRADE], cells)])


def test_cleared_types_cannot_be_built_outside_apply() -> None:
    with pytest.raises(
        TypeError, match=r"only be built by governance\.sdc\.clear\.apply"
    ):
        ClearedTable(
            name="t",
            dimensions=(DEPT,),
            measure="count",
            cells=(),
            extra_columns=(),
            token=object(),
        )
    evidence = Evidence(
        "p", 1, "0" * 64, "auto", "fast", "count", 0, 0, 0, (), (), 0, 0, 0
    )
    with pytest.raises(TypeError, match="only be built"):
        ClearedSet(tables=(), derived=(), evidence=evidence, token=None)


def test_apply_hides_the_small_cell_and_records_the_policy() -> None:
    policy = load_policy("wres-wales")
    cleared = apply(linked(), policy)
    table = cleared.table("t")
    cell = table.cell("Sales", "G2")
    assert (cell.display, cell.status) == ("<10", "primary")
    assert cleared.evidence.policy_sha256 == policy.sha256
    assert cleared.evidence.primary == 1
    assert cleared.evidence.secondary >= 2
    assert cleared.evidence.unsafe == ()
    data = evidence_mapping(cleared)
    assert data["policy"] == {"id": "wres-wales", "version": 1, "sha256": policy.sha256}
    assert len(table.rows()) == 12


def test_no_hidden_value_reaches_the_output_or_the_evidence() -> None:
    cleared = apply(linked(), load_policy("wres-wales"))
    evidence = json.loads(render_evidence(cleared))
    for hidden in evidence["audit"]["hidden"]:
        assert set(hidden) == {"cell", "tables", "status", "interval"}
    table = cleared.table("t")
    for cell in table.cells:
        if cell.status != "published":
            assert cell.display in ("<10", "[c]")
    # the true small value (7) is nowhere in the CSV
    assert ",7," not in table.render_csv()


def test_apply_is_deterministic() -> None:
    policy = load_policy("wres-wales")
    first, second = apply(linked(), policy), apply(linked(), policy)
    assert first.digest == second.digest
    assert first.table("t").render_csv() == second.table("t").render_csv()


@dataclass(frozen=True)
class _Result:
    hidden: BoolArray
    secondary: BoolArray
    method: str = "broken"


def test_an_unsafe_pattern_from_a_method_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def only_primary(problem: ProtectionProblem, method: str, **_: object) -> _Result:
        hidden = problem.primary.copy()
        return _Result(hidden, np.zeros_like(hidden))

    monkeypatch.setattr(suppress, "protect", only_primary)
    with pytest.raises(DisclosureError, match=r"first \(dept=Sales, grade=G2\)"):
        apply(linked(), load_policy("wres-wales"))


def test_a_method_hiding_a_forbidden_cell_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    zero = {**COUNTS, ("Ops", "G3"): 0}
    cells = [InputCell(k, float(v)) for k, v in zero.items()]
    table = LinkedSet([Table.from_cells("t", [DEPT, GRADE], cells)])

    def hide_everything(
        problem: ProtectionProblem, method: str, **_: object
    ) -> _Result:
        hidden = np.ones(problem.size, dtype=bool)
        return _Result(hidden, hidden & ~problem.primary)

    monkeypatch.setattr(suppress, "protect", hide_everything)
    with pytest.raises(DisclosureError, match=r"hid cell \(dept=Ops, grade=G3\)"):
        apply(table, load_policy("wres-wales"))
