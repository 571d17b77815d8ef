"""Checking tables made elsewhere: symbols, findings and report formats."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from governance.errors import TableError
from governance.sdc.check import CheckResult, check_table
from governance.sdc.check_report import render_json, render_junit, render_text
from governance.sdc.policy import Policy, load_policy, policy_from_mapping
from governance.sdc.structure import parse_structure
from governance.sdc.tidy import read_tidy

STRUCTURE = parse_structure(
    """
dimensions:
  - {name: dept, total: Total, hierarchy: {Total: [Sales, Ops]}}
  - {name: grade, total: Total, hierarchy: {Total: [G1, G2, G3]}}
""",
    source="s.yaml",
)

# Sales G2 = 4 is small; Sales G1 = 25, Ops G1 = 12, Ops G2 = 15 protect it.
TRUE = {
    ("Sales", "G1"): 25, ("Sales", "G2"): 4, ("Sales", "G3"): 30, ("Sales", "Total"): 59,
    ("Ops", "G1"): 12, ("Ops", "G2"): 15, ("Ops", "G3"): 18, ("Ops", "Total"): 45,
    ("Total", "G1"): 37, ("Total", "G2"): 19, ("Total", "G3"): 48, ("Total", "Total"): 104,
}  # fmt: skip


def check(
    tmp_path: Path,
    shown: dict[tuple[str, str], str],
    *,
    column: str = "display",
    policy: Policy | None = None,
    structure: bool = True,
    extra: dict[str, dict[tuple[str, str], str]] | None = None,
) -> CheckResult:
    extra = extra or {}
    header = ["dept", "grade", column, *extra]
    lines = [",".join(header)]
    for key, text in shown.items():
        lines.append(",".join([*key, text, *(extra[c].get(key, "") for c in extra)]))
    path = tmp_path / "table.csv"
    path.write_text("\n".join(lines) + "\n")
    return check_table(
        read_tidy(path),
        policy or load_policy("wres-wales"),
        STRUCTURE if structure else None,
    )


def display(hide: dict[tuple[str, str], str]) -> dict[tuple[str, str], str]:
    return {key: hide.get(key, str(value)) for key, value in TRUE.items()}


SAFE = {
    ("Sales", "G2"): "<10",
    ("Sales", "G1"): "[c]",
    ("Ops", "G1"): "[c]",
    ("Ops", "G2"): "[c]",
}


def test_a_well_protected_table_is_safe(tmp_path: Path) -> None:
    result = check(tmp_path, display(SAFE))
    assert result.safe
    assert result.hidden == 4
    assert result.cells == 12
    assert "verdict: safe" in render_text(result)


def test_a_lone_hidden_cell_is_recoverable(tmp_path: Path) -> None:
    result = check(tmp_path, display({("Sales", "G2"): "<10"}))
    assert not result.safe
    (finding,) = result.unsafe
    assert finding.kind == "recoverable"
    assert finding.cell == "(dept=Sales, grade=G2)"
    assert finding.interval == (4, 4)


def test_a_small_complement_narrows_the_interval(tmp_path: Path) -> None:
    # the protected table leaves 4 in 2..9, enough at the default width of 3 but not
    # at a width of 8
    shown = display(SAFE)
    result = check(tmp_path, shown, policy=_policy(count=8))
    assert not result.safe  # 2..9 is 7 wide, narrower than 8
    assert result.unsafe[0].interval == (2, 9)


def _policy(count: float) -> Policy:
    return policy_from_mapping(
        {
            "id": "p",
            "version": 1,
            "disclosure": {"secondary": {"protection_level": {"count": count}}},
        }
    )


def test_published_small_count_is_found_without_its_value(tmp_path: Path) -> None:
    result = check(tmp_path, display({}))
    (finding,) = result.unsafe
    assert finding.kind == "small_cell"
    assert "4" not in finding.message
    assert finding.cell == "(dept=Sales, grade=G2)"


def test_generic_symbols_and_other_thresholds(tmp_path: Path) -> None:
    # '*' says nothing about the value: the audit still finds the lone cell pinned at 4
    result = check(tmp_path, display({("Sales", "G2"): "*"}), column="count")
    assert [f.kind for f in result.unsafe] == ["recoverable"]
    # a hidden cell pinned at a large value is only a note
    hidden_large = display({("Sales", "G3"): "x"})
    result = check(tmp_path, hidden_large, column="count")
    assert [f.kind for f in result.unsafe] == ["small_cell"]
    assert any(f.kind == "exact_hidden" for f in result.findings)
    # '<5' is read as 1..4
    result = check(tmp_path, display({**SAFE, ("Sales", "G2"): "<5"}))
    assert result.safe is False  # '<5' leaves only 2..4, two wide
    assert result.unsafe[0].interval == (2, 4)


def test_secondary_label_means_at_least_the_threshold_only_with_small_labels(
    tmp_path: Path,
) -> None:
    everything_c = display({k: "[c]" for k in SAFE})
    result = check(tmp_path, everything_c)
    # with no small-count label anywhere, [c] says nothing: every hidden cell may be small
    assert result.safe
    assert result.hidden == 4


def test_status_column_marks_small_cells(tmp_path: Path) -> None:
    status = {key: "published" for key in TRUE} | {
        ("Sales", "G2"): "primary",
        ("Sales", "G1"): "secondary",
        ("Ops", "G1"): "secondary",
        ("Ops", "G2"): "secondary",
    }
    shown = display({k: "[c]" for k in SAFE})
    result = check(tmp_path, shown, extra={"status": status})
    assert result.safe
    bad = dict(status) | {("Sales", "G3"): "primary"}
    with pytest.raises(TableError, match="hidden status with a published number"):
        check(tmp_path, shown, extra={"status": bad})


def test_contradicting_labels_are_unsafe(tmp_path: Path) -> None:
    # Sales G3 (truly 4) is labelled [c], but the row leaves it at most 7: a reader
    # learns that the labels are not what they claim
    table = {
        ("Sales", "G1"): "25", ("Sales", "G2"): "<10", ("Sales", "G3"): "[c]",
        ("Sales", "Total"): "33",
        ("Ops", "G1"): "12", ("Ops", "G2"): "[c]", ("Ops", "G3"): "[c]",
        ("Ops", "Total"): "45",
        ("Total", "G1"): "37", ("Total", "G2"): "19", ("Total", "G3"): "22",
        ("Total", "Total"): "78",
    }  # fmt: skip
    result = check(tmp_path, table)
    assert [f.kind for f in result.unsafe][:1] == ["inconsistent"]


def test_percentage_over_a_hidden_count(tmp_path: Path) -> None:
    percents = {("Sales", "G2"): "6.8", ("Sales", "G3"): "50.8"}
    result = check(tmp_path, display(SAFE), extra={"percent_grade": percents})
    kinds = [f.kind for f in result.unsafe]
    assert "derived_over_hidden" in kinds
    # and the percentage pins the hidden count, which the audit sees
    assert "recoverable" in kinds


def test_missing_cells_are_a_note_and_read_as_hidden(tmp_path: Path) -> None:
    shown = display(SAFE)
    del shown[("Total", "Total")]
    result = check(tmp_path, shown)
    assert result.safe
    # the grand total is read as hidden, and anyone can add it up again
    assert [f.kind for f in result.findings] == ["missing_cells", "exact_hidden"]


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({("Sales", "G1"): "many"}, "unknown symbol"),
        ({("Sales", "G1"): "2.5"}, "is not a whole count"),
        (
            {("Total", "Total"): "105"},
            r"cell \(dept=Total, grade=Total\) does not equal",
        ),
    ],
)
def test_unusable_tables(
    tmp_path: Path, change: dict[tuple[str, str], str], problem: str
) -> None:
    with pytest.raises(TableError, match=problem):
        check(tmp_path, display(change))


def test_structure_is_inferred_for_simple_tables(tmp_path: Path) -> None:
    assert check(tmp_path, display(SAFE), structure=False).safe
    assert not check(tmp_path, display({("Sales", "G2"): "<10"}), structure=False).safe


def test_reports_render(tmp_path: Path) -> None:
    result = check(tmp_path, display({("Sales", "G2"): "<10"}))
    data = json.loads(render_json(result))
    assert data["safe"] is False
    assert data["findings"][0]["interval"] == [4, 4]
    assert data["policy"]["sha256"] == load_policy("wres-wales").sha256
    root = ET.fromstring(render_junit(result))  # noqa: S314 - our own output
    cases = root.findall("testsuite/testcase")
    assert len(cases) == 4
    failed = [c for c in cases if c.find("failure") is not None]
    assert len(failed) == 1
    text = render_text(result)
    assert "UNSAFE recoverable (dept=Sales, grade=G2)" in text
    assert text.endswith("verdict: UNSAFE\n")


def test_the_zeros_rule_of_the_table_the_file_holds(tmp_path: Path) -> None:
    # G1 + G2 = 3, both `<10`: if `<10` means 1..9 each is 1 or 2 (too narrow);
    # in a table whose zeros are small it means 0..9 and each is 0 to 3
    structure = parse_structure(
        "dimensions:\n  - {name: grade, total: Total, hierarchy: {Total: [G1, G2, G3]}}\n",
        source="s.yaml",
    )
    data = yaml_policy(zeros_by_table={"bands": "small"})
    for name, safe in (("bands", True), ("other", False)):
        path = tmp_path / f"{name}.csv"
        path.write_text("grade,display\nG1,<10\nG2,<10\nG3,30\nTotal,33\n")
        result = check_table(read_tidy(path), data, structure)
        assert result.safe is safe, name
    # the table may be named apart from its file
    path = tmp_path / "other.csv"
    assert check_table(read_tidy(path), data, structure, table="bands").safe


def yaml_policy(**primary: object) -> Policy:
    data = {
        "id": "zeros",
        "version": 1,
        "disclosure": {"primary": {"threshold": {"min_count": 10}, **primary}},
    }
    return policy_from_mapping(data, source="test")
