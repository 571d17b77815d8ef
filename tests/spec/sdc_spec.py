"""The spec runner for disclosure rules written as readable ASCII tables.

A spec gives input counts and the expected cleared output as tables::

          | G1 | G2 | G3
    Sales | 25 |  4 | 30
    Ops   | 12 | 15 | 18

The header's first cell may name the dimensions (``body / ethnic_group``); by default
they are ``row`` and ``col``. A header of ``| count`` makes a one-dimensional table.
Input tables list leaf cells (totals are computed); expected tables list every cell,
totals included (total code ``Total`` unless a structure says otherwise). Magnitude
specs write each cell's individual contributions joined by ``+``. Policy overrides
are merged into ``policies/wres-wales.yaml``.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import yaml

from governance.policy_files import default_policy_dir
from governance.sdc.clear import ClearedSet, ClearedTable, apply
from governance.sdc.derived import DerivedSpec, percentages_of
from governance.sdc.linked import LinkedSet
from governance.sdc.policy import MethodName, Policy, policy_from_mapping
from governance.sdc.structure import parse_structure
from governance.sdc.table import Dimension, InputCell, Table

Grid = dict[tuple[str, ...], str]


def parse_grid(text: str) -> tuple[list[str], Grid]:
    """Return the dimension names and ``{codes: text}`` of an ASCII table."""
    lines = [line.strip() for line in text.strip("\n").splitlines() if line.strip()]
    header = [cell.strip() for cell in lines[0].split("|")]
    corner, columns = header[0], header[1:]
    one_dimensional = columns == ["count"]
    names = [n.strip() for n in corner.split("/")] if corner else ["row", "col"]
    if one_dimensional:
        names = names[:1]
    grid: Grid = {}
    for line in lines[1:]:
        cells = [cell.strip() for cell in line.split("|")]
        row, values = cells[0], cells[1:]
        assert len(values) == len(columns), f"ragged spec row {row!r}"
        for column, value in zip(columns, values, strict=True):
            grid[(row,) if one_dimensional else (row, column)] = value
    return names, grid


def merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def make_policy(overrides: Mapping[str, Any] | None = None) -> Policy:
    text = (default_policy_dir() / "wres-wales.yaml").read_text(encoding="utf-8")
    data = merge(yaml.safe_load(text), {"disclosure": overrides or {}})
    return policy_from_mapping(data, source="spec")


def dimensions_for(
    names: Sequence[str], grid: Grid, structure: Sequence[Dimension]
) -> list[Dimension]:
    given = {d.name: d for d in structure}
    out = []
    for axis, name in enumerate(names):
        if name in given:
            out.append(given[name])
            continue
        codes = list(dict.fromkeys(key[axis] for key in grid))
        out.append(Dimension(name, "Total", {"Total": codes}))
    return out


def render_grid(table: ClearedTable, column: str | None = None) -> Grid:
    position = table.extra_columns.index(column) if column else None
    out: Grid = {}
    for cell in table.cells:
        out[cell.codes] = cell.display if position is None else cell.extras[position]
    return out


def compare(name: str, expected_text: str, actual: Grid, table: ClearedTable) -> None:
    _, expected = parse_grid(expected_text)
    missing = sorted(set(actual) - set(expected))
    assert not missing, f"{name}: the spec does not list cells {missing}"
    wrong = {k: (v, actual.get(k)) for k, v in expected.items() if actual.get(k) != v}
    assert not wrong, (
        f"{name}: expected vs cleared differ at {wrong}\n{table.render_csv()}"
    )


class SpecRunner:
    """Callable fixture: run a spec and assert the cleared output."""

    def __call__(
        self,
        counts: str,
        cleared: str,
        *,
        policy: Mapping[str, Any] | None = None,
        structure: str | None = None,
        method: MethodName = "optimal",
        percent_of: Sequence[str] = (),
        percents: Mapping[str, str] | None = None,
        derived: Sequence[DerivedSpec] = (),
    ) -> ClearedSet:
        return self.linked(
            {"table": counts},
            {"table": cleared},
            policy=policy,
            structure=structure,
            method=method,
            percent_of=percent_of,
            percents={f"table/{k}": v for k, v in (percents or {}).items()},
            derived=derived,
        )

    def linked(
        self,
        tables: Mapping[str, str],
        cleared: Mapping[str, str],
        *,
        policy: Mapping[str, Any] | None = None,
        structure: str | None = None,
        method: MethodName = "optimal",
        percent_of: Sequence[str] = (),
        percents: Mapping[str, str] | None = None,
        derived: Sequence[DerivedSpec] = (),
    ) -> ClearedSet:
        dims = parse_structure(structure, source="spec") if structure else []
        built = []
        for name, text in tables.items():
            names, grid = parse_grid(text)
            dimensions = dimensions_for(names, grid, dims)
            cells = [InputCell(k, float(v)) for k, v in grid.items()]
            built.append(Table.from_cells(name, dimensions, cells))
        derived = list(derived)
        for table, dim in itertools.product(built, percent_of):
            if dim in {d.name for d in table.dimensions}:
                derived.extend(percentages_of(table, dim))
        result = apply(
            LinkedSet(built), make_policy(policy), derived=derived, method=method
        )
        self.check(result, cleared, percents or {})
        return result

    def magnitudes(
        self,
        contributions: str,
        cleared: str,
        *,
        policy: Mapping[str, Any] | None = None,
        method: MethodName = "optimal",
    ) -> ClearedSet:
        names, grid = parse_grid(contributions)
        dimensions = dimensions_for(names, grid, [])
        cells = []
        for codes, text in grid.items():
            parts = sorted(
                (float(p) for p in text.split("+") if p.strip()), reverse=True
            )
            cells.append(
                InputCell(codes, float(len(parts)), sum(parts), tuple(parts[:3]))
            )
        table = Table.from_cells("table", dimensions, cells, measure="fte")
        result = apply(LinkedSet([table]), make_policy(policy), method=method)
        self.check(result, {"table": cleared}, {})
        return result

    @staticmethod
    def check(
        result: ClearedSet, cleared: Mapping[str, str], percents: Mapping[str, str]
    ) -> None:
        assert not result.evidence.unsafe
        for name, text in cleared.items():
            table = result.table(name)
            compare(name, text, render_grid(table), table)
        for key, text in percents.items():
            name, column = key.split("/")
            table = result.table(name)
            compare(f"{name} {column}", text, render_grid(table, column), table)
