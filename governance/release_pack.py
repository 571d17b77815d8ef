"""A request's tables as a pack for the disclosure engine, and the pack's report.

:func:`plan_pack` turns the tables a request counted (each a
:class:`~governance.tablespec.TableSpec` and the engine's
:class:`~governance.sdc.table.Table` of its counts) into what
:func:`governance.sdc.pack.apply_pack` protects:

- **linked sets by population.** Tables that count the same population (same source
  and measure, and no filter that restricts the population) are one linked set. A
  filter that pins a dimension the table does not have to one code (medical staff:
  staff group ``01``) keeps the table in its population with that code fixed, so its
  totals are the same cells as the staff-group table's ``01`` row. (Protected as two
  linked sets instead, with the equality known only to the whole-pack audit, the
  demo's pack failed that audit: differencing across the two revealed 55 cells.)
  Any other filter (one on the table's own dimensions too, even listing every code:
  it drops the records with no code, such as staff without a pay band) makes the
  table a population of its own, whose relations with the other tables
  are not modelled (``unlinked``, which the checks report for review).
- **subsets**: events counted over a population (``EVENT_POPULATIONS``) with the same
  dimensions and filters are a subset of it, cell by cell.
- **derived values** (for catalogue packs): the catalogue's percentage columns within
  each linked set, and each relative-likelihood indicator's rates and likelihoods per
  body across linked sets (:func:`governance.indicators.derived_requests`).

:func:`render_reports` renders, for every scope of the body dimension (all Wales,
each type of body, each body), one SVG chart per indicator and one XHTML report, and
:func:`indicator_sheets` one workbook sheet per indicator, from the cleared pack
only. Pure: values in, values out; it never touches the store.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Final

import numpy as np

from governance.errors import TableError
from governance.indicators import (
    EVENT_POPULATIONS,
    Catalogue,
    CellRef,
    LikelihoodRequest,
    PercentRequest,
    RateRequest,
    derived_requests,
)
from governance.published import Published
from governance.reference import Reference, load_reference
from governance.release_render import IndicatorSheet, small_range
from governance.report import PackContext, render_charts, render_html
from governance.report_views import build_view
from governance.sdc.derived import DerivedSpec, Ratio, percentages_of
from governance.sdc.linked import CellKey, Link, LinkedSet
from governance.sdc.pack import (
    Cleared,
    Component,
    CrossLikelihood,
    CrossRate,
    CrossSpec,
    PackCell,
    Subset,
)
from governance.sdc.policy import Policy
from governance.sdc.problem import BoolArray
from governance.sdc.table import Table
from governance.tablespec import CLINICAL_CODES, MEDICAL_AND_DENTAL, TableSpec

__all__ = [
    "PackPlan",
    "approved_patterns",
    "indicator_sheets",
    "pack_catalogue",
    "plan_pack",
    "render_reports",
]

REPORTS_DIR = "reports"


@dataclass(frozen=True)
class PackPlan:
    components: tuple[Component, ...]
    cross: tuple[CrossSpec, ...]
    subsets: tuple[Subset, ...]
    unlinked: tuple[str, ...]
    """Tables of a restricted population whose links to the others are not modelled."""


def _population(spec: TableSpec) -> tuple[tuple[object, ...], dict[str, str]]:
    """A spec's population key, and the codes its filters fix on other dimensions."""
    fixed: dict[str, str] = {}
    restricted: list[tuple[str, tuple[str, ...]]] = []
    for dim, codes in sorted(spec.filters.items()):
        if dim in spec.dimensions:
            # even a filter listing every code drops the records with none (staff
            # without a pay band), so the table's totals are another population
            restricted.append((dim, tuple(sorted(codes))))
        elif len(codes) == 1:
            fixed[dim] = codes[0]
        else:
            restricted.append((dim, tuple(sorted(codes))))
    return (spec.source, spec.measure, tuple(restricted)), fixed


def plan_pack(
    tables: Sequence[tuple[TableSpec, Table]],
    *,
    catalogue: Catalogue | None = None,
) -> PackPlan:
    """Group a request's tables into linked sets; add subsets and derived values.

    ``catalogue`` (for a catalogue pack) adds its percentage columns, rates and
    relative likelihoods for the tables present.
    """
    groups: dict[tuple[object, ...], list[tuple[TableSpec, Table]]] = {}
    fixed: dict[str, dict[str, str]] = {}
    links: dict[tuple[object, ...], list[Link]] = {}
    unlinked: list[str] = []
    for spec, table in tables:
        key, pins = _population(spec)
        joined = _afc_join(spec, table, tables)
        if joined is not None:
            key, pins = joined[0], {AFC_PIN[0]: AFC_PIN[1]}
            links.setdefault(key, []).extend(joined[1])
        groups.setdefault(key, []).append((spec, table))
        if pins:
            fixed[spec.name] = pins
        if key[2]:
            unlinked.append(spec.name)
    linked_sets = [
        LinkedSet(
            [t for _, t in members],
            fixed={s.name: fixed[s.name] for s, _ in members if s.name in fixed},
            links=links.get(key, ()),
        )
        for key, members in groups.items()
    ]
    specs = {spec.name: spec for spec, _ in tables}
    requests = _catalogue_requests(catalogue, specs, tables[0][1]) if catalogue else ()
    components = tuple(
        Component(linked, _percentages(linked, requests)) for linked in linked_sets
    )
    cross = tuple(
        _cross(r, components)
        for r in requests
        if isinstance(r, RateRequest | LikelihoodRequest)
    )
    return PackPlan(components, cross, _subsets(list(specs.values())), tuple(unlinked))


#: The pin that keeps the cells of a table of staff on AfC pay apart from the
#: cells of the whole staff population with the same codes.
AFC_PIN: Final = ("pay_scale", "AfC")


def _afc_join(
    spec: TableSpec, table: Table, tables: Sequence[tuple[TableSpec, Table]]
) -> tuple[tuple[object, ...], list[Link]] | None:
    """Join a table of staff on AfC pay to the staff population, where it can be.

    A staff table filtered to every AfC band and VSM and to clinical and
    non-clinical staff (``staff_band_ethnicity``) counts a part of the staff in
    post: everyone whose staff group has a clinical flag, less medical and dental
    staff, who are paid on medical grades. When the request also counts staff by
    staff group and the same ethnic codes, each body's clinical (non-clinical)
    margin of the band table is the sum of its clinical (non-clinical) staff-group
    cells other than medical and dental. Anyone who knows the definitions can
    subtract one from the other, so the two must be protected together: the table
    joins the staff population (its cells kept apart by ``AFC_PIN``) with those
    sums as links. Returns that population's key and the links, or None when the
    table is not such a table, there is no staff-group table to join, or the counts
    do not add up so (records outside those definitions): the table then stays a
    population of its own, flagged as unlinked, as before.
    """
    reference = load_reference()
    dims = set(spec.dimensions)
    bands = tuple(sorted(reference.pay_bands))
    scope = spec.filters.get("body")
    if not (
        spec.source == "staff"
        and {"body", "clinical", "pay_band"} <= dims
        and len(spec.dimensions) == 4
        and {k: tuple(sorted(v)) for k, v in spec.filters.items() if k != "body"}
        == {"clinical": tuple(sorted(CLINICAL_CODES)), "pay_band": bands}
    ):
        return None
    (ethnic,) = dims - {"body", "clinical", "pay_band"}
    groups = next(
        (
            (s, t)
            for s, t in tables
            if s.source == "staff"
            and s.measure == spec.measure
            and dict(s.filters) == ({} if scope is None else {"body": scope})
            and len(s.dimensions) == 3
            and {"body", "staff_group"} <= set(s.dimensions)
        ),
        None,
    )
    if groups is None:
        return None
    g_spec, g_table = groups
    (g_ethnic,) = set(g_spec.dimensions) - {"body", "staff_group"}
    g_dim = {d.name: d for d in g_table.dimensions}
    b_dim = {d.name: d for d in table.dimensions}
    codes = [c for c in b_dim[ethnic].leaves if c in g_dim[g_ethnic]]
    if len(codes) != len(b_dim[ethnic].leaves) or not all(
        body in g_dim["body"] for body in b_dim["body"].leaves
    ):
        return None
    flag = {g.code: g.clinical for g in reference.staff_groups}
    members = {
        "clinical": [
            g for g in g_dim["staff_group"].leaves
            if flag.get(g) is True and g != MEDICAL_AND_DENTAL
        ],
        "non-clinical": [g for g in g_dim["staff_group"].leaves if flag.get(g) is False],
    }  # fmt: skip
    out: list[Link] = []
    for body in b_dim["body"].leaves:
        for clinical, staff_groups in members.items():
            for code in codes:
                band: dict[str, str] = {
                    "body": body,
                    "clinical": clinical,
                    ethnic: code,
                }
                parts: list[dict[str, str]] = [
                    {"body": body, "staff_group": g, g_ethnic: code}
                    for g in staff_groups
                ]
                if _count(table, band) != sum(_count(g_table, p) for p in parts):
                    return None
                out.append(
                    Link(
                        tuple(sorted((*_key(band, table), AFC_PIN))),
                        tuple(_key(p, g_table) for p in parts),
                    )
                )
    key, _ = _population(g_spec)
    return key, out


def _count(table: Table, codes: Mapping[str, str]) -> float:
    """The count of the cell with ``codes`` (dimensions not named at their total)."""
    at = table.position([codes.get(d.name, d.total) for d in table.dimensions])
    return float(table.values[at])


def _key(codes: Mapping[str, str], table: Table) -> CellKey:
    """A cell's meaning from its codes (dimensions at their total left out)."""
    totals = {d.name: d.total for d in table.dimensions}
    return tuple(sorted((d, c) for d, c in codes.items() if c != totals[d]))


def _catalogue_requests(
    catalogue: Catalogue, specs: Mapping[str, TableSpec], first: Table
) -> tuple[PercentRequest | RateRequest | LikelihoodRequest, ...]:
    body = next(d for d in first.dimensions if d.name == "body")
    out = []
    for request in derived_requests(catalogue, body.codes):
        if isinstance(request, PercentRequest):
            needed = [request.table]
        elif isinstance(request, RateRequest):
            needed = [request.events.table, request.population.table]
        else:
            needed = [request.events_a.table, request.population_a.table]
        if all(name in specs for name in needed):
            out.append(request)
    return tuple(out)


def _percentages(
    linked: LinkedSet,
    requests: Sequence[PercentRequest | RateRequest | LikelihoodRequest],
) -> tuple[DerivedSpec, ...]:
    out: list[DerivedSpec] = []
    names = {t.name for t in linked.tables}
    for request in requests:
        if not isinstance(request, PercentRequest) or request.table not in names:
            continue
        pins = linked.fixed[request.table]
        for ratio in percentages_of(
            linked.table(request.table), request.along, column=request.column
        ):
            out.append(
                Ratio(
                    name=ratio.name,
                    numerator=tuple(sorted(ratio.numerator + pins)),
                    denominator=tuple(sorted(ratio.denominator + pins)),
                    column=ratio.column,
                )
            )
    return tuple(out)


def _cell(ref: CellRef, components: Sequence[Component]) -> PackCell:
    for component in components:
        linked = component.linked
        if any(t.name == ref.table for t in linked.tables):
            key: CellKey = linked.key(dict(ref.codes)) + linked.fixed[ref.table]
            return PackCell(ref.table, tuple(sorted(key)))
    raise KeyError(ref.table)  # pragma: no cover - requests name present tables only


def _cross(
    request: RateRequest | LikelihoodRequest, components: Sequence[Component]
) -> CrossSpec:
    if isinstance(request, RateRequest):
        return CrossRate(
            request.name,
            _cell(request.events, components),
            _cell(request.population, components),
        )
    return CrossLikelihood(
        request.name,
        _cell(request.events_a, components),
        _cell(request.population_a, components),
        _cell(request.events_b, components),
        _cell(request.population_b, components),
    )


def _subsets(specs: Sequence[TableSpec]) -> tuple[Subset, ...]:
    """Events tables over a population table with the same cells."""
    out = []
    for part in specs:
        over = EVENT_POPULATIONS.get(part.measure)
        for whole in specs:
            if (
                whole.measure == over
                and whole.dimensions == part.dimensions
                and dict(whole.filters) == dict(part.filters)
            ):
                out.append(Subset(part.name, whole.name))
    return tuple(out)


def approved_patterns(
    evidence: Mapping[str, object], components: Sequence[Component]
) -> list[BoolArray | None]:
    """Each linked set's hidden cells as the checks' evidence records them.

    A set the evidence does not describe, or a cell it names that the set does not
    have, gives None for that set (the engine then searches afresh).
    """
    recorded: dict[frozenset[str], list[CellKey]] = {}
    sets = evidence.get("linked_sets")
    for item in sets if isinstance(sets, list) else []:
        names = frozenset(t["name"] for t in item["tables"])
        recorded[names] = [
            tuple(sorted(h["cell"].items())) for h in item["audit"]["hidden"]
        ]
    out: list[BoolArray | None] = []
    for component in components:
        linked = component.linked
        keys = recorded.get(frozenset(t.name for t in linked.tables))
        mask = np.zeros(linked.size, dtype=bool)
        try:
            for key in keys if keys is not None else ():
                mask[linked.index_of(key)] = True
        except TableError:
            keys = None
        out.append(None if keys is None else mask)
    return out


def pack_catalogue(catalogue: Catalogue, tables: Sequence[str]) -> Catalogue | None:
    """The catalogue restricted to the indicators whose tables are all in ``tables``.

    None when no indicator is complete.
    """
    present = set(tables)
    indicators = [i for i in catalogue.indicators if set(i.table_names) <= present]
    if not indicators:
        return None
    used = {name for i in indicators for name in i.table_names}
    return Catalogue(
        version=catalogue.version,
        tables=tuple(t for t in catalogue.tables if t.name in used),
        percentages=tuple(p for p in catalogue.percentages if p.table in used),
        indicators=tuple(indicators),
    )


def _scopes(cleared: Cleared) -> tuple[str, ...]:
    """Every code of the body dimension: all Wales, each type of body, each body."""
    return next(d for d in cleared.tables[0].dimensions if d.name == "body").codes


def indicator_sheets(
    cleared: Cleared,
    catalogue: Catalogue,
    policy: Policy,
    *,
    scopes: Sequence[str] | None = None,
    reference: Reference | None = None,
) -> list[IndicatorSheet]:
    """One workbook sheet per indicator: its tables as the reports show them, for
    every scope (or only ``scopes``) in turn: a caption row, a header row, the rows.

    Raises:
        KeyError: the pack lacks a table or derived value the catalogue needs.
    """
    published = Published(
        list(cleared.tables), list(cleared.derived), reference or load_reference()
    )
    first = cleared.tables[0]
    label = policy.disclosure.labels.not_computable
    out = []
    for indicator in catalogue.indicators:
        rows: list[tuple[str, ...]] = []
        for scope in scopes or _scopes(cleared):
            view = build_view(
                catalogue, indicator, published, scope, not_computable=label
            )
            where = published.label(first.name, "body", scope)
            for table in view.tables:
                rows.append((table.caption,))
                rows.append(("Scope", *table.columns))
                rows += [(where, *(s.text for s in row)) for row in table.rows]
        out.append(IndicatorSheet(indicator.id, indicator.title, tuple(rows)))
    return out


def render_reports(
    cleared: Cleared,
    catalogue: Catalogue,
    policy: Policy,
    *,
    title: str,
    period: int,
    released: date,
    scopes: Sequence[str] | None = None,
    reference: Reference | None = None,
) -> dict[str, bytes]:
    """Every scope's report and charts: ``reports/<scope>/report.html`` and
    ``reports/<scope>/chart-<indicator>.svg``, for each code of the body dimension
    (or only ``scopes``: a one-body pack's totals are that body, not Wales).

    Raises:
        KeyError: the pack lacks a table or derived value the catalogue needs.
    """
    reference = reference or load_reference()
    tables = list(cleared.tables)
    derived = list(cleared.derived)
    files: dict[str, bytes] = {}
    for scope in scopes or _scopes(cleared):
        context = PackContext(
            title=title,
            scope=scope,
            period=period,
            policy_id=policy.id,
            policy_version=policy.version,
            policy_sha256=policy.sha256,
            release_date=released,
            labels=policy.disclosure.labels,
            small_range=small_range(policy, [t.name for t in tables]),
        )
        html = render_html(
            context, tables, derived, catalogue=catalogue, reference=reference
        )
        files[f"{REPORTS_DIR}/{scope}/report.html"] = html.encode("utf-8")
        charts = render_charts(
            context, tables, derived, catalogue=catalogue, reference=reference
        )
        for name, svg in charts.items():
            files[f"{REPORTS_DIR}/{scope}/{name}"] = svg.encode("utf-8")
    return files
