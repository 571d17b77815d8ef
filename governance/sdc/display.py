"""How a cleared cell is shown, and what the evidence says of a hidden one.

A cell's status is ``published``, ``primary`` (shown as the small-count label,
``<10``) or ``secondary`` (``[c]``); a published value is shown as digits, whole
counts rounded half up and magnitudes to the table's decimals. A hidden cell's
evidence entry names its cell and tables and the interval an intruder can work
out, never its value. Used by ``governance.sdc.clear`` to build cleared tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

import numpy as np

from governance.sdc.derived import DerivedValue
from governance.sdc.linked import LinkedSet
from governance.sdc.problem import BoolArray, FloatArray

CellStatus = Literal["published", "primary", "secondary"]


@dataclass(frozen=True)
class ClearedCell:
    """One row of a cleared table: the cell's codes, what is shown, its status."""

    codes: tuple[str, ...]
    display: str
    status: CellStatus
    extras: tuple[str, ...] = ()
    """Derived columns of this row (see ``ClearedTable.extra_columns``)."""


@dataclass(frozen=True)
class HiddenCell:
    """A hidden cell in the evidence: where it is, and what an intruder can work out."""

    cell: dict[str, str]
    tables: tuple[str, ...]
    status: CellStatus
    lower: float
    upper: float


def cell_statuses(primary: BoolArray, hidden: BoolArray) -> list[CellStatus]:
    """Each cell's status: ``primary``, ``secondary`` (hidden) or ``published``."""
    out: list[CellStatus] = []
    for is_primary, is_hidden in zip(primary.tolist(), hidden.tolist(), strict=True):
        out.append(
            "primary" if is_primary else "secondary" if is_hidden else "published"
        )
    return out


def format_value(value: float, decimals: int) -> str:
    """Show a published value: whole counts as digits, magnitudes to ``decimals``."""
    if decimals == 0:
        return str(
            int(Decimal(repr(value)).quantize(Decimal(1), rounding=ROUND_HALF_UP))
        )
    step = Decimal(1).scaleb(-decimals)
    return str(Decimal(repr(value)).quantize(step, rounding=ROUND_HALF_UP))


def hidden_cells(
    linked: LinkedSet,
    statuses: list[CellStatus],
    hidden: BoolArray,
    lower: FloatArray,
    upper: FloatArray,
) -> tuple[HiddenCell, ...]:
    """The evidence's entry for every hidden cell: where it is and its interval."""
    owners: dict[int, list[str]] = {}
    for table in linked.tables:
        positions = np.unique(linked.positions[table.name])
        for index in positions[hidden[positions]].tolist():
            owners.setdefault(index, []).append(table.name)
    return tuple(
        HiddenCell(
            cell=dict(linked.keys[index]),
            tables=tuple(owners[index]),
            status=statuses[index],
            lower=float(lower[index]),
            upper=float(upper[index]),
        )
        for index in sorted(owners)
    )


def digest_row(value: DerivedValue) -> list[str | None]:
    """What of a derived value its set's digest covers."""
    return [value.name, value.status, value.display, value.interval_display]
