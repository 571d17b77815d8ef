"""Cleared packs for the report tests, with the hidden cells chosen by the test.

Leaf counts go through the engine's own table model (``Table.from_cells`` computes
every total on the hierarchies of ``governance.tablespec.dimension_hierarchy``). Each
cell is then published, primary (1 to 9, shown ``<10``) or secondary (listed by the
test, shown ``[c]``); percentages, rates and relative likelihoods follow the engine's
rules (a zero denominator gives ``[z]``, a hidden input ``[c]``). The optimiser is not
involved: these packs pin exactly which cells are hidden so that the renderer can be
checked against known true values. The patterns are not protected against
differencing (that is the engine's job, tested with the engine). ``ClearedTable``
needs the engine's private token, which only tests use.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from governance.indicator_values import CountTable
from governance.indicators import (
    LikelihoodRequest,
    PercentRequest,
    RateRequest,
    derived_requests,
    load_catalogue,
)
from governance.likelihood import relative_likelihood, round_half_up
from governance.reference import load_reference
from governance.sdc import clear
from governance.sdc.clear import CellStatus, ClearedCell, ClearedTable
from governance.sdc.derived import DerivedValue
from governance.sdc.table import Dimension, InputCell, Table
from governance.tablespec import TableSpec, dimension_hierarchy

Codes = tuple[str, ...]
Hidden = Mapping[str, set[Codes]]


def engine_dimensions(spec: TableSpec) -> list[Dimension]:
    ref = load_reference()
    out = []
    for name in spec.dimensions:
        total, tree = dimension_hierarchy(name, ref, spec.codes(name, ref))
        out.append(Dimension(name, total, tree))
    return out


class _Cells:
    """Every cell of every table: value and whether it is hidden."""

    def __init__(self) -> None:
        self.value: dict[tuple[str, Codes], float] = {}
        self.status: dict[tuple[str, Codes], CellStatus] = {}
        self.dims: dict[str, list[Dimension]] = {}

    def key(self, table: str, codes: Mapping[str, str]) -> tuple[str, Codes]:
        return table, tuple(codes.get(d.name, d.total) for d in self.dims[table])

    def hidden(self, key: tuple[str, Codes]) -> bool:
        return self.status[key] != "published"


def _display(value: float, status: CellStatus) -> str:
    if status == "primary":
        return "<10"
    if status == "secondary":
        return "[c]"
    return str(int(value))


def _ratio(cells: _Cells, num: tuple[str, Codes], den: tuple[str, Codes]) -> str:
    if cells.value[den] == 0:
        return "[z]"
    if cells.hidden(num) or cells.hidden(den):
        return "[c]"
    return str(round_half_up(100 * cells.value[num] / cells.value[den], 1))


def build_pack(
    counts: Mapping[str, CountTable], secondary: Hidden | None = None
) -> tuple[list[ClearedTable], list[DerivedValue]]:
    """Clear every catalogue table from leaf counts; ``secondary`` names hidden cells."""
    catalogue = load_catalogue()
    secondary = secondary or {}
    cells = _Cells()
    tables: dict[str, Table] = {}
    for spec in catalogue.tables:
        dims = engine_dimensions(spec)
        cells.dims[spec.name] = dims
        leaf = [
            InputCell(codes, float(n)) for codes, n in counts.get(spec.name, {}).items()
        ]
        table = Table.from_cells(spec.name, dims, leaf)
        tables[spec.name] = table
        for codes in table.cells():
            value = float(table.counts[table.position(codes)])
            status: CellStatus = (
                "primary"
                if 1 <= value <= 9
                else "secondary"
                if codes in secondary.get(spec.name, set())
                else "published"
            )
            cells.value[spec.name, codes] = value
            cells.status[spec.name, codes] = status
    body = cells.dims["staff_ethnicity"][0]
    requests = derived_requests(catalogue, body.codes)
    percent_columns = [r for r in requests if isinstance(r, PercentRequest)]
    cleared = []
    for spec in catalogue.tables:
        table = tables[spec.name]
        columns = [r for r in percent_columns if r.table == spec.name]
        out_cells = []
        for codes in table.cells():
            key = (spec.name, codes)
            extras = []
            for column in columns:
                axis = spec.dimensions.index(column.along)
                parent = table.dimensions[axis].parent(codes[axis])
                if parent is None:
                    extras.append("")
                    continue
                over = (*codes[:axis], parent, *codes[axis + 1 :])
                extras.append(_ratio(cells, key, (spec.name, over)))
            display = _display(cells.value[key], cells.status[key])
            out_cells.append(
                ClearedCell(codes, display, cells.status[key], tuple(extras))
            )
        cleared.append(
            ClearedTable(
                name=spec.name,
                dimensions=table.dimensions,
                measure="count",
                cells=tuple(out_cells),
                extra_columns=tuple(c.column for c in columns),
                token=clear._TOKEN,  # tests only: pin the hidden pattern exactly
            )
        )
    derived = [
        _derived(cells, r) for r in requests if not isinstance(r, PercentRequest)
    ]
    return cleared, derived


def _derived(cells: _Cells, request: RateRequest | LikelihoodRequest) -> DerivedValue:
    if isinstance(request, RateRequest):
        num = cells.key(request.events.table, dict(request.events.codes))
        den = cells.key(request.population.table, dict(request.population.codes))
        shown = _ratio(cells, num, den)
        status: Literal["published", "suppressed", "not_computable"] = (
            "not_computable"
            if shown == "[z]"
            else "suppressed"
            if shown == "[c]"
            else "published"
        )
        value = float(shown) if status == "published" else None
        return DerivedValue(request.name, "percentage", status, shown, value=value)
    keys = [
        cells.key(ref.table, dict(ref.codes))
        for ref in (
            request.events_a,
            request.population_a,
            request.events_b,
            request.population_b,
        )
    ]
    kind: Literal["relative_likelihood"] = "relative_likelihood"
    if any(cells.hidden(k) for k in keys):
        return DerivedValue(request.name, kind, "suppressed", "[c]")
    a, n1, c, n2 = (int(cells.value[k]) for k in keys)
    rl = relative_likelihood(a, n1, c, n2)
    if not rl.computable:
        return DerivedValue(request.name, kind, "not_computable", "[z]")
    estimate, low, high = rl.rounded(2)
    return DerivedValue(
        request.name,
        kind,
        "published",
        str(estimate),
        value=float(estimate),
        interval=(float(low), float(high)),
        interval_display=f"{low} to {high}",
    )
