"""Read an ESR extract: detect its encoding, check its shape, validate every row.

Part of the personal-data zone. ``scan`` reads the raw bytes once (SHA-256 of the
content, encoding, binary garbage); ``read_rows`` then streams the file through the
csv module in batches, so memory does not grow with the file. Rows that fail
validation become ``QuarantineEntry`` values (row, field, problem: never the value);
problems with the file as a whole raise ``IngestError`` before anything is stored.

Accepted: UTF-8 with or without a byte-order mark, Windows-1252, CRLF or LF line
ends, quoted fields, header case/spacing/punctuation variants and the aliases in
``governance.extract_format``. Columns wresgov does not need, and the name and title
columns, are never read into a record.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from governance.errors import IngestError
from governance.extract_format import COLUMNS, Kind, header_lookup, normalise_header
from governance.models import QuarantineEntry
from governance.validate import RowValidator

CHUNK: Final = 1 << 20
BATCH_ROWS: Final = 5_000
MAX_FIELD_CHARS: Final = 131_072  # the csv module's own default limit
MAX_REPORTED_PROBLEMS: Final = 10_000

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
    records: list[tuple[object, ...]]
    problems: list[QuarantineEntry] = field(default_factory=list)
    rows_read: int = 0
    rows_bad: int = 0


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
    with path.open(encoding=file_scan.encoding, newline="") as handle:
        reader = csv.reader(handle, strict=True)
        try:
            header = next(reader, None)
        except csv.Error:
            raise IngestError(
                "the header is not valid CSV", file=label, row=0
            ) from None
        if header is None or not any(cell.strip() for cell in header):
            raise IngestError("has no header row", file=label, row=0)
        positions = _column_positions(header, kind, validator.fields, label)
        width = len(header)

        def pick(values: list[str]) -> tuple[str, ...]:
            return tuple(values[i] if i >= 0 else "" for i in positions)

        row_number = 0
        reported = 0
        while True:
            try:
                chunk = list(islice(reader, batch_rows))
            except csv.Error as exc:
                raise IngestError(
                    f"{_csv_problem(exc)} (line {reader.line_num})", file=label
                ) from None
            if not chunk:
                break
            batch = RowBatch([])
            if min(map(len, chunk)) == width == max(map(len, chunk)):
                # The usual case: transpose once and take the columns wresgov reads
                # (an absent optional column is a column of empty strings).
                numbers = list(range(row_number + 1, row_number + 1 + len(chunk)))
                row_number += len(chunk)
                every = list(zip(*chunk, strict=True))
                empty = ("",) * len(chunk)
                columns = [every[i] if i >= 0 else empty for i in positions]
                batch.rows_read = len(numbers)
                records, problems = validator.validate_columns(numbers, columns)
            else:
                numbers, raws = [], []
                for values in chunk:
                    if not values:
                        continue  # a blank line is not a row
                    row_number += 1
                    if len(values) == width:
                        numbers.append(row_number)
                        raws.append(pick(values))
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
            batch.records = records
            batch.rows_bad += len({row for row, _, _ in problems})
            batch.problems.extend(
                QuarantineEntry(row, field_name, problem)
                for row, field_name, problem in problems
            )
            if reported >= MAX_REPORTED_PROBLEMS:
                batch.problems = []
            elif reported + len(batch.problems) > MAX_REPORTED_PROBLEMS:
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
