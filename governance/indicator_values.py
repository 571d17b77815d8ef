"""Every indicator computed from raw counts: the reference the published pack is checked by.

Given the counts of an indicator's table specs (leaf cells, as the store's ``GROUP
BY`` returns them) and a scope (the bodies in it), :func:`compute` returns every figure
of the indicator, exact and unrounded: counts, shares, rates, relative likelihoods with
their intervals, percentage-point differences. It is what the known-answer tests pin
down and what the SQLite and PostgreSQL results are compared on.

These figures are **not** for publication: they are computed from counts the
disclosure engine has not cleared (a share over a count of 3 is here). The release pack
publishes the engine's derived values instead; this module never writes, prints or
logs anything.

Figures are identified by their cell: ``(dimension, code)`` pairs in the table's
dimension order with ``body`` first, the scope's total code (``Wales`` by default) for
the whole scope, ``All`` for a category total, and for board figures a
``membership`` pair naming the board table.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from governance.errors import TableError
from governance.indicators import (
    BoardComparison,
    Catalogue,
    Completeness,
    Indicator,
    RelativeLikelihoodMethod,
    Representation,
    ethnic_dimension,
)
from governance.likelihood import percentage, relative_likelihood
from governance.reference import Reference, load_reference
from governance.tablespec import (
    BROAD_GROUPS,
    DIMENSION_TOTALS,
    ETHNIC_MINORITY_GROUPS,
    WRES_GROUPS,
    DimensionName,
    TableSpec,
)

__all__ = ["CountTable", "Figure", "Figures", "compute", "group_codes"]

CountTable = Mapping[tuple[str, ...], int]
"""Leaf cells of one table spec: codes in the spec's dimension order -> count."""

Cell = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Figure:
    """One computed figure: a count, a percentage, a likelihood or a difference.

    ``name`` is one of ``count``, ``share`` (percentage of the row's headcount or
    members), ``workforce_share``, ``rate`` (percentage of the group with the event),
    ``relative_likelihood``, ``pp_difference`` and ``not_stated_share``. ``value`` is
    None when the figure cannot be computed, and ``not_computable`` says why.
    """

    indicator: str
    name: str
    cell: Cell
    value: float | None
    lower: float | None = None
    upper: float | None = None
    not_computable: str | None = None


class Figures(tuple[Figure, ...]):
    """The figures of one indicator, with lookup by name and cell."""

    def get(self, name: str, **codes: str) -> Figure:
        """Return the figure called ``name`` whose cell has exactly these codes.

        Raises:
            KeyError: no such figure.
        """
        want = set(codes.items())
        for figure in self:
            if figure.name == name and set(figure.cell) == want:
                return figure
        raise KeyError((name, tuple(sorted(want))))


def group_codes(dimension: str, group: str) -> frozenset[str]:
    """The leaf codes of an ethnicity dimension that make up ``group``."""
    if dimension == "ethnic_broad" and group == "Ethnic minority":
        return frozenset(ETHNIC_MINORITY_GROUPS)
    return frozenset({group})


def _check(spec: TableSpec, table: CountTable, reference: Reference) -> None:
    codes = [frozenset(spec.codes(d, reference)) for d in spec.dimensions]
    for key, count in table.items():
        if len(key) != len(codes):
            raise TableError(
                f"table {spec.name!r}: a cell needs one code per dimension"
            )
        for dim, code, known in zip(spec.dimensions, key, codes, strict=True):
            if code not in known:
                raise TableError(
                    f"table {spec.name!r}: code {code!r} is not a leaf of {dim!r}"
                )
        if count < 0:
            raise TableError(f"table {spec.name!r}: a count is negative")


class _Counts:
    """Sums over the leaf cells of the tables, by sets of codes per dimension."""

    def __init__(
        self,
        catalogue: Catalogue,
        counts: Mapping[str, CountTable],
        names: Iterable[str],
        reference: Reference,
    ) -> None:
        self.specs: dict[str, TableSpec] = {}
        self.tables: dict[str, CountTable] = {}
        for name in names:
            spec = catalogue.table(name)
            if name not in counts:
                raise TableError(f"the counts of table {name!r} are missing")
            _check(spec, counts[name], reference)
            self.specs[name], self.tables[name] = spec, counts[name]

    def sum(self, table: str, where: Mapping[str, frozenset[str]]) -> int:
        spec = self.specs[table]
        tests = [(spec.dimensions.index(d), codes) for d, codes in where.items()]
        return sum(
            n
            for key, n in self.tables[table].items()
            if all(key[i] in codes for i, codes in tests)
        )


def _rows(bodies: Sequence[str], scope: str) -> list[tuple[str, frozenset[str]]]:
    """The scope as a whole, then each body in it."""
    return [(scope, frozenset(bodies)), *((b, frozenset({b})) for b in bodies)]


def compute(
    catalogue: Catalogue,
    indicator_id: str,
    counts: Mapping[str, CountTable],
    *,
    bodies: Sequence[str],
    scope: str = DIMENSION_TOTALS["body"],
    confidence: float = 0.95,
    reference: Reference | None = None,
) -> Figures:
    """Compute every figure of one indicator for a scope from raw counts.

    ``counts`` maps table-spec names to their leaf counts; ``bodies`` are the body
    codes in the scope (figures are given for the scope, coded ``scope``, and each
    body).

    Raises:
        KeyError: no such indicator.
        TableError: a table's counts are missing or use an unknown code.
        ValueError: a group has more events than people (the tables disagree).
    """
    indicator = catalogue.indicator(indicator_id)
    reference = reference or load_reference()
    data = _Counts(catalogue, counts, indicator.table_names, reference)
    rows = _rows(bodies, scope)
    m = indicator.method
    if isinstance(m, Representation):
        figures = _representation(indicator, m, data, rows, reference)
    elif isinstance(m, RelativeLikelihoodMethod):
        figures = _likelihood(indicator, m, data, rows, confidence)
    elif isinstance(m, BoardComparison):
        figures = _board(indicator, m, data, rows)
    else:
        figures = _completeness(indicator, m, data, rows, reference)
    return Figures(figures)


def _categories(
    spec: TableSpec, dims: Sequence[DimensionName], reference: Reference
) -> list[tuple[tuple[str, str, frozenset[str]], ...]]:
    """Every combination of a leaf code or the total of each category dimension."""
    options = []
    for dim in dims:
        leaves = spec.codes(dim, reference)
        total = DIMENSION_TOTALS[dim]
        options.append(
            [(dim, code, frozenset({code})) for code in leaves]
            + [(dim, total, frozenset(leaves))]
        )
    return list(itertools.product(*options))


def _representation(
    indicator: Indicator,
    m: Representation,
    data: _Counts,
    rows: list[tuple[str, frozenset[str]]],
    reference: Reference,
) -> list[Figure]:
    spec = data.specs[m.table]
    dim = ethnic_dimension(spec)
    others = [c for c in m.categories if c != "body"]
    groups: list[str] = list(WRES_GROUPS)
    if dim == "ethnic_broad":
        groups += [g for g in BROAD_GROUPS if g not in WRES_GROUPS]
    out: list[Figure] = []
    for body, body_set in rows:
        if m.comparator is not None:
            comp = data.specs[m.comparator]
            comp_dim = ethnic_dimension(comp)
            whole = data.sum(m.comparator, {"body": body_set})
            for wres in WRES_GROUPS:
                part = data.sum(
                    m.comparator,
                    {"body": body_set, comp_dim: group_codes(comp_dim, wres)},
                )
                comp_cell: Cell = (("body", body), (comp_dim, wres))
                out.append(_share(indicator, "workforce_share", comp_cell, part, whole))
        for combo in _categories(spec, others, reference):
            where: dict[str, frozenset[str]] = {"body": body_set}
            where.update((d, codes) for d, _, codes in combo)
            base: Cell = (("body", body), *((d, c) for d, c, _ in combo))
            whole = data.sum(m.table, where)
            for group in groups:
                part = data.sum(m.table, {**where, dim: group_codes(dim, group)})
                cell = (*base, (dim, group))
                out.append(Figure(indicator.id, "count", cell, float(part)))
                if group in WRES_GROUPS:
                    out.append(_share(indicator, "share", cell, part, whole))
    return out


def _share(
    indicator: Indicator, name: str, cell: Cell, part: int, whole: int
) -> Figure:
    value = percentage(part, whole)
    return Figure(
        indicator.id,
        name,
        cell,
        value,
        not_computable=None if value is not None else "no people in the row",
    )


def _likelihood(
    indicator: Indicator,
    m: RelativeLikelihoodMethod,
    data: _Counts,
    rows: list[tuple[str, frozenset[str]]],
    confidence: float,
) -> list[Figure]:
    dim = ethnic_dimension(data.specs[m.events])
    out: list[Figure] = []
    for body, body_set in rows:
        counts: list[tuple[Cell, int, int]] = []
        for group in (m.group_a, m.group_b):
            where: dict[str, frozenset[str]] = {
                "body": body_set,
                dim: group_codes(dim, group),
            }
            cell: Cell = (("body", body), (dim, group))
            counts.append(
                (cell, data.sum(m.events, where), data.sum(m.population, where))
            )
        # first, so that more events than people is reported as such
        (_, a, n1), (_, c, n2) = counts
        rl = relative_likelihood(a, n1, c, n2, confidence=confidence)
        for cell, events, people in counts:
            out.append(Figure(indicator.id, "count", (*cell, ("of", "events")), events))
            out.append(
                Figure(indicator.id, "count", (*cell, ("of", "population")), people)
            )
            out.append(_share(indicator, "rate", cell, events, people))
        out.append(
            Figure(
                indicator.id,
                "relative_likelihood",
                (("body", body),),
                rl.value,
                rl.lower,
                rl.upper,
                rl.not_computable,
            )
        )
    return out


def _board(
    indicator: Indicator,
    m: BoardComparison,
    data: _Counts,
    rows: list[tuple[str, frozenset[str]]],
) -> list[Figure]:
    staff_dim = ethnic_dimension(data.specs[m.workforce])
    out: list[Figure] = []
    for body, body_set in rows:
        staff = data.sum(m.workforce, {"body": body_set})
        workforce: dict[str, float | None] = {}
        for group in WRES_GROUPS:
            part = data.sum(
                m.workforce,
                {"body": body_set, staff_dim: group_codes(staff_dim, group)},
            )
            figure = _share(
                indicator,
                "workforce_share",
                (("body", body), (staff_dim, group)),
                part,
                staff,
            )
            workforce[group] = figure.value
            out.append(figure)
        for membership in m.memberships:
            dim = ethnic_dimension(data.specs[membership.table])
            members = data.sum(membership.table, {"body": body_set})
            for group in WRES_GROUPS:
                part = data.sum(
                    membership.table, {"body": body_set, dim: group_codes(dim, group)}
                )
                cell = (("body", body), ("membership", membership.table), (dim, group))
                out.append(Figure(indicator.id, "count", cell, float(part)))
                share = _share(indicator, "share", cell, part, members)
                out.append(share)
                base = workforce[group]
                diff = (
                    None if share.value is None or base is None else share.value - base
                )
                out.append(
                    Figure(
                        indicator.id,
                        "pp_difference",
                        cell,
                        diff,
                        not_computable=None
                        if diff is not None
                        else "no people in the row",
                    )
                )
    return out


def _completeness(
    indicator: Indicator,
    m: Completeness,
    data: _Counts,
    rows: list[tuple[str, frozenset[str]]],
    reference: Reference,
) -> list[Figure]:
    spec = data.specs[m.table]
    dim = ethnic_dimension(spec)
    out: list[Figure] = []
    for body, body_set in rows:
        for combo in _categories(spec, m.categories, reference):
            where: dict[str, frozenset[str]] = {"body": body_set}
            where.update((d, codes) for d, _, codes in combo)
            cell: Cell = (("body", body), *((d, c) for d, c, _ in combo))
            whole = data.sum(m.table, where)
            part = data.sum(m.table, {**where, dim: group_codes(dim, "Not stated")})
            out.append(
                Figure(indicator.id, "count", (*cell, (dim, "Not stated")), part)
            )
            out.append(_share(indicator, "not_stated_share", cell, part, whole))
    return out
