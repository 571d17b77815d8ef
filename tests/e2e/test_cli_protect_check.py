"""``wresgov protect`` and ``wresgov check`` end to end, through click's test runner."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from click.testing import CliRunner, Result

from cli import main

STRUCTURE = """\
dimensions:
  - name: dept
    total: Total
    hierarchy:
      Total: [Sales, Ops]
  - name: grade
    total: Total
    hierarchy:
      Total: [G1, G2, G3]
"""

COUNTS = {
    ("Sales", "G1"): 25,
    ("Sales", "G2"): 4,
    ("Sales", "G3"): 30,
    ("Ops", "G1"): 12,
    ("Ops", "G2"): 15,
    ("Ops", "G3"): 18,
}


def run(tmp_path: Path, *args: str) -> Result:
    runner = CliRunner()
    env = {"WRESGOV_HOME": str(tmp_path / "home")}
    return runner.invoke(main, list(args), env=env, catch_exceptions=False)


def all_cells() -> dict[tuple[str, str], int]:
    out = dict(COUNTS)
    for dept in ("Sales", "Ops"):
        out[(dept, "Total")] = sum(COUNTS[(dept, g)] for g in ("G1", "G2", "G3"))
    for grade in ("G1", "G2", "G3", "Total"):
        out[("Total", grade)] = sum(out[(d, grade)] for d in ("Sales", "Ops"))
    return out


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    structure = tmp_path / "structure.yaml"
    structure.write_text(STRUCTURE)
    leaves = tmp_path / "headcount.csv"
    leaves.write_text(
        "dept,grade,count\n" + "".join(f"{d},{g},{v}\n" for (d, g), v in COUNTS.items())
    )
    # what a careless analyst publishes: the small cell hidden, nothing else
    naive = tmp_path / "naive.csv"
    naive.write_text(
        "dept,grade,count\n"
        + "".join(
            f"{d},{g},{'<10' if v < 10 else v}\n" for (d, g), v in all_cells().items()
        )
    )
    return {"structure": structure, "leaves": leaves, "naive": naive}


def test_check_finds_the_recoverable_cell_and_names_it(
    tmp_path: Path, files: dict[str, Path]
) -> None:
    result = run(tmp_path, "check", str(files["naive"]))
    assert result.exit_code == 1, result.output
    assert "recoverable (dept=Sales, grade=G2)" in result.output
    assert "verdict: UNSAFE" in result.output


def test_protect_then_check_is_safe(tmp_path: Path, files: dict[str, Path]) -> None:
    out = tmp_path / "cleared.csv"
    result = run(
        tmp_path,
        "protect", str(files["leaves"]),
        "--structure", str(files["structure"]),
        "--out", str(out),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert len(rows) == 12  # every cell, totals included
    assert set(rows[0]) == {"dept", "grade", "display", "status"}
    by_cell = {(r["dept"], r["grade"]): r for r in rows}
    assert by_cell[("Sales", "G2")]["display"] == "<10"
    assert by_cell[("Sales", "G2")]["status"] == "primary"
    for row in rows:
        if row["status"] == "secondary":
            assert row["display"] == "[c]"
        if row["status"] == "published":
            assert int(row["display"]) == all_cells()[(row["dept"], row["grade"])]
    evidence = json.loads((tmp_path / "cleared.evidence.json").read_text())
    assert evidence["policy"]["id"] == "wres-wales"
    assert len(evidence["policy"]["sha256"]) == 64
    assert evidence["audit"]["unsafe"] == []
    assert evidence["primary"] == 1
    assert evidence["secondary"] >= 2
    for hidden in evidence["audit"]["hidden"]:
        assert set(hidden) == {"cell", "tables", "status", "interval"}
    # the cleared table passes the check, with its structure and with an inferred one
    for extra in (["--structure", str(files["structure"])], []):
        checked = run(tmp_path, "check", str(out), *extra)
        assert checked.exit_code == 0, checked.output
        assert "verdict: safe" in checked.output


def test_check_json_and_junit_reports(tmp_path: Path, files: dict[str, Path]) -> None:
    as_json = run(tmp_path, "check", str(files["naive"]), "--format", "json")
    assert as_json.exit_code == 1
    report = json.loads(as_json.output)
    assert report["safe"] is False
    assert report["policy"]["id"] == "wres-wales"
    kinds = {(f["kind"], f["cell"]) for f in report["findings"]}
    assert ("recoverable", "(dept=Sales, grade=G2)") in kinds
    finding = next(
        f for f in report["findings"] if f["cell"] == "(dept=Sales, grade=G2)"
    )
    assert finding["interval"] == [4, 4]

    as_junit = run(tmp_path, "check", str(files["naive"]), "--format", "junit")
    assert as_junit.exit_code == 1
    root = ET.fromstring(as_junit.output)  # noqa: S314 - our own output, the point of the test
    suite = root.find("testsuite")
    assert suite is not None
    failures = suite.findall("testcase/failure")
    assert int(suite.get("failures", "0")) == len(failures) >= 1
    assert any("(dept=Sales, grade=G2)" in (f.text or "") for f in failures)


def test_check_reports_a_published_small_count_without_its_value(
    tmp_path: Path, files: dict[str, Path]
) -> None:
    table = tmp_path / "raw.csv"
    table.write_text(
        "dept,grade,count\n"
        + "".join(f"{d},{g},{v}\n" for (d, g), v in all_cells().items())
    )
    result = run(tmp_path, "check", str(table), "--structure", str(files["structure"]))
    assert result.exit_code == 1
    line = next(x for x in result.output.splitlines() if "small_cell" in x)
    assert "(dept=Sales, grade=G2)" in line
    assert " 4" not in line


@pytest.mark.parametrize(
    ("content", "extra", "message"),
    [
        ("dept,grade,count\nSales,G1,lots\n", [], "unknown symbol"),
        (
            "dept,grade,count\nSales,G9,25\n",
            ["--structure", "STRUCTURE"],
            "is not in dimension",
        ),
        ("dept,grade\nSales,G1\n", [], "needs a 'display' or 'count' column"),
        ("dept,grade,count\n", [], "no rows"),
        (
            "dept,grade,count\nSales,G1,25\n",
            ["--policy", "no-such-policy"],
            "not found",
        ),
    ],
)
def test_unusable_input_exits_2_with_one_line(
    tmp_path: Path, files: dict[str, Path], content: str, extra: list[str], message: str
) -> None:
    table = tmp_path / "bad.csv"
    table.write_text(content)
    args = [str(files["structure"]) if a == "STRUCTURE" else a for a in extra]
    result = run(tmp_path, "check", str(table), *args)
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert message in lines[0]
    assert "Traceback" not in result.output


def test_check_of_a_missing_file_exits_2(tmp_path: Path) -> None:
    result = run(tmp_path, "check", str(tmp_path / "nope.csv"))
    assert result.exit_code == 2
    assert "file not found" in result.output


def test_protect_refuses_inconsistent_totals_naming_the_cell(
    tmp_path: Path, files: dict[str, Path]
) -> None:
    cells = all_cells()
    cells[("Ops", "Total")] += 1
    table = tmp_path / "all.csv"
    table.write_text(
        "dept,grade,count\n" + "".join(f"{d},{g},{v}\n" for (d, g), v in cells.items())
    )
    result = run(
        tmp_path,
        "protect", str(table),
        "--structure", str(files["structure"]),
        "--out", str(tmp_path / "out.csv"),
    )  # fmt: skip
    assert result.exit_code == 15
    assert "cell (dept=Ops, grade=Total)" in result.output
    assert "46" not in result.output
    assert not (tmp_path / "out.csv").exists()


def test_protect_writes_percentages_and_xlsx_input(
    tmp_path: Path, files: dict[str, Path]
) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["dept", "grade", "count"])
    for (dept, grade), value in COUNTS.items():
        sheet.append([dept, grade, value])
    source = tmp_path / "headcount.xlsx"
    book.save(source)
    out = tmp_path / "cleared.csv"
    evidence = tmp_path / "ev.json"
    result = run(
        tmp_path,
        "protect", str(source),
        "--structure", str(files["structure"]),
        "--out", str(out),
        "--evidence", str(evidence),
        "--percent-of", "grade",
        "--method", "optimal",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    by_cell = {(r["dept"], r["grade"]): r for r in rows}
    assert by_cell[("Sales", "G2")]["percent_grade"] == "[c]"
    values = all_cells()
    for (dept, grade), row in by_cell.items():
        if grade == "Total":
            assert row["percent_grade"] == ""
        elif "published" == row["status"] == by_cell[(dept, "Total")]["status"]:
            share = 100 * values[(dept, grade)] / values[(dept, "Total")]
            assert row["percent_grade"] == f"{share:.1f}"
        else:
            assert row["percent_grade"] == "[c]"
    assert json.loads(evidence.read_text())["method"]["requested"] == "optimal"
    checked = run(tmp_path, "check", str(out), "--structure", str(files["structure"]))
    assert checked.exit_code == 0, checked.output
