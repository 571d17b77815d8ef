"""The table model: dimensions with hierarchies, and N-dimensional tables on them.

A :class:`Dimension` is a tree of codes with one root, its total (``Wales``, ``All``).
A :class:`Table` holds one value per combination of codes, totals included, either
counts of people or magnitudes (e.g. FTE sums) with the per-cell contributor data
the dominance and p% rules need. Input may be the leaf cells only (every total is
computed) or all cells (every given total is checked against its parts).

Linked sets of tables (several breakdowns of one population) live in
:mod:`governance.sdc.linked`.

This module never prints or logs, and its errors name tables, dimensions and codes
(which are not personal data), never a count: a count may be small.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from governance.errors import TableError

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

Kind = Literal["count", "magnitude"]

#: Relative and absolute tolerance when magnitudes (sums of FTE) are compared.
MAGNITUDE_RTOL = 1e-9
MAGNITUDE_ATOL = 1e-6


class Dimension:
    """A named tree of codes: ``total`` is the root, ``hierarchy`` maps parent to children.

    Codes are ordered depth first from the total, children in the order given, so
    every table built on the dimension lists its cells in one stable order.

    Raises:
        TableError: the hierarchy is not a tree rooted at ``total`` with unique codes.
    """

    __slots__ = ("_children", "_index", "_parent", "codes", "name", "total")

    def __init__(
        self, name: str, total: str, hierarchy: Mapping[str, Sequence[str]]
    ) -> None:
        where = f"dimension {name!r}"
        if not isinstance(name, str) or not name.strip():
            raise TableError("a dimension has an empty name")
        if not isinstance(total, str) or not total.strip():
            raise TableError(f"{where}: the total code is empty")
        children: dict[str, tuple[str, ...]] = {}
        parent: dict[str, str] = {}
        for code, kids in hierarchy.items():
            if not isinstance(code, str) or not code.strip():
                raise TableError(f"{where}: a code in the hierarchy is empty")
            if isinstance(kids, str) or not kids:
                raise TableError(f"{where}: code {code!r} needs a list of children")
            for kid in kids:
                if not isinstance(kid, str) or not kid.strip():
                    raise TableError(f"{where}: a child of {code!r} is empty")
                if kid in parent:
                    raise TableError(
                        f"{where}: code {kid!r} has two parents"
                        f" ({parent[kid]!r} and {code!r})"
                    )
                parent[kid] = code
            children[code] = tuple(kids)
        if total not in children:
            raise TableError(f"{where}: the total {total!r} has no children")
        if total in parent:
            raise TableError(
                f"{where}: the total {total!r} is a child of {parent[total]!r}"
            )
        codes: list[str] = []
        stack = [total]
        while stack:  # depth first, children in the order given
            code = stack.pop()
            codes.append(code)
            stack.extend(reversed(children.get(code, ())))
        unreachable = (set(children) | set(parent)) - set(codes)
        if unreachable:
            first = min(unreachable)
            raise TableError(
                f"{where}: code {first!r} is not under the total {total!r}"
            )
        self.name = name
        self.total = total
        self.codes: tuple[str, ...] = tuple(codes)
        self._children = children
        self._parent = parent
        self._index = {code: i for i, code in enumerate(self.codes)}

    def __repr__(self) -> str:
        return (
            f"Dimension({self.name!r}, total={self.total!r}, codes={len(self.codes)})"
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Dimension):
            return NotImplemented
        return (self.name, self.total, self.hierarchy) == (
            other.name,
            other.total,
            other.hierarchy,
        )

    def __hash__(self) -> int:
        return hash((self.name, self.total, tuple(self.hierarchy.items())))

    @property
    def hierarchy(self) -> dict[str, tuple[str, ...]]:
        """Parent to children, parents in code order."""
        return {
            code: self._children[code] for code in self.codes if code in self._children
        }

    @property
    def leaves(self) -> tuple[str, ...]:
        return tuple(code for code in self.codes if code not in self._children)

    def __contains__(self, code: object) -> bool:
        return code in self._index

    def index(self, code: str) -> int:
        """Return the position of ``code`` in :attr:`codes`.

        Raises:
            TableError: the code is not in the dimension.
        """
        try:
            return self._index[code]
        except KeyError:
            raise TableError(f"dimension {self.name!r} has no code {code!r}") from None

    def is_leaf(self, code: str) -> bool:
        return code not in self._children

    def children(self, code: str) -> tuple[str, ...]:
        return self._children.get(code, ())

    def parent(self, code: str) -> str | None:
        return self._parent.get(code)

    def parents_bottom_up(self) -> tuple[str, ...]:
        """Every code with children, each after all of its descendants."""
        return tuple(code for code in reversed(self.codes) if code in self._children)


@dataclass(frozen=True)
class InputCell:
    """One cell as read from a tidy file: its codes (one per dimension) and values.

    ``count`` is the number of people (for a magnitude table, the number of
    contributors); ``magnitude`` the sum (e.g. FTE); ``top`` the largest individual
    contributions, largest first. ``row`` is where the cell came from, for messages.
    """

    codes: tuple[str, ...]
    count: float
    magnitude: float | None = None
    top: tuple[float, ...] = ()
    row: int | None = None


def describe_cell(dimensions: Sequence[Dimension], codes: Sequence[str]) -> str:
    """Name a cell by its codes, e.g. ``(body=7A1, ethnic_group=All)``; never a value."""
    return (
        "("
        + ", ".join(f"{d.name}={c}" for d, c in zip(dimensions, codes, strict=True))
        + ")"
    )


class Table:
    """A complete N-dimensional table: one value for every combination of codes.

    ``counts`` (and, for magnitude tables, ``magnitudes`` and ``top``) are arrays
    with one axis per dimension, in each dimension's code order; ``top`` has one more
    trailing axis holding the largest contributions, largest first. Build tables with
    :meth:`from_cells`; the constructor only checks shapes.
    """

    __slots__ = (
        "counts",
        "decimals",
        "dimensions",
        "magnitudes",
        "measure",
        "name",
        "top",
    )

    def __init__(
        self,
        name: str,
        dimensions: Sequence[Dimension],
        counts: FloatArray,
        *,
        measure: str = "count",
        magnitudes: FloatArray | None = None,
        top: FloatArray | None = None,
        decimals: int = 0,
    ) -> None:
        shape = tuple(len(d.codes) for d in dimensions)
        names = [d.name for d in dimensions]
        if not name:
            raise TableError("a table has an empty name")
        if not dimensions:
            raise TableError(f"table {name!r} has no dimensions")
        if len(set(names)) != len(names):
            raise TableError(f"table {name!r} names a dimension twice")
        if counts.shape != shape:
            raise ValueError("Table.counts must have one axis per dimension")
        if (magnitudes is None) != (measure == "count"):
            raise ValueError(
                "Table: magnitudes are given exactly when measure is not 'count'"
            )
        if magnitudes is not None and magnitudes.shape != shape:
            raise ValueError("Table.magnitudes must have the shape of counts")
        if top is not None and top.shape[:-1] != shape:
            raise ValueError("Table.top must have the shape of counts plus one axis")
        self.name = name
        self.dimensions: tuple[Dimension, ...] = tuple(dimensions)
        self.counts = counts
        self.measure = measure
        self.magnitudes = magnitudes
        self.top = top
        self.decimals = decimals

    def __repr__(self) -> str:
        dims = ", ".join(d.name for d in self.dimensions)
        return f"Table({self.name!r}, [{dims}], measure={self.measure!r})"

    @property
    def kind(self) -> Kind:
        return "count" if self.magnitudes is None else "magnitude"

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.counts.shape)

    @property
    def size(self) -> int:
        return int(self.counts.size)

    @property
    def values(self) -> FloatArray:
        """What the table publishes: counts, or magnitudes for a magnitude table."""
        return self.counts if self.magnitudes is None else self.magnitudes

    def cells(self) -> Iterable[tuple[str, ...]]:
        """Every cell's codes, in C order (the table's stable cell order)."""
        return itertools.product(*(d.codes for d in self.dimensions))

    def position(self, codes: Sequence[str]) -> tuple[int, ...]:
        """Return the array index of the cell with these codes.

        Raises:
            TableError: wrong number of codes, or a code not in its dimension.
        """
        if len(codes) != len(self.dimensions):
            raise TableError(
                f"table {self.name!r}: a cell needs one code per dimension"
            )
        return tuple(d.index(c) for d, c in zip(self.dimensions, codes, strict=True))

    @classmethod
    def from_cells(
        cls,
        name: str,
        dimensions: Sequence[Dimension],
        cells: Iterable[InputCell],
        *,
        measure: str = "count",
        decimals: int | None = None,
    ) -> Table:
        """Build a table from leaf cells, or from all cells with totals to check.

        Leaf combinations that are absent are zero (a tidy file from ``GROUP BY``
        omits empty cells). Every total is computed from the leaves; a total that was
        given must equal its computed value, else the first such cell is named.
        ``measure`` is ``"count"`` for a count table, or the magnitude's name.

        Raises:
            TableError: a code is unknown, a cell is repeated, a value is negative or
                not whole, contributor data is inconsistent, or a total does not
                equal the sum of its parts.
        """
        builder = _Builder(name, dimensions, measure)
        for cell in cells:
            builder.add(cell)
        return builder.build(decimals)


class _Builder:
    """Accumulates input cells, then aggregates and checks a :class:`Table`."""

    def __init__(
        self, name: str, dimensions: Sequence[Dimension], measure: str
    ) -> None:
        self.name = name
        self.dimensions = tuple(dimensions)
        self.magnitude = measure != "count"
        self.measure = measure
        self.shape = tuple(len(d.codes) for d in dimensions)
        self.counts = np.zeros(self.shape)
        self.magnitudes = np.zeros(self.shape)
        self.given: dict[tuple[int, ...], InputCell] = {}
        self.leaf = [np.array([d.is_leaf(c) for c in d.codes]) for d in dimensions]
        self.top_width = 0
        self.tops: dict[tuple[int, ...], tuple[float, ...]] = {}

    def _where(self, cell: InputCell) -> str:
        row = f"row {cell.row}: " if cell.row is not None else ""
        return f"table {self.name!r}: {row}cell {describe_cell(self.dimensions, cell.codes)}"

    def add(self, cell: InputCell) -> None:
        if len(cell.codes) != len(self.dimensions):
            row = f"row {cell.row}: " if cell.row is not None else ""
            raise TableError(
                f"table {self.name!r}: {row}a cell needs one code per dimension"
            )
        for dim, code in zip(self.dimensions, cell.codes, strict=True):
            if code not in dim:
                row = f"row {cell.row}: " if cell.row is not None else ""
                raise TableError(
                    f"table {self.name!r}: {row}code {code!r} is not in dimension {dim.name!r}"
                )
        pos = tuple(
            d.index(c) for d, c in zip(self.dimensions, cell.codes, strict=True)
        )
        if pos in self.given:
            raise TableError(f"{self._where(cell)} appears more than once")
        if not (
            np.isfinite(cell.count)
            and cell.count >= 0
            and float(cell.count).is_integer()
        ):
            raise TableError(
                f"{self._where(cell)}: 'count' must be a whole number, at least 0"
            )
        if self.magnitude:
            if cell.magnitude is None or not (
                np.isfinite(cell.magnitude) and cell.magnitude >= 0
            ):
                raise TableError(
                    f"{self._where(cell)}: {self.measure!r} must be a number, at least 0"
                )
            self._check_top(cell)
        self.given[pos] = cell
        if all(self.leaf[axis][i] for axis, i in enumerate(pos)):
            self.counts[pos] = cell.count
            if self.magnitude:
                assert cell.magnitude is not None  # checked above  # noqa: S101
                self.magnitudes[pos] = cell.magnitude
                if cell.top:
                    self.tops[pos] = cell.top
                    self.top_width = max(self.top_width, len(cell.top))

    def _check_top(self, cell: InputCell) -> None:
        top = cell.top
        if not top:
            return
        assert cell.magnitude is not None  # noqa: S101 - magnitude checked by the caller
        ok = all(np.isfinite(t) and t >= 0 for t in top)
        ok = ok and all(a >= b for a, b in itertools.pairwise(top))
        ok = ok and sum(top) <= cell.magnitude * (1 + MAGNITUDE_RTOL) + MAGNITUDE_ATOL
        ok = ok and sum(1 for t in top if t > 0) <= cell.count
        if not ok:
            raise TableError(
                f"{self._where(cell)}: the top contributions must be at least 0, largest"
                " first, no more than the contributors, and sum to at most the"
                f" cell's {self.measure!r}"
            )

    def build(self, decimals: int | None) -> Table:
        counts = _aggregate(self.counts, self.dimensions)
        magnitudes = top = None
        if self.magnitude:
            magnitudes = _aggregate(self.magnitudes, self.dimensions)
            if self.top_width:
                top = np.zeros((*self.shape, self.top_width))
                for pos, values in self.tops.items():
                    top[pos][: len(values)] = values
                top = _aggregate_top(top, self.dimensions)
        self._check_totals(counts, magnitudes, top)
        if decimals is None:
            decimals = 2 if self.magnitude else 0
        return Table(
            self.name,
            self.dimensions,
            counts,
            measure=self.measure,
            magnitudes=magnitudes,
            top=top,
            decimals=decimals,
        )

    def _check_totals(
        self, counts: FloatArray, magnitudes: FloatArray | None, top: FloatArray | None
    ) -> None:
        bad: list[InputCell] = []
        for pos in sorted(self.given):
            cell = self.given[pos]
            if all(self.leaf[axis][i] for axis, i in enumerate(pos)):
                continue
            wrong = cell.count != counts[pos]
            if magnitudes is not None and cell.magnitude is not None:
                wrong = wrong or not np.isclose(
                    cell.magnitude,
                    magnitudes[pos],
                    rtol=MAGNITUDE_RTOL,
                    atol=MAGNITUDE_ATOL,
                )
            if top is not None and cell.top:
                given = np.zeros(top.shape[-1])
                given[: min(len(cell.top), top.shape[-1])] = cell.top[: top.shape[-1]]
                wrong = wrong or not np.allclose(
                    given, top[pos], rtol=MAGNITUDE_RTOL, atol=MAGNITUDE_ATOL
                )
            if wrong:
                bad.append(cell)
        if bad:
            more = f" ({len(bad)} totals in all)" if len(bad) > 1 else ""
            raise TableError(
                f"{self._where(bad[0])}: the given total does not equal the sum of its"
                f" parts{more}"
            )


def _aggregate(leaves: FloatArray, dimensions: Sequence[Dimension]) -> FloatArray:
    """Fill every total from the leaf cells, one dimension at a time.

    Summing dimension by dimension over all positions of the other axes (totals of
    earlier dimensions included) gives every cell of the full table.
    """
    out = leaves.copy()
    for axis, dim in enumerate(dimensions):
        view = np.moveaxis(out, axis, 0)
        for code in dim.parents_bottom_up():
            kids = [dim.index(k) for k in dim.children(code)]
            view[dim.index(code)] = view[kids].sum(axis=0)
    return out


def _aggregate_top(top: FloatArray, dimensions: Sequence[Dimension]) -> FloatArray:
    """Largest contributions of every total: the largest among its children's."""
    width = top.shape[-1]
    out = top.copy()
    for axis, dim in enumerate(dimensions):
        view = np.moveaxis(out, axis, 0)
        for code in dim.parents_bottom_up():
            kids = [dim.index(k) for k in dim.children(code)]
            merged = np.moveaxis(view[kids], 0, -2)  # (..., kids, width)
            merged = merged.reshape(*merged.shape[:-2], len(kids) * width)
            view[dim.index(code)] = -np.sort(-merged, axis=-1)[..., :width]
    return out
