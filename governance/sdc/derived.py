"""Derived values: percentages, rates and relative likelihoods over a linked set.

A derived value is computed from cells of a linked set and is published only when
every cell it is computed from is published (``inherit_suppression``, the default).
Otherwise it shows the secondary label (``[c]``): a derived value over a hidden
count would give the count back. A value that cannot be computed (a zero
denominator, or a zero rate in a relative likelihood) shows the policy's
``not_computable`` label (``[z]``, GSS "not applicable").

What a published ratio tells the intruder is exact and linear, so it enters the
attacker model as :class:`~governance.sdc.problem.LinearFact`: a percentage ``p``
rounded to ``d`` decimals of numerator ``n`` over denominator ``D`` means
``(p - h) * D <= 100 * n <= (p + h) * D`` with ``h = 0.5 * 10**-d``. With
``inherit_suppression: false`` ratios are published whatever is hidden, and their
facts are given to the suppression method as well, so complements are chosen
knowing them (the audit refuses the result when a ratio pins a small count).
Relative likelihoods are never published over a hidden count: what they reveal is
not linear, so the audit could not check it.

Relative likelihood (WRES indicators 2 to 4) is ``(a / A) / (b / B)``, group a's rate
over group b's. Its confidence interval uses the log method (Katz et al. 1978): the
standard error of ``ln RL`` is ``sqrt(1/a - 1/A + 1/b - 1/B)`` and the interval is
``exp(ln RL -/+ z * se)`` with ``z`` the normal quantile for the policy's
confidence. Rounding is half away from zero, on exact decimals.

Pure: arrays in, values out. It never prints or logs.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from statistics import NormalDist
from typing import Literal

from governance.sdc.linked import CellKey, LinkedSet, codes_of
from governance.sdc.policy import DisclosurePolicy
from governance.sdc.problem import BoolArray, FloatArray, LinearFact
from governance.sdc.table import Table

Status = Literal["published", "suppressed", "not_computable"]
RatioKind = Literal["percentage", "rate"]


def ref(cell: Mapping[str, str]) -> CellKey:
    """Freeze a cell given as ``{dimension: code}`` (totals may be given or omitted)."""
    return tuple(sorted(cell.items()))


@dataclass(frozen=True)
class Ratio:
    """``numerator / denominator`` times 100 (a percentage) or the policy's ``per``.

    ``column`` places the value in a cleared table: ``(table, column)``, on the row
    of the numerator's cell.
    """

    name: str
    numerator: CellKey
    denominator: CellKey
    kind: RatioKind = "percentage"
    column: tuple[str, str] | None = None


@dataclass(frozen=True)
class RelativeLikelihood:
    """``(events_a / population_a) / (events_b / population_b)``."""

    name: str
    events_a: CellKey
    population_a: CellKey
    events_b: CellKey
    population_b: CellKey


DerivedSpec = Ratio | RelativeLikelihood


@dataclass(frozen=True)
class DerivedValue:
    """A derived value as published: its display and status, never a hidden input."""

    name: str
    kind: Literal["percentage", "rate", "relative_likelihood"]
    status: Status
    display: str
    value: float | None = None
    interval: tuple[float, float] | None = None
    """Confidence interval of a published relative likelihood."""
    interval_display: str | None = None
    column: tuple[str, str] | None = None
    row: tuple[str, ...] | None = None
    """The codes of the row the value sits on, when it has a column."""


def percentages_of(
    table: Table, dimension: str, *, column: str | None = None
) -> list[Ratio]:
    """Return each cell's percentage of its parent along ``dimension``.

    For a body x ethnic group table and ``ethnic_group`` this is the share of each
    body's staff in each ethnic group. Cells at the dimension's total get none.
    """
    axis = next(i for i, d in enumerate(table.dimensions) if d.name == dimension)
    dim = table.dimensions[axis]
    column = column or f"percent_{dimension}"
    names = [d.name for d in table.dimensions]
    out = []
    for codes in table.cells():
        parent = dim.parent(codes[axis])
        if parent is None:
            continue
        over = (*codes[:axis], parent, *codes[axis + 1 :])
        out.append(
            Ratio(
                name=f"{table.name}/{column}/" + ",".join(codes),
                numerator=tuple(sorted(zip(names, codes, strict=True))),
                denominator=tuple(sorted(zip(names, over, strict=True))),
                column=(table.name, column),
            )
        )
    return out


def rounded(value: float, decimals: int) -> Decimal:
    """Round half away from zero on the exact decimal of ``value``."""
    return Decimal(repr(float(value))).quantize(
        Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP
    )


def ratio_value(
    numerator: float, denominator: float, scale: float, decimals: int
) -> Decimal:
    exact = Decimal(repr(float(numerator))) * Decimal(repr(float(scale)))
    exact = exact / Decimal(repr(float(denominator)))
    return exact.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


class Deriver:
    """Computes a list of derived values against one linked set and policy."""

    def __init__(
        self, linked: LinkedSet, policy: DisclosurePolicy, specs: Sequence[DerivedSpec]
    ) -> None:
        self.linked = linked
        self.policy = policy
        self.specs = tuple(specs)
        if len({spec.name for spec in self.specs}) != len(self.specs):
            raise ValueError("derived values need distinct names")
        self._resolved = {spec.name: self._resolve(spec) for spec in self.specs}

    def _resolve(self, spec: DerivedSpec) -> tuple[int, ...]:
        keys = (
            (spec.numerator, spec.denominator)
            if isinstance(spec, Ratio)
            else (spec.events_a, spec.population_a, spec.events_b, spec.population_b)
        )
        return tuple(self.linked.index_of(self.linked.key(dict(k))) for k in keys)

    def _cells(self, spec: DerivedSpec) -> tuple[int, ...]:
        return self._resolved[spec.name]

    def _ratio_settings(self, spec: Ratio) -> tuple[float, int]:
        derived = self.policy.derived
        if spec.kind == "percentage":
            return 100.0, derived.percentages.decimals
        return derived.rates.per, derived.rates.decimals

    def published_ratios(self, hidden: BoolArray | None) -> list[Ratio]:
        """Ratios that will be published under ``hidden`` (``None``: not yet known)."""
        inherit = self.policy.derived.inherit_suppression
        out = []
        for spec in self.specs:
            if not isinstance(spec, Ratio):
                continue
            num, den = self._cells(spec)
            if self.linked.values[den] == 0:
                continue
            if inherit and (hidden is None or hidden[num] or hidden[den]):
                continue
            out.append(spec)
        return out

    def facts(
        self, ratios: Iterable[Ratio], hidden: BoolArray | None
    ) -> list[LinearFact]:
        """What each published ratio tells the intruder, as linear facts.

        When the denominator is known to be published the fact bounds the numerator
        alone (as in ``LinearFact``'s docstring); otherwise it is the pair of
        inequalities over numerator and denominator.
        """
        values = self.linked.values
        out = []
        for spec in ratios:
            num, den = self._cells(spec)
            scale, decimals = self._ratio_settings(spec)
            shown = float(ratio_value(values[num], values[den], scale, decimals))
            half = 0.5 * 10.0**-decimals
            low, high = (shown - half) / scale, (shown + half) / scale
            # a whisker of slack so that float rounding never makes the truth infeasible
            slack = 1e-9 * max(1.0, abs(values[num]), abs(values[den]))
            if hidden is not None and not hidden[den]:
                d = float(values[den])
                out.append(
                    LinearFact((num,), (1.0,), low * d - slack, high * d + slack)
                )
            else:
                out.append(LinearFact((num, den), (1.0, -low), -slack, math.inf))
                out.append(LinearFact((num, den), (1.0, -high), -math.inf, slack))
        return out

    def values(self, hidden: BoolArray) -> list[DerivedValue]:
        """Every derived value as published under ``hidden``."""
        data = self.linked.values
        published = {spec.name for spec in self.published_ratios(hidden)}
        out = []
        for spec in self.specs:
            if isinstance(spec, Ratio):
                shown = spec.name in published
                out.append(self._ratio_value(spec, data, shown, hidden))
            else:
                out.append(self._likelihood(spec, data, hidden))
        return out

    def _placement(self, spec: Ratio) -> tuple[str, ...] | None:
        if spec.column is None:
            return None
        table = self.linked.table(spec.column[0])
        return codes_of(self.linked.key(dict(spec.numerator)), table.dimensions)

    def _ratio_value(
        self, spec: Ratio, data: FloatArray, published: bool, hidden: BoolArray
    ) -> DerivedValue:
        labels = self.policy.labels
        num, den = self._cells(spec)
        column, row = spec.column, self._placement(spec)
        # Hidden first: `[z]` over a hidden zero would say the hidden cell is 0.
        if data[den] == 0 and not hidden[den]:
            return DerivedValue(
                spec.name,
                spec.kind,
                "not_computable",
                labels.not_computable,
                column=column,
                row=row,
            )
        if not published:
            return DerivedValue(
                spec.name,
                spec.kind,
                "suppressed",
                labels.secondary,
                column=column,
                row=row,
            )
        scale, decimals = self._ratio_settings(spec)
        shown = ratio_value(data[num], data[den], scale, decimals)
        return DerivedValue(
            spec.name,
            spec.kind,
            "published",
            str(shown),
            value=float(shown),
            column=column,
            row=row,
        )

    def _likelihood(
        self, spec: RelativeLikelihood, data: FloatArray, hidden: BoolArray
    ) -> DerivedValue:
        cells = self._cells(spec)
        return likelihood_value(
            spec.name,
            tuple(float(data[c]) for c in cells),
            any(hidden[c] for c in cells),
            self.policy,
        )


def likelihood_value(
    name: str,
    counts: tuple[float, ...],
    hidden: bool,
    policy: DisclosurePolicy,
) -> DerivedValue:
    """A relative likelihood as published, from ``(events_a, population_a,
    events_b, population_b)``: ``[c]`` when any of them is ``hidden``, ``[z]`` when
    one is zero, else the rounded value and its interval."""
    labels = policy.labels
    kind: Literal["relative_likelihood"] = "relative_likelihood"
    if hidden:
        return DerivedValue(name, kind, "suppressed", labels.secondary)
    a, big_a, b, big_b = counts
    if min(a, big_a, b, big_b) <= 0:
        return DerivedValue(name, kind, "not_computable", labels.not_computable)
    rule = policy.derived.relative_likelihood
    estimate, low, high = relative_likelihood(a, big_a, b, big_b, rule.confidence)
    shown = rounded(estimate, rule.decimals)
    low_d, high_d = rounded(low, rule.decimals), rounded(high, rule.decimals)
    return DerivedValue(
        name,
        kind,
        "published",
        str(shown),
        value=float(shown),
        interval=(float(low_d), float(high_d)),
        interval_display=f"{low_d} to {high_d}",
    )


def relative_likelihood(
    events_a: float,
    population_a: float,
    events_b: float,
    population_b: float,
    confidence: float,
) -> tuple[float, float, float]:
    """Return ``(RL, lower, upper)``: the ratio of rates and its log-method interval.

    Every input must be positive (the caller treats zeros as not computable).
    """
    estimate = (events_a / population_a) / (events_b / population_b)
    variance = 1 / events_a - 1 / population_a + 1 / events_b - 1 / population_b
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    spread = z * math.sqrt(max(variance, 0.0))
    return estimate, estimate * math.exp(-spread), estimate * math.exp(spread)
