"""Tidy tables in files: reading CSV and XLSX, and turning rows into input cells.

A tidy table has a header row, one column per dimension, a ``count`` column and,
for magnitude tables, a magnitude column (e.g. ``fte``) with optional ``top1``,
``top2``... columns (the largest individual contributions, largest first). Cells are
text: surrounding spaces are trimmed, and spreadsheet numbers that are whole are read
as their digits (``5``, not ``5.0``), so codes compare as written.

This module reads the file it is given and nothing else. Errors name the file, the
row (as a spreadsheet shows it: the header is row 1) and the column, never a value.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from governance.errors import TableError
from governance.sdc.table import Dimension, InputCell, Table

TOP_COLUMN = re.compile(r"^top([1-9][0-9]?)$")


@dataclass(frozen=True)
class TidyFile:
    """A rectangular table of text read from a file."""

    source: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    row_numbers: tuple[int, ...]

    def column(self, name: str) -> int:
        """Return the position of a column.

        Raises:
            TableError: the file has no such column.
        """
        try:
            return self.columns.index(name)
        except ValueError:
            raise TableError(f"{self.source}: no column {name!r}") from None


def read_tidy(path: Path) -> TidyFile:
    """Read a CSV (UTF-8, with or without a BOM) or XLSX file's first sheet.

    Raises:
        TableError: the file is missing, unreadable, empty, has a blank or repeated
            column name, or a row with the wrong number of fields.
    """
    if not path.is_file():
        raise TableError(f"{path}: file not found")
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        raw = _read_xlsx(path)
    else:
        raw = _read_csv(path)
    return _tidy(str(path), raw)


def parse_tidy_csv(text: str, *, source: str) -> TidyFile:
    """Read CSV text (an upload, say) as :func:`read_tidy` reads a CSV file.

    Raises:
        TableError: as :func:`read_tidy`; ``source`` names the text in messages.
    """
    try:
        reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
        raw = [(reader.line_num, fields) for fields in reader]
    except csv.Error:
        raise TableError(f"{source}: cannot be read as CSV") from None
    return _tidy(source, raw)


def _tidy(source: str, raw: list[tuple[int, list[str]]]) -> TidyFile:
    if not raw:
        raise TableError(f"{source}: the file is empty")
    (header_line, header), *body = raw
    columns = tuple(c.strip() for c in header)
    if any(not c for c in columns):
        raise TableError(f"{source}: row {header_line}: a column has no name")
    if len(set(columns)) != len(columns):
        dup = next(c for c in columns if columns.count(c) > 1)
        raise TableError(f"{source}: column {dup!r} appears twice")
    rows, numbers = [], []
    for line, fields in body:
        cells = tuple(f.strip() for f in fields)
        if not any(cells):
            continue  # blank lines (and trailing empty spreadsheet rows) carry nothing
        if len(cells) != len(columns):
            raise TableError(
                f"{source}: row {line}: has {len(cells)} fields, the header has {len(columns)}"
            )
        rows.append(cells)
        numbers.append(line)
    if not rows:
        raise TableError(f"{source}: the file has a header but no rows")
    return TidyFile(source, columns, tuple(rows), tuple(numbers))


def _read_csv(path: Path) -> list[tuple[int, list[str]]]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            out = []
            for fields in reader:
                out.append((reader.line_num, fields))
            return out
    except (OSError, UnicodeDecodeError, csv.Error):
        raise TableError(f"{path}: cannot be read as UTF-8 CSV") from None


def _read_xlsx(path: Path) -> list[tuple[int, list[str]]]:
    import openpyxl  # imported here: only XLSX input needs it

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - openpyxl raises many types; its text may quote cells
        raise TableError(f"{path}: cannot be read as an XLSX workbook") from None
    try:
        sheet = book.worksheets[0]
        out = []
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            out.append((number, [_cell_text(v) for v in values]))
    finally:
        book.close()
    width = max((len(fields) for _, fields in out), default=0)
    while width and all(len(f) < width or not f[width - 1] for _, f in out):
        width -= 1  # trailing empty columns that openpyxl reports
    return [(n, (f + [""] * width)[:width]) for n, f in out]


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return str(int(value))
    return str(value)


def parse_number(text: str, *, source: str, row: int, column: str) -> float:
    """Read a finite number from a cell.

    Raises:
        TableError: the cell is empty or not a number (the value is not quoted).
    """
    try:
        value = float(text)
    except ValueError:
        raise TableError(
            f"{source}: row {row}: column {column!r} is not a number"
        ) from None
    if not math.isfinite(value):
        raise TableError(
            f"{source}: row {row}: column {column!r} is not a finite number"
        )
    return value


def input_cells(
    tidy: TidyFile,
    dimensions: Sequence[Dimension],
    *,
    magnitude: str | None = None,
) -> list[InputCell]:
    """Turn a tidy file's rows into :class:`InputCell` for :meth:`Table.from_cells`.

    Every dimension needs a column, and ``count`` is required. A magnitude table
    names its magnitude column; ``top1``... columns are then read too. Any other
    column is refused, so a misspelt column is never silently ignored.

    Raises:
        TableError: a column is missing or unexpected, or a cell is not a number.
    """
    dim_cols = [tidy.column(d.name) for d in dimensions]
    count_col = tidy.column("count")
    mag_col = tidy.column(magnitude) if magnitude is not None else None
    tops = sorted(
        (int(m.group(1)), i)
        for i, c in enumerate(tidy.columns)
        if (m := TOP_COLUMN.match(c)) is not None
    )
    if tops and mag_col is None:
        raise TableError(
            f"{tidy.source}: top contribution columns need a magnitude column"
        )
    if [k for k, _ in tops] != list(range(1, len(tops) + 1)):
        raise TableError(
            f"{tidy.source}: top columns must be top1, top2, ... without gaps"
        )
    known = {*dim_cols, count_col, *(i for _, i in tops)}
    if mag_col is not None:
        known.add(mag_col)
    for i, name in enumerate(tidy.columns):
        if i not in known:
            raise TableError(f"{tidy.source}: unexpected column {name!r}")
    cells = []
    src = tidy.source
    for fields, row in zip(tidy.rows, tidy.row_numbers, strict=True):
        codes = tuple(fields[i] for i in dim_cols)
        count = parse_number(fields[count_col], source=src, row=row, column="count")
        value = None
        top: tuple[float, ...] = ()
        if mag_col is not None:
            value = parse_number(
                fields[mag_col], source=src, row=row, column=tidy.columns[mag_col]
            )
            given = [(tidy.columns[i], fields[i]) for _, i in tops]
            top = tuple(
                parse_number(text or "0", source=src, row=row, column=name)
                for name, text in given
            )
        cells.append(InputCell(codes, count, value, top, row))
    return cells


def load_table(
    path: Path,
    dimensions: Sequence[Dimension],
    *,
    name: str | None = None,
    magnitude: str | None = None,
    decimals: int | None = None,
) -> Table:
    """Read a tidy CSV or XLSX file into a :class:`Table` (named after the file).

    Raises:
        TableError: see :func:`read_tidy`, :func:`input_cells` and
            :meth:`Table.from_cells`.
    """
    tidy = read_tidy(path)
    cells = input_cells(tidy, dimensions, magnitude=magnitude)
    return Table.from_cells(
        name or path.stem,
        dimensions,
        cells,
        measure=magnitude or "count",
        decimals=decimals,
    )
