"""The bytes of a release's data artefacts: table CSV, structure files, XLSX and JSON.

Owns how a cleared set or pack is laid out in files, and the neutralisation of text
cells against spreadsheet formula injection (CSV and XLSX only; JSON and the
structure YAML are data formats and keep the engine's text, except that a structure
file repeats its CSV's neutralised codes so the pair re-checks with ``wresgov
check``). Output is deterministic: the same inputs give the same bytes, the XLSX
included (fixed document times and ZIP entry times).

Neutralisation (OWASP "CSV injection"): a text cell whose first character is ``=``,
``+``, ``-``, ``@``, a tab or a carriage return, and which is not a plain decimal
number (``-1.5``, ``+3``, ``12``), gets a single quote in front (``'=A1``). Plain
numbers are left alone: spreadsheets read them as numbers, never as formulas.

This module never writes files, signs anything, prints or logs.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Font
from openpyxl.utils.exceptions import IllegalCharacterError
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from governance.errors import ReleaseError
from governance.sdc.clear import ClearedTable
from governance.sdc.pack import Cleared
from governance.sdc.policy import Policy
from governance.sdc.structure import render_structure
from governance.sdc.table import Dimension

FORMULA_TRIGGERS: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a cell as a formula (OWASP)."""

DATA_FORMAT = "wresgov-release-data/1"
NOTES_SHEET = "notes"
DERIVED_SHEET = "derived"

_NUMBER = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?", re.ASCII)
_SHEET_MAX = 31
_STATUS_MEANINGS = {
    "published": "the value is published",
    "primary": "hidden because it breaks a disclosure rule itself (e.g. a small count)",
    "secondary": "hidden so that another hidden cell cannot be worked out",
}


def is_number_text(text: str) -> bool:
    """Whether ``text`` is a plain decimal number (optional sign, digits, one point)."""
    return _NUMBER.fullmatch(text) is not None


def neutralise(text: str) -> str:
    """Prefix ``'`` to text a spreadsheet would run as a formula; numbers stay as is."""
    if text.startswith(FORMULA_TRIGGERS) and not is_number_text(text):
        return "'" + text
    return text


def table_values(table: ClearedTable) -> list[list[str]]:
    """The table's header and rows as text, in the engine's cleared column order."""
    out = [list(table.columns)]
    out.extend(
        [*cell.codes, cell.display, cell.status, *cell.extras] for cell in table.cells
    )
    return out


def count_neutralised(table: ClearedTable) -> int:
    """How many cells of the table's CSV (header included) are neutralised."""
    return sum(
        neutralise(value) != value for row in table_values(table) for value in row
    )


def render_table_csv(table: ClearedTable) -> bytes:
    """The table as UTF-8 CSV in the engine's cleared format, formula text neutralised.

    Without text to neutralise this is exactly ``table.render_csv()``, so its SHA-256
    equals the table's digest in the evidence.

    Raises:
        ReleaseError: neutralising made two column names equal.
    """
    header = [neutralise(c) for c in table.columns]
    if len(set(header)) != len(header):
        raise ReleaseError(f"table {table.name!r}: two columns have the same name")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in table_values(table):
        writer.writerow([neutralise(value) for value in row])
    return out.getvalue().encode("utf-8")


def _neutral_dimension(table: str, dim: Dimension) -> Dimension:
    codes = [neutralise(code) for code in dim.codes]
    if len(set(codes)) != len(codes):
        raise ReleaseError(
            f"table {table!r}: dimension {dim.name!r} has codes that differ only by a"
            " formula-neutralising quote"
        )
    return Dimension(
        neutralise(dim.name),
        neutralise(dim.total),
        {
            neutralise(parent): [neutralise(kid) for kid in kids]
            for parent, kids in dim.hierarchy.items()
        },
    )


def render_table_structure(table: ClearedTable) -> bytes:
    """The structure file (YAML) for the table's CSV, with the CSV's exact codes.

    Raises:
        ReleaseError: two codes of one dimension become equal when neutralised.
    """
    dims = [_neutral_dimension(table.name, d) for d in table.dimensions]
    return render_structure(dims).encode("utf-8")


@dataclass(frozen=True)
class Notes:
    """What the notes sheet and ``release.json`` say about the release."""

    release_id: str
    request_id: str
    title: str
    purpose: str
    created: str
    policy: Policy


def small_range(policy: Policy, tables: Sequence[str] = ()) -> str:
    """What the primary label means as a range of counts (``1 to 9``), naming the
    ``tables`` where it means another (``0 to 9`` where a table hides zeros too)."""
    rules = policy.disclosure.primary
    top = rules.threshold.min_count - 1
    low = 1 if rules.zeros == "publish" else 0
    text = f"{low} to {top}"
    other = [t for t in tables if (1 if rules.zeros_for(t) == "publish" else 0) != low]
    if other:
        text += f"; {1 - low} to {top} in {', '.join(other)}"
    return text


def symbols(policy: Policy, tables: Sequence[str] = ()) -> dict[str, str]:
    """Each label the policy can show, with its meaning in plain words, for a
    release of ``tables``."""
    rules = policy.disclosure
    min_count = rules.primary.threshold.min_count
    meanings: dict[str, list[str]] = {}
    meanings.setdefault(rules.labels.primary, []).append(
        f"a count of fewer than {min_count} people ({small_range(policy, tables)}),"
        " hidden to protect the people counted"
    )
    meanings.setdefault(rules.labels.secondary, []).append(
        "hidden to protect another hidden cell (complementary suppression) or a"
        " value dominated by a few contributors; the status column says which"
    )
    meanings.setdefault(rules.labels.not_computable, []).append(
        "not computable (for example a zero denominator)"
    )
    return {label: "; or ".join(texts) for label, texts in meanings.items()}


def sheet_names(tables: Sequence[str]) -> dict[str, str]:
    """Map each table name to a unique Excel sheet name (at most 31 characters)."""
    taken = {NOTES_SHEET, DERIVED_SHEET, "history"}
    out: dict[str, str] = {}
    for table in tables:
        name = table[:_SHEET_MAX]
        number = 1
        while name.casefold() in taken:
            number += 1
            suffix = f"~{number}"
            name = table[: _SHEET_MAX - len(suffix)] + suffix
        taken.add(name.casefold())
        out[table] = name
    return out


def _loose_derived(cleared: Cleared) -> list[dict[str, str]]:
    """Derived values not shown as a column of a table (e.g. relative likelihoods)."""
    return [
        {
            "name": d.name,
            "kind": d.kind,
            "display": d.display,
            "interval": d.interval_display or "",
            "status": d.status,
        }
        for d in cleared.derived
        if d.column is None or d.row is None
    ]


def _content(sheet: Worksheet, text: str, *, numeric: bool) -> Cell | int | str | None:
    """One cell's content: a plain number as a number when ``numeric``, else text.

    Empty text leaves the cell empty.

    Decimals keep their places as the number format (``40.0`` shows as ``40.0``).
    Text is neutralised, so it never starts with ``=`` and openpyxl never stores it
    as a formula.
    """
    if not text:
        return None
    if numeric and is_number_text(text):
        if "." not in text:
            return int(text)
        cell = Cell(sheet, row=1, column=1, value=float(text))  # append places it
        cell.number_format = "0." + "0" * len(text.split(".", 1)[1])
        return cell
    return neutralise(text)


def _fill(
    sheet: Worksheet, rows: Iterable[Sequence[str]], numeric_from: int | None
) -> None:
    """Append the rows; below the header, columns from index ``numeric_from`` on
    hold numbers where the text is a plain number."""
    for number, values in enumerate(rows, start=1):
        first = len(values) if numeric_from is None or number == 1 else numeric_from
        row = [
            _content(sheet, text, numeric=column >= first)
            for column, text in enumerate(values)
        ]
        try:
            sheet.append(row)
        except IllegalCharacterError:
            raise ReleaseError(
                f"sheet {sheet.title!r}, row {number}: has a control character a"
                " workbook cannot hold"
            ) from None
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"


def _notes_rows(
    notes: Notes, cleared: Cleared, sheets: Mapping[str, str]
) -> list[list[str]]:
    policy = notes.policy
    rows = [
        ["item", "value"],
        ["release", notes.release_id],
        ["request", notes.request_id],
    ]
    if notes.title:
        rows.append(["title", notes.title])
    rows += [
        ["purpose", notes.purpose],
        ["date", notes.created],
        ["policy", f"{policy.id} version {policy.version}"],
        ["policy sha256", policy.sha256],
        ["cleared set sha256", cleared.digest],
    ]
    shown = symbols(policy, [t.name for t in cleared.tables])
    rows += [[f"symbol {label}", meaning] for label, meaning in shown.items()]
    rows += [[f"status {s}", meaning] for s, meaning in _STATUS_MEANINGS.items()]
    rows.append(
        [
            "text beginning =, +, -, @",
            "shown with a leading ' so that no spreadsheet runs it as a formula",
        ]
    )
    rows += [[f"sheet {sheet}", f"table {name}"] for name, sheet in sheets.items()]
    return rows


@dataclass(frozen=True)
class IndicatorSheet:
    """A sheet of one indicator's figures as a reader sees them (a pack's)."""

    name: str
    """The indicator id, used as the sheet name (at most 31 characters)."""
    title: str
    rows: tuple[tuple[str, ...], ...]
    """Text rows; plain numbers after the first column are written as numbers."""


def _indicator_names(
    sheets: Sequence[IndicatorSheet], tables: Mapping[str, str]
) -> None:
    taken = {n.casefold() for n in (*tables.values(), NOTES_SHEET, DERIVED_SHEET)}
    for sheet in sheets:
        if len(sheet.name) > _SHEET_MAX or sheet.name.casefold() in taken:
            raise ReleaseError(
                f"indicator sheet {sheet.name!r}: name too long or taken"
            )
        taken.add(sheet.name.casefold())


def render_workbook(
    cleared: Cleared,
    notes: Notes,
    moment: datetime,
    indicators: Sequence[IndicatorSheet] = (),
) -> bytes:
    """The XLSX workbook: a notes sheet, one sheet per indicator (packs), one sheet
    per table, then derived values.

    Raises:
        ReleaseError: a text cell holds a control character XLSX cannot store, or an
            indicator sheet's name is too long or taken.
    """
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]  # a fresh book's one sheet
    sheets = sheet_names([t.name for t in cleared.tables])
    _indicator_names(indicators, sheets)
    rows = _notes_rows(notes, cleared, sheets)
    rows += [[f"sheet {i.name}", f"indicator: {i.title}"] for i in indicators]
    _fill(book.create_sheet(NOTES_SHEET), rows, None)
    for indicator in indicators:
        _fill(book.create_sheet(indicator.name), indicator.rows, 1)
    for table in cleared.tables:
        sheet = book.create_sheet(sheets[table.name])
        _fill(sheet, table_values(table), len(table.dimensions))
    loose = _loose_derived(cleared)
    if loose:
        rows = [list(loose[0])] + [list(d.values()) for d in loose]
        _fill(book.create_sheet(DERIVED_SHEET), rows, 1)
    naive = moment.astimezone(UTC).replace(tzinfo=None, microsecond=0)
    book.properties.created = naive
    book.properties.modified = naive
    book.properties.creator = "wresgov"
    book.properties.title = notes.release_id
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(book, archive).save()
    return _fixed_zip(raw.getvalue(), naive)


def _fixed_zip(data: bytes, moment: datetime) -> bytes:
    """Rewrite a ZIP with every entry's time, mode and origin fixed (reproducible)."""
    stamp = (max(moment.year, 1980), *moment.timetuple()[1:6])
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(out, "w") as target,
    ):
        for entry in source.infolist():
            info = zipfile.ZipInfo(entry.filename, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o644 << 16
            target.writestr(info, source.read(entry.filename), compresslevel=6)
    return out.getvalue()


def _value(row_display: str, status: str) -> int | float | None:
    if status != "published" or not is_number_text(row_display):
        return None
    return float(row_display) if "." in row_display else int(row_display)


def data_mapping(
    cleared: Cleared, notes: Notes, paths: Mapping[str, tuple[str, str]]
) -> dict[str, object]:
    """``release.json`` as plain data; ``paths`` maps table name to (csv, structure)."""
    policy = notes.policy
    tables = []
    for table in cleared.tables:
        dims = [d.name for d in table.dimensions]
        tables.append(
            {
                "name": table.name,
                "measure": table.measure,
                "dimensions": dims,
                "columns": list(table.columns),
                "csv": paths[table.name][0],
                "structure": paths[table.name][1],
                "rows": [
                    {
                        "codes": dict(zip(dims, cell.codes, strict=True)),
                        "display": cell.display,
                        "status": cell.status,
                        "value": _value(cell.display, cell.status),
                        "extra": dict(
                            zip(table.extra_columns, cell.extras, strict=True)
                        ),
                    }
                    for cell in table.cells
                ],
            }
        )
    return {
        "format": DATA_FORMAT,
        "release_id": notes.release_id,
        "request_id": notes.request_id,
        "title": notes.title,
        "purpose": notes.purpose,
        "created": notes.created,
        "policy": {"id": policy.id, "version": policy.version, "sha256": policy.sha256},
        "symbols": symbols(policy, [t.name for t in cleared.tables]),
        "statuses": dict(_STATUS_MEANINGS),
        "digest": cleared.digest,
        "tables": tables,
        "derived": [
            {
                "name": d.name,
                "kind": d.kind,
                "status": d.status,
                "display": d.display,
                "interval": d.interval_display,
                "table": d.column[0] if d.column else None,
                "column": d.column[1] if d.column else None,
                "row": list(d.row) if d.row else None,
            }
            for d in cleared.derived
        ],
    }


def render_data(
    cleared: Cleared, notes: Notes, paths: Mapping[str, tuple[str, str]]
) -> bytes:
    """``release.json``: every table's rows with codes, display, status and value.

    Compact (no indentation): a national pack holds tens of thousands of rows, and
    indented JSON is several times larger and slower to write.
    """
    data = data_mapping(cleared, notes, paths)
    text = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return (text + "\n").encode("utf-8")
