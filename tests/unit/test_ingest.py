"""Reading extracts in batches: the batch size never changes what is read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from governance.extract_format import Kind
from governance.ingest import read_rows, scan
from governance.pseudonymise import MasterKey, Pseudonymiser
from governance.reference import load_reference
from governance.validate import WRONG_BAND, RowContext, RowValidator
from tests.factories import extract_text, make_row

Read = tuple[
    list[list[Any]], list[tuple[int, str, str]], list[tuple[int, int]], int, int
]


def read(path: Path, kind: Kind, batch_rows: int) -> Read:
    """Everything ``read_rows`` gives, joined across batches."""
    validator = RowValidator(
        kind,
        RowContext(load_reference(), "7A1", 2026),
        Pseudonymiser(MasterKey(bytes(32))),
    )
    columns: list[list[Any]] = []
    problems: list[tuple[int, str, str]] = []
    duplicates: list[tuple[int, int]] = []
    rows_read = rows_bad = 0
    for batch in read_rows(
        path, scan(path, label="x"), validator, label="x", batch_rows=batch_rows
    ):
        if batch.columns:
            columns = columns or [[] for _ in batch.columns]
            for joined, column in zip(columns, batch.columns, strict=True):
                joined.extend(column)
        problems += [
            (entry.row, entry.field, entry.problem) for entry in batch.problems
        ]
        duplicates += batch.duplicates
        rows_read += batch.rows_read
        rows_bad += batch.rows_bad
    return columns, problems, duplicates, rows_read, rows_bad


def test_batches_of_any_size_read_the_same(tmp_path: Path) -> None:
    rows = [make_row("staff", i) for i in range(40)]
    rows[9]["job_role"] = "Nurse,\r\nSenior"  # a quoted line break across batches
    rows[20]["assignment_number"] = rows[3]["assignment_number"]
    rows[21]["assignment_number"] = rows[3]["assignment_number"]
    rows[30]["ethnic_origin"] = "QX"
    lines = extract_text("staff", rows).split("\r\n")
    lines.insert(15, "")  # a blank line is not a row
    lines.insert(25, "1,2,3")  # a short row
    path = tmp_path / "staff.csv"
    path.write_text("\r\n".join(lines), newline="")

    whole = read(path, "staff", 5_000)
    for batch_rows in (1, 3, 7, 10):
        assert read(path, "staff", batch_rows) == whole
    columns, problems, duplicates, rows_read, rows_bad = whole
    assert duplicates == [(21, 4), (22, 4)]
    assert problems == [
        (23, "(row)", "has 3 fields, the header has 17"),
        (32, "ethnic_origin", "is not an NHS ethnic category code"),
    ]
    assert (rows_read, rows_bad, len(columns[0])) == (41, 2, 37)
    assert "Nurse,\r\nSenior" in columns[11]


@pytest.mark.parametrize("kind", ["recruitment", "er-cases", "training"])
def test_repeated_keys_are_left_out(tmp_path: Path, kind: Kind) -> None:
    rows = [make_row(kind, i) for i in range(12)]
    rows += [dict(rows[2]), dict(rows[7])]
    path = tmp_path / f"{kind}.csv"
    path.write_text(extract_text(kind, rows), newline="")
    columns, problems, duplicates, rows_read, rows_bad = read(path, kind, 5)
    assert duplicates == [(13, 3), (14, 8)]
    assert (rows_read, rows_bad, problems, len(columns[0])) == (14, 0, [], 12)


def test_every_kind_of_row_problem_is_reported(tmp_path: Path) -> None:
    rows = [make_row("staff", i) for i in range(12)]
    rows[1]["employee_number"] = "20000002?"  # not an identifier: pydantic says so
    rows[2]["employee_number"] = "  "
    rows[6]["ni_number"] = "QQ 12"
    rows[3]["pay_band"] = "Consultant"  # a medical grade outside Medical and Dental
    rows[4].update(date_of_birth="01/06/1990", start_date="31/05/2006")
    rows[5].update(date_of_birth="01/06/1990", start_date="01/06/2006")  # just 16
    path = tmp_path / "staff.csv"
    path.write_text(extract_text("staff", rows), newline="")
    columns, problems, duplicates, rows_read, rows_bad = read(path, "staff", 5)
    assert problems == [
        (2, "employee_number", "is not a valid identifier"),
        (3, "employee_number", "is blank"),
        (4, "pay_band", WRONG_BAND),
        (5, "start_date", "is before the person was 16"),
        (7, "ni_number", "is not a valid National Insurance number"),
    ]
    assert (rows_read, rows_bad, len(columns[0]), duplicates) == (12, 5, 7, [])


def test_a_batch_without_a_valid_row(tmp_path: Path) -> None:
    rows = [
        make_row("recruitment", i, shortlisted="N", appointed="Y") for i in range(3)
    ]
    rows += [make_row("recruitment", 9)]
    path = tmp_path / "recruitment.csv"
    path.write_text(extract_text("recruitment", rows), newline="")
    columns, problems, _, rows_read, rows_bad = read(path, "recruitment", 3)
    assert [row for row, _, _ in problems] == [1, 2, 3]
    assert (rows_read, rows_bad, columns[0]) == (4, 3, [4])


def test_ni_numbers_with_spaces_or_blank(tmp_path: Path) -> None:
    rows = [make_row("staff", i) for i in range(6)]
    written = [row["ni_number"] for row in rows]
    rows[1]["ni_number"] = f"{written[1][:2]} {written[1][2:4]} {written[1][4:]}"
    rows[2]["ni_number"] = ""
    path = tmp_path / "staff.csv"
    path.write_text(extract_text("staff", rows), newline="")
    columns, problems, _, _, _ = read(path, "staff", 5)
    pseudonymiser = Pseudonymiser(MasterKey(bytes(32)))
    assert problems == []
    assert columns[3] == [
        None if i == 2 else pseudonymiser.pseudonym("ni", written[i]) for i in range(6)
    ]


def test_the_report_keeps_the_first_problems_by_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("governance.ingest.MAX_REPORTED_PROBLEMS", 3)
    rows = [make_row("staff", i) for i in range(8)]
    for i in (1, 2, 5):
        rows[i]["ethnic_origin"] = "QX"
        rows[i]["sex"] = "?"
    path = tmp_path / "staff.csv"
    path.write_text(extract_text("staff", rows), newline="")
    reports = set()
    for batch_rows in (1, 2, 3, 100):
        _, problems, _, rows_read, rows_bad = read(path, "staff", batch_rows)
        assert (rows_read, rows_bad) == (8, 3)
        reports.add(tuple(sorted(problems)))  # the service sorts them by row too
    (report,) = reports
    assert [(row, field) for row, field, _ in report] == [
        (2, "ethnic_origin"),
        (2, "sex"),
        (3, "ethnic_origin"),
    ]
