"""Read an ESR extract: detect its encoding, check its shape, validate every row.

Part of the personal-data zone. ``scan`` reads the raw bytes once (SHA-256 of the
content, encoding, binary garbage); ``read_rows`` then streams the file in batches of
lines: a batch the csv module would read as one whole row a line is split on commas
in one string operation (``LineSplitter``), and any other batch is read by the csv
module itself. Rows that fail validation become ``QuarantineEntry`` values (row,
field, problem: never the value), and rows repeating an earlier row's duplicate key
are left out (``RepeatedRows``); problems with the file as a whole raise
``IngestError`` before anything is stored. Memory holds one batch of rows, plus one
duplicate key per row read (about 150 bytes a row).

Accepted: UTF-8 with or without a byte-order mark, Windows-1252, CRLF or LF line
ends, quoted fields, header case/spacing/punctuation variants and the aliases in
``governance.extract_format``. Columns wresgov does not need, and the name and title
columns, are never read into a record.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import chain, compress, islice, repeat
from operator import contains
from pathlib import Path
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from governance.errors import IngestError
from governance.extract_format import COLUMNS, Kind, header_lookup, normalise_header
from governance.models import RECORD_FIELDS, QuarantineEntry
from governance.validate import DUPLICATE_KEYS, Columns, RowValidator, keep_rows

CHUNK: Final = 1 << 20
# Small enough for a batch's strings to stay in the CPU caches while its columns
# are validated (2,000 measured a little faster than 5,000, and 1,000 than 2,000).
BATCH_ROWS: Final = 1_000
MAX_FIELD_CHARS: Final = 131_072  # the csv module's own default limit
MAX_REPORTED_PROBLEMS: Final = 10_000
MAX_QUOTED_SHARE: Final = 8  # more than one line in 8 quoted: read with csv

Encoding = Literal["utf-8", "utf-8-sig", "cp1252"]


class IngestPolicy(BaseModel):
    """When row errors reject the whole extract (``policies/ingest.yaml``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = "ingest"
    on_row_error: Literal["quarantine", "reject"] = "quarantine"
    """``quarantine``: store the good rows, report the bad; ``reject``: any error
    rejects the extract."""
    max_error_rate: float = Field(default=0.02, ge=0.0, le=1.0)
    """With ``quarantine``: reject the extract when more than this share of its data
    rows fail validation (a sign of a wrong or damaged file)."""


@dataclass(frozen=True)
class FileScan:
    sha256: str
    encoding: Encoding
    size: int


def scan(path: Path, *, label: str) -> FileScan:
    """Hash the file and decide its encoding, reading it once in chunks.

    Raises:
        IngestError: the file is missing, empty, binary or in an unknown encoding.
    """
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    utf8 = True
    size = 0
    first = b""
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(CHUNK):
                if not first:
                    first = chunk[:4]
                size += len(chunk)
                digest.update(chunk)
                if b"\0" in chunk:
                    raise IngestError("is binary, not a CSV text file", file=label)
                if utf8:
                    try:
                        decoder.decode(chunk)
                    except UnicodeDecodeError:
                        utf8 = False
            if utf8:
                try:
                    decoder.decode(b"", final=True)
                except UnicodeDecodeError:
                    utf8 = False
    except FileNotFoundError:
        raise IngestError("does not exist", file=label) from None
    except IsADirectoryError:
        raise IngestError("is a directory, not a file", file=label) from None
    except PermissionError:
        raise IngestError("cannot be read (permission denied)", file=label) from None
    if size == 0:
        raise IngestError("is empty", file=label)
    encoding: Encoding
    if utf8:
        encoding = "utf-8-sig" if first.startswith(codecs.BOM_UTF8) else "utf-8"
    else:
        encoding = "cp1252"
        _check_cp1252(path, label)
    return FileScan(digest.hexdigest(), encoding, size)


def _check_cp1252(path: Path, label: str) -> None:
    decoder = codecs.getincrementaldecoder("cp1252")()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            try:
                text = decoder.decode(chunk)
            except UnicodeDecodeError:
                raise IngestError(
                    "is neither UTF-8 nor Windows-1252 text", file=label
                ) from None
            if any(ord(c) < 32 and c not in "\t\r\n" for c in text):
                raise IngestError(
                    "contains control characters; not a CSV text file", file=label
                )


@dataclass
class RowBatch:
    columns: Columns
    """The batch's valid, not repeated records, field by field (``RECORD_FIELDS``
    order); no columns when there are none."""
    problems: list[QuarantineEntry] = field(default_factory=list)
    duplicates: list[tuple[int, int]] = field(default_factory=list)
    """(row, earlier row with the same duplicate key), for rows left out."""
    rows_read: int = 0
    rows_bad: int = 0
    """Rows left out for a validation problem (duplicates are counted apart)."""

    @property
    def rows_stored(self) -> int:
        return len(self.columns[0]) if self.columns else 0


class RepeatedRows:
    """Finds rows whose duplicate key (``DUPLICATE_KEYS``) repeats an earlier row.

    Keeps every key seen in the extract, so memory grows with the extract (about
    150 bytes a row); rows arrive in file order, so the first row seen with a key
    is the earliest. Until the first repeat, the keys go into a set (one cheap
    insertion a row, and a batch without repeats adds exactly its own number of
    keys) with the rows in an array beside them; at the first repeat they become a
    dictionary of each key's first row.
    """

    def __init__(self, kind: Kind) -> None:
        fields = RECORD_FIELDS[kind]
        self._positions = [fields.index(name) for name in DUPLICATE_KEYS[kind]]
        self._seen: set[object] = set()
        self._keys: list[object] = []
        self._rows = array("q")
        self._first: dict[object, int] | None = None

    def drop(self, columns: Columns) -> tuple[Columns, list[tuple[int, int]]]:
        """Leave out repeated rows; return the rest and (row, first row) pairs."""
        if not columns or not self._positions:
            return columns, []
        rows = columns[0]
        keys = [columns[position] for position in self._positions]
        key_column = keys[0] if len(keys) == 1 else list(zip(*keys, strict=True))
        first = self._first
        if first is None:
            before = len(self._seen)
            self._seen.update(key_column)
            if len(self._seen) - before == len(rows):
                self._keys.extend(key_column)
                self._rows.extend(rows)
                return columns, []
            first = self._first = dict(zip(self._keys, self._rows, strict=True))
            self._seen, self._keys, self._rows = set(), [], array("q")
        firsts = list(map(first.setdefault, key_column, rows))
        if firsts == rows:
            return columns, []
        repeated = [
            position
            for position, (first_row, row) in enumerate(zip(firsts, rows, strict=True))
            if first_row != row
        ]
        pairs = [(rows[position], firsts[position]) for position in repeated]
        return keep_rows(list(rows), columns, set(repeated))[1], pairs


def _column_positions(
    header: list[str], kind: Kind, wanted: tuple[str, ...], label: str
) -> list[int]:
    """Map each wanted field to its column index (-1 when an optional one is absent)."""
    lookup = header_lookup(kind)
    positions: dict[str, int] = {}
    for index, name in enumerate(header):
        field_name = lookup.get(normalise_header(name))
        if field_name is None:
            continue
        if field_name in positions:
            raise IngestError(
                f"the header names column {field_name!r} twice", file=label, row=0
            )
        positions[field_name] = index
    missing = [
        column.header
        for column in COLUMNS[kind]
        if column.mandatory and column.name not in positions
    ]
    if missing:
        if len(header) == 1 and any(sep in header[0] for sep in ";\t|"):
            raise IngestError(
                "wrong delimiter: wresgov reads comma-separated files",
                file=label,
                row=0,
            )
        raise IngestError(
            f"missing mandatory column(s) {', '.join(missing)} for a {kind} extract",
            file=label,
            row=0,
        )
    return [positions.get(name, -1) for name in wanted]


def read_rows(
    path: Path,
    file_scan: FileScan,
    validator: RowValidator,
    *,
    label: str,
    batch_rows: int = BATCH_ROWS,
    progress: Callable[[int], None] | None = None,
) -> Iterator[RowBatch]:
    """Stream validated records in batches; structural faults raise ``IngestError``."""
    kind = validator.kind
    repeated = RepeatedRows(kind)
    with path.open(encoding=file_scan.encoding, newline="") as handle:
        header_reader = csv.reader(handle, strict=True)
        try:
            header = next(header_reader, None)
        except csv.Error:
            raise IngestError(
                "the header is not valid CSV", file=label, row=0
            ) from None
        if header is None or not any(cell.strip() for cell in header):
            raise IngestError("has no header row", file=label, row=0)
        positions = _column_positions(header, kind, validator.fields, label)
        width = len(header)
        splitter = LineSplitter(width, positions)
        lines_read = header_reader.line_num
        row_number = 0
        reported = 0
        while lines := list(islice(handle, batch_rows)):
            batch = RowBatch([])
            columns = splitter.split(lines)
            if columns is not None:
                # The usual case: one row a line, every row as wide as the header.
                numbers = list(range(row_number + 1, row_number + 1 + len(lines)))
                row_number += len(lines)
                lines_read += len(lines)
                batch.rows_read = len(numbers)
                records, problems = validator.validate_columns(numbers, columns)
            else:
                chunk, used = _parse_lines(lines, handle, label, lines_read)
                lines_read += used
                numbers, raws = [], []
                for values in chunk:
                    if not values:
                        continue  # a blank line is not a row
                    row_number += 1
                    if len(values) == width:
                        numbers.append(row_number)
                        raws.append(
                            tuple(values[i] if i >= 0 else "" for i in positions)
                        )
                    else:
                        batch.rows_bad += 1
                        batch.problems.append(
                            QuarantineEntry(
                                row_number,
                                "(row)",
                                f"has {len(values)} fields, the header has {width}",
                            )
                        )
                batch.rows_read = len(numbers) + batch.rows_bad
                records, problems = validator.validate_batch(numbers, raws)
            batch.columns, batch.duplicates = repeated.drop(records)
            batch.rows_bad += len({row for row, _, _ in problems})
            batch.problems.extend(
                QuarantineEntry(row, field_name, problem)
                for row, field_name, problem in problems
            )
            if reported >= MAX_REPORTED_PROBLEMS:
                batch.problems = []
            elif reported + len(batch.problems) > MAX_REPORTED_PROBLEMS:
                # The report keeps the extract's first problems by row, whatever
                # the batch size.
                batch.problems.sort(key=_by_row)
                batch.problems = batch.problems[: MAX_REPORTED_PROBLEMS - reported]
            reported += len(batch.problems)
            yield batch
            if progress is not None:
                progress(row_number)
        if row_number == 0:
            if kind == "staff":
                # Every body has staff in post; an empty snapshot is a failed export.
                raise IngestError("has a header but no data rows", file=label)
            yield RowBatch([])  # no cases, no training, no applications: valid


def _by_row(entry: QuarantineEntry) -> tuple[int, str]:
    return entry.row, entry.field


class LineSplitter:
    """Splits a block of lines into the columns wresgov reads, without a csv parser.

    Only for blocks the csv module would read the same way: every line one row
    with exactly as many fields as the header, and no field longer than the csv
    module's limit. Unquoted lines are split on commas all at once (one string
    operation for the block); the few lines holding a quote character are read
    by the csv module one by one and must each be one whole row. Any other block
    (blank lines, short or long rows, a quoted field across lines, bad quoting,
    many quoted lines) gets ``None``: the caller reads it with the csv module.
    """

    def __init__(self, width: int, positions: list[int]) -> None:
        self._width = width
        self._positions = positions
        self._limit = csv.field_size_limit()
        self._blank_row = "," * (width - 1)

    def split(self, lines: list[str]) -> list[list[str]] | None:
        """The block's columns in ``positions`` order, or ``None`` (see above)."""
        width = self._width
        if width < 2:  # pragma: no cover - every kind has several mandatory columns
            return None
        quoted = list(compress(range(len(lines)), map(contains, lines, repeat('"'))))
        parsed: list[list[str]] = []
        if quoted:
            if len(quoted) * MAX_QUOTED_SHARE > len(lines):
                return None
            reader = csv.reader([lines[i] for i in quoted], strict=True)
            try:
                for count in range(1, len(quoted) + 1):
                    values = next(reader)
                    if reader.line_num != count or len(values) != width:
                        return None
                    parsed.append(values)
            except csv.Error:
                return None
            lines = lines.copy()
            for i in quoted:
                # Stands in for the row until its parsed values are put back.
                line = lines[i]
                lines[i] = self._blank_row + line[len(line.rstrip("\r\n")) :]
        # The lines joined by commas: splitting that on commas gives every cell,
        # the last cell of a line still followed by its line break.
        text = ",".join(lines)
        if "\0" in text:
            return None
        # Every line but the last ends with the first line's break, all CRLF or
        # all LF, and there is no other CR or LF anywhere (as many LFs as lines
        # ending with one; as many CRs as LFs, or none): so every cell holding a
        # line break is the last cell of its line.
        ending = "\r\n" if lines[0].endswith("\r\n") else "\n"
        breaks = text.count("\n")
        if breaks != len(lines) - (not lines[-1].endswith(ending)) or not all(
            map(str.endswith, lines[:-1], repeat(ending))
        ):
            return None
        if text.count("\r") != breaks if ending == "\r\n" else "\r" in text:
            return None
        if max(map(len, lines)) > self._limit:  # counting line breaks: on the safe side
            return None
        cells = text.split(",")
        # Every line has width - 1 commas exactly when there are width cells a
        # line and every line break is in a cell at a multiple of width (each of
        # the lines before the last then ends on such a cell, and the last line
        # gets what is left: width cells).
        if len(cells) != len(lines) * width:
            return None
        ends = "".join(cells[width - 1 :: width])
        if ends.count("\n") != breaks:
            return None
        last = width - 1
        columns = [
            [""] * len(lines)
            if position < 0
            # The last cells without their line breaks, in one split.
            else ends.split(ending)[: len(lines)]
            if position == last
            else cells[position::width]
            for position in self._positions
        ]
        for line_index, values in zip(quoted, parsed, strict=True):
            for column, position in zip(columns, self._positions, strict=True):
                if position >= 0:
                    column[line_index] = values[position]
        return columns


def _parse_lines(
    lines: list[str], handle: Iterator[str], label: str, before: int
) -> tuple[list[list[str]], int]:
    """Read a block with the csv module: its rows, and how many lines they took.

    A quoted field may run past the block; the rest of it comes from ``handle``.
    """
    reader = csv.reader(chain(lines, handle), strict=True)
    rows: list[list[str]] = []
    try:
        while reader.line_num < len(lines):
            rows.append(next(reader))
    except csv.Error as exc:
        raise IngestError(
            f"{_csv_problem(exc)} (line {before + reader.line_num})", file=label
        ) from None
    return rows, reader.line_num


def _csv_problem(exc: csv.Error) -> str:
    text = str(exc)
    if "field larger than field limit" in text:
        return f"a field is longer than {MAX_FIELD_CHARS} characters"
    if "unexpected end of data" in text or "EOF" in text:
        return "the file ends inside a quoted field (truncated?)"
    if (
        "NUL" in text or "line contains NUL" in text
    ):  # pragma: no cover - scan catches NUL
        return "contains NUL bytes"
    return "is not valid CSV (unbalanced quotes?)"
