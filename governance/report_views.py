"""What the release pack shows for each indicator, read from cleared values only.

For each indicator of the catalogue, :func:`build_view` reads the cleared tables
(``display`` and ``status`` of each cell, the percentage columns) and the cleared
derived values (rates, relative likelihoods) of one scope and returns a :class:`View`:
headline sentences, tables of displayed text, and a chart. Every figure shown is a
published display, copied as the engine wrote it; a hidden value is shown by its
symbol. The only arithmetic is the percentage-point difference between two
*published* percentages, which tells a reader nothing the two do not.

It never sees a hidden value: it reads through :class:`~governance.published.Published`,
which holds only cleared output.
Pure: values in, values out; it never prints, logs or touches files.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from governance.charts import BarChart, Point, Series
from governance.indicators import (
    BoardComparison,
    Catalogue,
    Completeness,
    Indicator,
    RelativeLikelihoodMethod,
    Representation,
    ethnic_dimension,
    likelihood_name,
    rate_name,
)
from governance.likelihood import percentage_point_difference
from governance.published import Published, Shown, number
from governance.tablespec import BROAD_GROUPS, WRES_GROUPS

__all__ = ["TableView", "View", "build_view"]

_AXIS_NAMES = {"pay_band": "AfC band", "medical_subgroup": "subgroup", "body": "body"}
EM = "Ethnic minority"
NS = "Not stated"


@dataclass(frozen=True)
class TableView:
    caption: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Shown, ...], ...]


@dataclass(frozen=True)
class View:
    indicator: Indicator
    headline: tuple[str, ...]
    tables: tuple[TableView, ...]
    chart: BarChart

    def with_summary(self, not_computable: str) -> View:
        """Add how many of the chart's figures are hidden, and how many empty."""
        points = [p for s in self.chart.series for p in s.points]
        if len(points) < 2:  # the headline has already said it
            return self
        empty = sum(1 for p in points if p.display == not_computable)
        hidden = sum(1 for p in points if p.value is None) - empty
        lines = []
        if hidden:
            lines.append(
                f"Not published: {hidden} of the {len(points)} figures in the chart;"
                " each rests on a count of fewer than ten people or on a cell hidden"
                " to protect one."
            )
        if empty:
            lines.append(
                f"Cannot be computed ({not_computable}): {empty} of the {len(points)}"
                " figures in the chart, with nobody (or no event) to compute them"
                " from."
            )
        return replace(self, headline=(*self.headline, *lines))


def build_view(
    catalogue: Catalogue,
    indicator: Indicator,
    published: Published,
    scope: str,
    *,
    not_computable: str = "[z]",
) -> View:
    """Return what the pack shows for one indicator in one scope.

    ``not_computable`` is the policy's symbol for a value with no people under it,
    which the headlines count apart from hidden values.
    """
    m = indicator.method
    if isinstance(m, Representation):
        view = _representation(catalogue, indicator, m, published, scope)
    elif isinstance(m, RelativeLikelihoodMethod):
        view = _likelihood(indicator, m, published, scope)
    elif isinstance(m, BoardComparison):
        view = _board(catalogue, indicator, m, published, scope)
    else:
        view = _completeness(catalogue, indicator, m, published, scope)
    return view.with_summary(not_computable)


def _point(shown: Shown) -> Point:
    return Point(shown.text, number(shown.text))


def _extremes(shares: Sequence[tuple[str, Shown]], what: str) -> list[str]:
    """Highest and lowest published share, when there are two or more."""
    values = [
        (n, name, s.text) for name, s in shares if (n := number(s.text)) is not None
    ]
    if len(values) < 2:
        return []
    top = max(values, key=lambda v: v[0])
    low = min(values, key=lambda v: v[0])
    return [
        (
            f"Of the published figures, {what} is highest for {top[1]} ({top[2]} %)"
            f" and lowest for {low[1]} ({low[2]} %)."
        )
    ]


def _representation(
    catalogue: Catalogue,
    indicator: Indicator,
    m: Representation,
    pub: Published,
    scope: str,
) -> View:
    t, eth = m.table, ethnic_dimension(catalogue.table(m.table))
    pct = catalogue.percent_column(t)
    scope_label = pub.label(t, "body", scope)
    broad = [g for g in BROAD_GROUPS if g not in WRES_GROUPS]
    broad = broad if eth == "ethnic_broad" else []
    columns = ["Row", "All staff"]
    for group in WRES_GROUPS:
        columns += [group, f"{group} %"]
    rows = []
    for codes in _category_rows(pub, t, m.categories, scope):
        named = [d for d in m.categories if d != "body" or len(m.categories) == 1]
        label = ", ".join(pub.label(t, d, codes[d]) for d in named)
        row = [Shown(label, header=True), pub.count(t, codes)]
        for group in WRES_GROUPS:
            cell = {**codes, eth: group}
            row += [pub.count(t, cell), pub.percent(t, pct, cell)]
        row += [pub.count(t, {**codes, eth: group}) for group in broad]
        rows.append(tuple(row))
    x_dim = m.categories[-1]
    series_dim = m.categories[-2] if len(m.categories) > 1 else None
    x_codes = pub.body_rows(t, scope) if x_dim == "body" else pub.leaves(t, x_dim)
    series, shares = [], []
    for sc in pub.leaves(t, series_dim) if series_dim else [None]:
        fixed = {"body": scope} | ({series_dim: sc} if series_dim and sc else {})
        suffix = f" ({pub.label(t, series_dim, sc)})" if series_dim and sc else ""
        points = []
        for xc in x_codes:
            shown = pub.percent(t, pct, {**fixed, x_dim: xc, eth: EM})
            points.append(_point(shown))
            if xc != scope:
                shares.append((pub.label(t, x_dim, xc) + suffix, shown))
        name = pub.label(t, series_dim, sc) if series_dim and sc else "Ethnic minority"
        series.append(Series(name, tuple(points)))
    comparator = m.comparator or t
    whole = pub.percent(
        comparator,
        catalogue.percent_column(comparator),
        {"body": scope, ethnic_dimension(catalogue.table(comparator)): EM},
    )
    headline = [
        f"Ethnic minority staff make up {whole.text} % of the workforce in"
        f" {scope_label}."
        if not whole.hidden
        else f"The ethnic minority share of the workforce in {scope_label} is not"
        f" published ({whole.text})."
    ]
    headline += _extremes(shares, "the ethnic minority share")
    axis = _AXIS_NAMES.get(x_dim, x_dim)
    chart = BarChart(
        id=f"chart-{indicator.id}",
        title=f"Ethnic minority staff (%) by {axis}: {scope_label}",
        description=indicator.title,
        categories=tuple(pub.label(t, x_dim, c) for c in x_codes),
        series=tuple(series),
        value_label="Ethnic minority staff (%)",
        reference=number(whole.text),
        reference_label="" if whole.hidden else f"Whole workforce {whole.text} %",
    )
    caption = f"{indicator.title}: headcount and percentage of each row, {scope_label}"
    table = TableView(caption, (*columns, *broad), tuple(rows))
    return View(indicator, tuple(headline), (table,), chart)


def _category_rows(
    pub: Published, table: str, categories: Sequence[str], scope: str
) -> list[dict[str, str]]:
    """Rows of a representation table: every code (totals too) of each category."""
    options = [
        pub.body_rows(table, scope)
        if dim == "body"
        else list(pub.dimension(table, dim).codes)
        for dim in categories
    ]
    rows = []
    for combo in itertools.product(*options):
        rows.append({"body": scope} | dict(zip(categories, combo, strict=True)))
    return rows


def _likelihood(
    indicator: Indicator, m: RelativeLikelihoodMethod, pub: Published, scope: str
) -> View:
    eth = pub.ethnicity(m.events)
    bodies = pub.body_rows(m.events, scope)
    columns = ["Body"]
    for group in (m.group_a, m.group_b):
        columns += [f"{group}: events", f"{group}: people", f"{group}: rate %"]
    columns += ["Relative likelihood", "95 % confidence interval"]
    rows, points = [], []
    for body in bodies:
        row = [Shown(pub.label(m.events, "body", body), header=True)]
        for group in (m.group_a, m.group_b):
            row += [
                pub.count(m.events, {"body": body, eth: group}),
                pub.count(m.population, {"body": body, eth: group}),
                pub.derived(rate_name(indicator.id, group, body)),
            ]
        rl = pub.value(likelihood_name(indicator.id, body))
        hidden = rl.status != "published"
        row += [
            Shown(rl.display, hidden),
            Shown(rl.interval_display or rl.display, hidden),
        ]
        rows.append(tuple(row))
        low = high = None
        if rl.interval is not None:
            low, high = (Decimal(repr(v)) for v in rl.interval)
        points.append(Point(rl.display, number(rl.display), low, high))
    scope_label = pub.label(m.events, "body", scope)
    chart = BarChart(
        id=f"chart-{indicator.id}",
        title=f"Relative likelihood with 95 % confidence interval: {scope_label}",
        description=indicator.title,
        categories=tuple(pub.label(m.events, "body", b) for b in bodies),
        series=(Series("Relative likelihood", tuple(points)),),
        value_label="Relative likelihood (1 = equal)",
        reference=Decimal(1),
        reference_label="Equal likelihood (1.0)",
    )
    headline = _likelihood_sentences(indicator, m, pub, scope, scope_label)
    caption = f"{indicator.title}: {scope_label} and the bodies in it"
    table = TableView(caption, tuple(columns), tuple(rows))
    return View(indicator, tuple(headline), (table,), chart)


def _likelihood_sentences(
    indicator: Indicator,
    m: RelativeLikelihoodMethod,
    pub: Published,
    scope: str,
    scope_label: str,
) -> list[str]:
    rl = pub.value(likelihood_name(indicator.id, scope))
    if rl.status == "suppressed":
        return [
            (
                f"The relative likelihood for {scope_label} is not published"
                f" ({rl.display}): it would rest on a count of fewer than ten people or on"
                " a cell hidden to protect one."
            )
        ]
    if rl.status == "not_computable":
        return [
            (
                f"The relative likelihood for {scope_label} cannot be computed"
                f" ({rl.display}): one of the groups has no people or no events."
            )
        ]
    out = [
        (
            f"In {scope_label}, {m.subject_a} were {rl.display} times as likely as"
            f" {m.subject_b} to {m.outcome} (95 % confidence interval"
            f" {rl.interval_display}). A value of 1 would mean equal likelihood."
        )
    ]
    if rl.interval is not None:
        low, high = rl.interval
        out.append(
            "The interval includes 1: the difference may be due to chance."
            if low <= 1 <= high
            else "The interval excludes 1."
        )
    a, b = (
        pub.derived(rate_name(indicator.id, g, scope)) for g in (m.group_a, m.group_b)
    )
    if not (a.hidden or b.hidden):
        out.append(
            f"The rate was {a.text} % for {m.subject_a} and {b.text} % for"
            f" {m.subject_b}."
        )
    return out


def _board(
    catalogue: Catalogue,
    indicator: Indicator,
    m: BoardComparison,
    pub: Published,
    scope: str,
) -> View:
    staff_eth = ethnic_dimension(catalogue.table(m.workforce))
    staff_pct = catalogue.percent_column(m.workforce)
    bodies = pub.body_rows(m.workforce, scope)
    columns = (
        "Body",
        "Membership",
        *WRES_GROUPS,
        "Ethnic minority % of members",
        "Ethnic minority % of workforce",
        "Difference (percentage points)",
    )
    rows = []
    points: dict[str, list[Point]] = {x.table: [] for x in m.memberships}
    headline = []
    for body in bodies:
        workforce = pub.percent(m.workforce, staff_pct, {"body": body, staff_eth: EM})
        for x in m.memberships:
            eth = ethnic_dimension(catalogue.table(x.table))
            pct = catalogue.percent_column(x.table)
            share = pub.percent(x.table, pct, {"body": body, eth: EM})
            diff = _difference(share, workforce)
            rows.append(
                (
                    Shown(pub.label(m.workforce, "body", body), header=True),
                    Shown(x.label, header=True),
                    *(pub.count(x.table, {"body": body, eth: g}) for g in WRES_GROUPS),
                    share,
                    workforce,
                    diff,
                )
            )
            points[x.table].append(_point(diff))
            if body == scope:
                headline.append(_board_sentence(x.label, share, workforce, diff))
    scope_label = pub.label(m.workforce, "body", scope)
    chart = BarChart(
        id=f"chart-{indicator.id}",
        title=f"Ethnic minority % of board minus % of workforce: {scope_label}",
        description=indicator.title,
        categories=tuple(pub.label(m.workforce, "body", b) for b in bodies),
        series=tuple(Series(x.label, tuple(points[x.table])) for x in m.memberships),
        value_label="Percentage points",
    )
    caption = f"{indicator.title}: {scope_label} and the bodies in it"
    return View(
        indicator, tuple(headline), (TableView(caption, columns, tuple(rows)),), chart
    )


def _difference(share: Shown, workforce: Shown) -> Shown:
    """``share - workforce`` of two published percentages, else the first symbol."""
    a, b = number(share.text), number(workforce.text)
    if a is None or b is None:
        return Shown(share.text if a is None else workforce.text, hidden=True)
    diff = percentage_point_difference(a, b)
    # a sign makes the direction plain; zero has none
    return Shown(f"{diff:+}" if diff else str(abs(diff)))


def _board_sentence(label: str, share: Shown, workforce: Shown, diff: Shown) -> str:
    if diff.hidden:
        return f"{label}: the comparison with the workforce is not published ({diff.text})."
    return (
        f"{label}: ethnic minority members are {share.text} % of the membership"
        f" against {workforce.text} % of the workforce, a difference of {diff.text}"
        " percentage points."
    )


def _completeness(
    catalogue: Catalogue,
    indicator: Indicator,
    m: Completeness,
    pub: Published,
    scope: str,
) -> View:
    t, eth = m.table, ethnic_dimension(catalogue.table(m.table))
    pct = catalogue.percent_column(t)
    dim = m.categories[-1]
    scope_label = pub.label(t, "body", scope)
    columns = ("Row", "All staff", "Not stated", "Not stated %")

    def row(label: str, codes: dict[str, str]) -> tuple[Shown, ...]:
        cell = {**codes, eth: NS}
        return (
            Shown(label, header=True),
            pub.count(t, codes),
            pub.count(t, cell),
            pub.percent(t, pct, cell),
        )

    by_group = tuple(
        row(pub.label(t, dim, c), {"body": scope, dim: c})
        for c in pub.dimension(t, dim).codes
    )
    bodies = pub.body_rows(t, scope)
    by_body = tuple(row(pub.label(t, "body", b), {"body": b}) for b in bodies)
    shares = [
        (pub.label(t, dim, c), pub.percent(t, pct, {"body": scope, dim: c, eth: NS}))
        for c in pub.leaves(t, dim)
    ]
    overall = pub.percent(t, pct, {"body": scope, eth: NS})
    headline = [
        f"Ethnicity is not stated or not known for {overall.text} % of staff in"
        f" {scope_label}."
        if not overall.hidden
        else f"The share of staff in {scope_label} whose ethnicity is not stated is"
        f" not published ({overall.text})."
    ]
    headline += _extremes(shares, "the share not stated")
    chart = BarChart(
        id=f"chart-{indicator.id}",
        title=f"Ethnicity not stated or not known (%) by staff group: {scope_label}",
        description=indicator.title,
        categories=tuple(name for name, _ in shares),
        series=(Series("Not stated", tuple(_point(s) for _, s in shares)),),
        value_label="Not stated or not known (%)",
        reference=number(overall.text),
        reference_label="" if overall.hidden else f"All staff {overall.text} %",
    )
    tables = [
        TableView(
            f"{indicator.title}: by staff group, {scope_label}", columns, by_group
        )
    ]
    if len(bodies) > 1:
        tables.append(TableView(f"{indicator.title}: by body", columns, by_body))
    return View(indicator, tuple(headline), tuple(tables), chart)
