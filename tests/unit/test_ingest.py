"""Reading extracts in batches: the batch size never changes what is read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from governance.extract_format import Kind
from governance.ingest import read_rows, scan
from governance.pseudonymise import MasterKey, Pseudonymiser
from governance.reference import load_reference
from governance.validate import RowContext, RowValidator
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
