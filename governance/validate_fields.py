"""What every ESR extract field shares: its spec, the row context, dates, batches.

Part of the personal-data zone with ``governance.validate`` (the validator) and
``governance.validate_kinds`` (each extract kind's fields and records): the types
here carry raw field values, never out of the zone.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import compress
from typing import Annotated, Any, Final, Literal

from pydantic import Field

from governance.reference import Reference

_MONTHS: Final = {
    name: number
    for number, name in enumerate(
        (
            "JAN",
            "FEB",
            "MAR",
            "APR",
            "MAY",
            "JUN",
            "JUL",
            "AUG",
            "SEP",
            "OCT",
            "NOV",
            "DEC",
        ),
        start=1,
    )
}


def one_of(values: list[str]) -> Any:
    """A type accepting exactly these codes."""
    return Literal[tuple(values)]


def date_between(low: date, high: date) -> Any:
    """A date type within ``low`` and ``high`` (inclusive)."""
    return Annotated[date, Field(ge=low, le=high, strict=True)]


def parse_date(raw: str) -> date | str:
    """Parse an extract date; return the text unchanged when it is not one."""
    text = raw.strip().split(" ", 1)[0].split("T", 1)[0]
    try:
        if "/" in text:
            day, month, year = text.split("/")
            return date(int(year), int(month), int(day))
        parts = text.split("-")
        if len(parts) == 3 and len(parts[0]) == 4:
            return date(int(parts[0]), int(parts[1]), int(parts[2]))
        if len(parts) == 3 and parts[1].upper() in _MONTHS:
            return date(int(parts[2]), _MONTHS[parts[1].upper()], int(parts[0]))
    except ValueError:
        pass
    return raw


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: Any
    problem: str | Callable[[str], str]
    """What is wrong when the value is not blank but invalid (never the value)."""
    range_problem: str | None = None
    """What is wrong when a number or date is out of range."""
    translate: Callable[[str], Any] | None = None
    memoised: bool = True
    """Validate each distinct raw text once; off for fields whose values rarely
    repeat (identifiers), which are validated a whole column at a time instead."""
    final: re.Pattern[str] | None = None
    """For a field not memoised: a column joined by line breaks matches this only if
    every value is already what validation returns (no space to strip, upper case,
    valid), so such a column is taken as it is without asking pydantic."""


@dataclass(frozen=True)
class RowContext:
    """What validation needs besides the row: reference, body, reporting year."""

    reference: Reference
    org: str
    period: int

    @property
    def snapshot(self) -> date:
        return date(self.period, 3, 31)

    @property
    def year_start(self) -> date:
        return date(self.period - 1, 4, 1)


Problem = tuple[int, str, str]
"""(data row, field, what is wrong): never the value."""
Columns = list[Sequence[Any]]
"""A batch column by column: raw or validated values, or a record field each."""
Builder = Callable[[list[int], Columns], tuple[Columns, list[Problem]]]
"""Validated columns to record columns (``RECORD_FIELDS`` order), and problems."""


def keep_rows(
    rows: list[int], columns: Columns, bad: set[int]
) -> tuple[list[int], Columns]:
    """Drop the rows at positions ``bad`` from the row numbers and every column."""
    mask = [position not in bad for position in range(len(rows))]
    return (
        list(compress(rows, mask)),
        [list(compress(column, mask)) for column in columns],
    )
