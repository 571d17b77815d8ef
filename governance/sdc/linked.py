"""Linked sets: several tables over one population, protected together.

Tables in a linked set share margins: the cell ``body=7A1`` of a body × ethnic group
table (at ethnic group ``All``) is the same number as the cell ``body=7A1`` of a
body × band table (at band ``All``). A cell is therefore identified by its meaning,
the codes of the dimensions that are *not* at their total (:data:`CellKey`), and a
cell shared by several tables is one variable of the flattened problem. The flattened
form is a vector of cells in a deterministic order (tables in the order given, each
in C order, a shared cell where it first appears) and the additivity relations of
every hierarchy level of every dimension of every table.

Flattening is vectorised (numpy index arrays, dictionaries; no quadratic loops), so a
set of twenty thousand cells flattens in a fraction of a second. This module never
prints or logs, and its errors name tables and codes, never a value.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from governance.errors import TableError
from governance.sdc.problem import Relation
from governance.sdc.table import MAGNITUDE_ATOL, MAGNITUDE_RTOL, Dimension, Kind, Table

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

CellKey = tuple[tuple[str, str], ...]
"""A cell's meaning: ``(dimension, code)`` pairs sorted by dimension, totals left out."""


@dataclass(frozen=True)
class Link:
    """The cell ``total`` is the sum of the cells ``parts``, across tables.

    For a breakdown whose rows add up from another table's rows: staff on AfC
    bands who are non-clinical are the staff of the two non-clinical staff groups,
    so a band table's non-clinical margin is the sum of those staff-group cells.
    Cells are named by meaning (:data:`CellKey`).
    """

    total: CellKey
    parts: tuple[CellKey, ...]


class LinkedSet:
    """Tables over one population whose shared cells are one variable.

    ``fixed`` names, per table, dimensions the table does not have but whose code is
    the same for all its cells: a table of medical staff by subgroup is restricted to
    staff group ``01``, so ``{"medical": {"staff_group": "01"}}`` makes its total
    cells the same variables as the ``staff_group=01`` cells of a table by staff
    group, and the subgroup hierarchy adds up to them.

    ``links`` (:class:`Link`) add relations across tables that no hierarchy
    states; each must hold on the counts.

    Raises:
        TableError: no tables, two tables with one name, tables of different
            measures, one dimension name with two totals, a fixed dimension that the
            table has or a fixed code that is that dimension's total, a shared cell
            whose value differs between tables, or a link naming a cell not in the
            set or not holding (cells are named, never values).
    """

    def __init__(
        self,
        tables: Sequence[Table],
        *,
        fixed: Mapping[str, Mapping[str, str]] | None = None,
        links: Sequence[Link] = (),
    ) -> None:
        if not tables:
            raise TableError("a linked set needs at least one table")
        names = [t.name for t in tables]
        if len(set(names)) != len(names):
            dup = next(n for n in names if names.count(n) > 1)
            raise TableError(f"two tables are called {dup!r}")
        measures = {t.measure for t in tables}
        if len(measures) > 1:
            raise TableError(
                "the tables of a linked set must share one measure"
                f" (found {', '.join(sorted(measures))})"
            )
        self.tables: tuple[Table, ...] = tuple(tables)
        self.measure = tables[0].measure
        self.kind: Kind = tables[0].kind
        self.totals: dict[str, str] = {}
        for table in tables:
            for dim in table.dimensions:
                known = self.totals.setdefault(dim.name, dim.total)
                if known != dim.total:
                    raise TableError(
                        f"dimension {dim.name!r} has total {known!r} in one table and"
                        f" {dim.total!r} in table {table.name!r}"
                    )
        self.fixed: dict[str, CellKey] = {
            table.name: self._fixed_pairs(table, (fixed or {}).get(table.name, {}))
            for table in tables
        }
        unknown = sorted(set(fixed or {}) - set(names))
        if unknown:
            raise TableError(f"fixed codes name table {unknown[0]!r}, not in the set")
        self.keys: list[CellKey] = []
        self._index: dict[CellKey, int] = {}
        self.positions: dict[str, IntArray] = {}
        for table in tables:
            self.positions[table.name] = self._register(table)
        self._fill_values()
        if links and self.kind != "count":
            raise TableError("links join count tables only")
        self.links: tuple[Link, ...] = tuple(links)
        self._linked = [self._link(link) for link in self.links]
        self._relations: tuple[Relation, ...] | None = None

    def __repr__(self) -> str:
        return f"LinkedSet({[t.name for t in self.tables]}, cells={self.size})"

    @property
    def size(self) -> int:
        return len(self.keys)

    @property
    def values(self) -> FloatArray:
        """What the set publishes per cell: counts, or the magnitudes."""
        return self.counts if self.magnitudes is None else self.magnitudes

    def table(self, name: str) -> Table:
        """Return the table called ``name``.

        Raises:
            TableError: no table has that name.
        """
        for table in self.tables:
            if table.name == name:
                return table
        raise TableError(f"the linked set has no table {name!r}")

    def key(self, ref: Mapping[str, str]) -> CellKey:
        """Return the meaning of a cell given as ``{dimension: code}``.

        Dimensions at their total may be given or left out.

        Raises:
            TableError: a dimension is not in the set.
        """
        pairs = []
        fixed = {pair for pairs in self.fixed.values() for pair in pairs}
        for name, code in ref.items():
            if name not in self.totals:
                if (name, code) not in fixed:
                    raise TableError(f"the linked set has no dimension {name!r}")
                pairs.append((name, code))
            elif code != self.totals[name]:
                pairs.append((name, code))
        return tuple(sorted(pairs))

    def index_of(self, ref: Mapping[str, str] | CellKey) -> int:
        """Return the position of a cell in the flattened vector.

        Raises:
            TableError: no table of the set has that cell.
        """
        key = ref if isinstance(ref, tuple) else self.key(ref)
        try:
            return self._index[key]
        except KeyError:
            raise TableError(
                f"no table of the linked set has cell {describe_key(key)}"
            ) from None

    def describe(self, index: int) -> str:
        """Name a flattened cell by its meaning, e.g. ``(body=7A1, band=5)``."""
        return describe_key(self.keys[index])

    def relations(self) -> tuple[Relation, ...]:
        """Every additivity relation of every hierarchy level of every table, once."""
        if self._relations is None:
            self._relations = self._build_relations()
        return self._relations

    def _fixed_pairs(self, table: Table, pairs: Mapping[str, str]) -> CellKey:
        own = {d.name for d in table.dimensions}
        for name, code in pairs.items():
            if name in own:
                raise TableError(
                    f"table {table.name!r} has dimension {name!r}; it cannot be fixed"
                )
            if code == self.totals.get(name):
                raise TableError(
                    f"table {table.name!r}: fixed code of {name!r} is its total"
                )
        return tuple(sorted(pairs.items()))

    def _register(self, table: Table) -> IntArray:
        """Give every cell of ``table`` its global position; return them as an array."""
        order = sorted(
            range(len(table.dimensions)), key=lambda a: table.dimensions[a].name
        )
        fixed = self.fixed[table.name]
        choices: list[list[tuple[str, str] | None]] = [
            [None if code == dim.total else (dim.name, code) for code in dim.codes]
            for dim in table.dimensions
        ]
        index = self._index
        keys = self.keys
        out = np.empty(table.size, dtype=np.int64)
        for flat, combo in enumerate(itertools.product(*choices)):
            key = tuple(pair for a in order if (pair := combo[a]) is not None)
            if fixed:
                key = tuple(sorted(key + fixed))
            found = index.get(key)
            if found is None:
                found = index[key] = len(keys)
                keys.append(key)
            out[flat] = found
        return out.reshape(table.shape)

    def _fill_values(self) -> None:
        n = self.size
        width = max(
            (t.top.shape[-1] for t in self.tables if t.top is not None), default=0
        )
        self.counts: FloatArray = np.zeros(n)
        self.magnitudes: FloatArray | None = (
            np.zeros(n) if self.kind == "magnitude" else None
        )
        self.top: FloatArray | None = np.zeros((n, width)) if width else None
        filled = np.zeros(n, dtype=bool)
        for table in self.tables:
            where = self.positions[table.name].ravel()
            first = ~filled[where]
            # a cell repeated within one table cannot happen: keys are unique per table
            arrays: list[tuple[FloatArray, FloatArray, bool]] = [
                (self.counts, table.counts.reshape(-1), True)
            ]
            if self.magnitudes is not None and table.magnitudes is not None:
                arrays.append((self.magnitudes, table.magnitudes.reshape(-1), False))
            for target, source, exact in arrays:
                seen = where[~first]
                same = (
                    target[seen] == source[~first]
                    if exact
                    else np.isclose(
                        target[seen],
                        source[~first],
                        rtol=MAGNITUDE_RTOL,
                        atol=MAGNITUDE_ATOL,
                    )
                )
                if not bool(np.all(same)):
                    bad = int(seen[int(np.argmin(same))])
                    raise TableError(
                        f"table {table.name!r}: cell {self.describe(bad)} differs from the"
                        " same cell in an earlier table of the linked set"
                    )
                target[where[first]] = source[first]
            if self.top is not None and table.top is not None:
                tops = table.top.reshape(-1, table.top.shape[-1])
                self.top[where[first], : tops.shape[1]] = tops[first]
            filled[where] = True

    def _link(self, link: Link) -> Relation:
        """A link as a relation between cells of the set, checked on the counts."""
        cells = []
        for key in (link.total, *link.parts):
            found = self._index.get(key)
            if found is None:
                raise TableError(
                    f"a link names cell {describe_key(key)}, not in the set"
                )
            cells.append(found)
        total, *parts = cells
        if not parts or len(set(cells)) != len(cells):
            raise TableError(
                f"the link of cell {describe_key(link.total)} needs distinct parts"
            )
        if self.counts[total] != self.counts[parts].sum():
            raise TableError(
                f"cell {describe_key(link.total)} is not the sum of the cells its link"
                " names"
            )
        return Relation(total, tuple(parts))

    def _build_relations(self) -> tuple[Relation, ...]:
        seen: set[tuple[int, tuple[int, ...]]] = set()
        out: list[Relation] = list(self._linked)
        for table in self.tables:
            grid = self.positions[table.name]
            for axis, dim in enumerate(table.dimensions):
                view = np.moveaxis(grid, axis, 0)
                for code in dim.codes:
                    kids = dim.children(code)
                    if not kids:
                        continue
                    totals = view[dim.index(code)].reshape(-1).tolist()
                    parts = view[[dim.index(k) for k in kids]].reshape(len(kids), -1)
                    for total, children in zip(
                        totals, zip(*parts.tolist(), strict=True), strict=True
                    ):
                        item = (total, children)
                        if item not in seen:
                            seen.add(item)
                            out.append(Relation(total, children))
        return tuple(out)


def describe_key(key: CellKey) -> str:
    """Name a cell by its meaning; the grand total of every dimension is ``(total)``."""
    if not key:
        return "(total)"
    return "(" + ", ".join(f"{name}={code}" for name, code in key) + ")"


def codes_of(key: CellKey, dimensions: Sequence[Dimension]) -> tuple[str, ...]:
    """Return a cell's codes in a table's dimension order (totals filled in)."""
    given = dict(key)
    return tuple(given.get(d.name, d.total) for d in dimensions)
