"""Cleared tables and derived values of one scope, looked up by what they mean.

:class:`Published` indexes the engine's cleared output (tables and derived values) so
the report can ask for "the percentage column of ``staff_ethnicity`` at body 7A1,
ethnic group Ethnic minority" and get back what was published: the display text and
whether it is a hidden value. It also gives the reader's label of each code.

It holds no hidden value (a cleared table has none) and computes nothing. A lookup of
something the pack does not hold raises ``KeyError`` naming it: a pack missing what
the catalogue needs is a wiring bug, and nothing is rendered. Pure; it never prints,
logs or touches files.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from governance.reference import Reference
from governance.sdc.clear import ClearedCell, ClearedTable
from governance.sdc.derived import DerivedValue
from governance.sdc.table import Dimension

__all__ = ["Codes", "Published", "Shown", "code_label", "number"]

Codes = Mapping[str, str]
_NUMBER = re.compile(r"^[-+]?\d+(?:\.\d+)?$")
_BODY_TYPES = {
    "local_health_board": "Health boards",
    "nhs_trust": "NHS trusts",
    "special_health_authority": "Special health authorities",
}


def number(display: str) -> Decimal | None:
    """The published number in a display, or None for a symbol."""
    return Decimal(display) if _NUMBER.match(display) else None


def code_label(dimension: Dimension, code: str, reference: Reference) -> str:
    """A reader's label for a code: body names, ``Band 5``, staff group names."""
    name = dimension.name
    if code == dimension.total:
        return "All Wales" if name == "body" else "All"
    if name == "body":
        if code in _BODY_TYPES:
            return _BODY_TYPES[code]
        try:
            return f"{reference.body(code).short_name} ({code})"
        except KeyError:
            return code
    if name == "pay_band":
        return code if code == "VSM" else f"Band {code}"
    if name == "staff_group":
        try:
            return reference.staff_group(code).name
        except KeyError:
            return code
    if name == "clinical":
        return code.capitalize()
    return code


@dataclass(frozen=True)
class Shown:
    """One displayed cell: its text, whether it is hidden, whether it labels a row."""

    text: str
    hidden: bool = False
    header: bool = False


class Published:
    """The cleared tables and derived values of one scope, looked up by meaning.

    Lookups raise ``KeyError`` naming what is missing: a pack without a table or
    value the catalogue needs is a wiring bug, and nothing is rendered.
    """

    def __init__(
        self,
        tables: Sequence[ClearedTable],
        derived: Sequence[DerivedValue],
        reference: Reference,
    ) -> None:
        self.reference = reference
        self._tables = {t.name: t for t in tables}
        self._cells = {t.name: {c.codes: c for c in t.cells} for t in tables}
        self._derived = {d.name: d for d in derived}

    def table(self, name: str) -> ClearedTable:
        if name not in self._tables:
            raise KeyError(f"the pack has no cleared table {name!r}")
        return self._tables[name]

    def dimension(self, table: str, name: str) -> Dimension:
        for dim in self.table(table).dimensions:
            if dim.name == name:
                return dim
        raise KeyError(f"cleared table {table!r} has no dimension {name!r}")

    def ethnicity(self, table: str) -> str:
        """The table's ethnicity dimension (``ethnic_broad`` or ``wres_group``)."""
        for dim in self.table(table).dimensions:
            if dim.name in ("ethnic_broad", "wres_group"):
                return dim.name
        raise KeyError(f"cleared table {table!r} has no ethnicity dimension")

    def cell(self, table: str, codes: Codes) -> ClearedCell:
        """The cell with these codes; dimensions not given are at their total."""
        t = self.table(table)
        key = tuple(codes.get(d.name, d.total) for d in t.dimensions)
        if set(codes) - {d.name for d in t.dimensions} or key not in self._cells[table]:
            raise KeyError(f"cleared table {table!r} has no cell {dict(codes)}")
        return self._cells[table][key]

    def count(self, table: str, codes: Codes) -> Shown:
        cell = self.cell(table, codes)
        return Shown(cell.display, hidden=cell.status != "published")

    def percent(self, table: str, column: str, codes: Codes) -> Shown:
        t = self.table(table)
        if column not in t.extra_columns:
            raise KeyError(f"cleared table {table!r} has no column {column!r}")
        text = self.cell(table, codes).extras[t.extra_columns.index(column)]
        return Shown(text, hidden=number(text) is None)

    def derived(self, name: str) -> Shown:
        value = self.value(name)
        return Shown(value.display, hidden=value.status != "published")

    def value(self, name: str) -> DerivedValue:
        if name not in self._derived:
            raise KeyError(f"the pack has no derived value {name!r}")
        return self._derived[name]

    def label(self, table: str, dim: str, code: str) -> str:
        return code_label(self.dimension(table, dim), code, self.reference)

    def body_rows(self, table: str, scope: str) -> list[str]:
        """The scope's code, then every code below it, in the dimension's order."""
        dim = self.dimension(table, "body")
        if scope not in dim:
            raise KeyError(f"scope {scope!r} is not a code of the body dimension")

        def under(code: str) -> bool:
            parent = dim.parent(code)
            while parent is not None and parent != scope:
                parent = dim.parent(parent)
            return parent == scope

        return [scope, *(c for c in dim.codes if under(c))]

    def leaves(self, table: str, dim: str) -> list[str]:
        return list(self.dimension(table, dim).leaves)
