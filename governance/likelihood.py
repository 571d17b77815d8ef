"""Relative likelihoods, percentages and percentage-point differences, from counts.

The WRES relative likelihood (indicators 2 to 4) is the ratio of two groups' rates::

    rate(group)  = events_in_group / population_in_group
    RL           = rate(group A) / rate(group B)

1.0 means equal likelihood; above 1, group A is the more likely. It reproduces the
published worked examples: 46.99 % / 14.65 % = 3.21 (The Christie, indicator 2) and
1.2 % / 0.7 % = 1.71 (KMPT, indicator 3).

The 95 % confidence interval uses the log method (Katz et al. 1978): with ``a`` events
out of ``n1`` in group A and ``c`` out of ``n2`` in group B,
``SE(ln RL) = sqrt(1/a - 1/n1 + 1/c - 1/n2)`` and the interval is
``exp(ln RL -/+ z * SE)``, ``z`` = 1.96 for 95 %. It needs every count positive: a
group with nobody in it, or with no events, has no usable rate ratio (the ratio is
undefined, zero or infinite and the log interval does not exist), so the result is
*not computable* and says why; nothing is ever divided by zero.

Rounding is half away from zero on the exact decimal (as the disclosure engine
rounds), so a figure computed here and one published by the engine agree.

Pure: numbers in, numbers out. It never prints, logs or raises on data it can report
as not computable; it raises ``ValueError`` only on impossible input (negative counts,
more events than people), which is a bug in the caller.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from statistics import NormalDist
from typing import Literal

__all__ = [
    "Likelihood",
    "percentage",
    "percentage_point_difference",
    "rate_ratio",
    "relative_likelihood",
    "round_half_up",
]

NotComputable = Literal["no people in a group", "no events in a group"]


def round_half_up(value: float | Decimal, decimals: int) -> Decimal:
    """Round half away from zero on the exact decimal of ``value``."""
    exact = value if isinstance(value, Decimal) else Decimal(repr(float(value)))
    return exact.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Likelihood:
    """A relative likelihood with its confidence interval, or why there is none."""

    value: float | None
    lower: float | None
    upper: float | None
    rate_a: float | None
    """Group A's events per person (0..1); None when the group is empty."""
    rate_b: float | None
    confidence: float
    not_computable: NotComputable | None = None

    @property
    def computable(self) -> bool:
        return self.not_computable is None

    def rounded(self, decimals: int = 2) -> tuple[Decimal, Decimal, Decimal]:
        """``(RL, lower, upper)`` rounded for publication.

        Raises:
            ValueError: the likelihood is not computable.
        """
        if self.value is None or self.lower is None or self.upper is None:
            raise ValueError(f"the relative likelihood is {self.not_computable}")
        return (
            round_half_up(self.value, decimals),
            round_half_up(self.lower, decimals),
            round_half_up(self.upper, decimals),
        )


def _check_counts(events: int, population: int, group: str) -> None:
    if events < 0 or population < 0:
        raise ValueError(f"group {group}: counts must be at least 0")
    if events > population:
        raise ValueError(f"group {group}: more events than people")


def relative_likelihood(
    events_a: int,
    population_a: int,
    events_b: int,
    population_b: int,
    *,
    confidence: float = 0.95,
) -> Likelihood:
    """Return group A's rate over group B's, with its log-method interval.

    Not computable (never an exception) when either group has no people or no
    events.

    Raises:
        ValueError: a count is negative, a group has more events than people, or
            ``confidence`` is not between 0 and 1.
    """
    _check_counts(events_a, population_a, "A")
    _check_counts(events_b, population_b, "B")
    if not 0 < confidence < 1:
        raise ValueError("confidence must be between 0 and 1")
    rate_a = events_a / population_a if population_a else None
    rate_b = events_b / population_b if population_b else None
    if rate_a is None or rate_b is None:
        return Likelihood(
            None, None, None, rate_a, rate_b, confidence, "no people in a group"
        )
    if events_a == 0 or events_b == 0:
        return Likelihood(
            None, None, None, rate_a, rate_b, confidence, "no events in a group"
        )
    estimate = rate_a / rate_b
    variance = 1 / events_a - 1 / population_a + 1 / events_b - 1 / population_b
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    # variance is 0 only when both groups' rates are 1 (every person had the event)
    spread = z * math.sqrt(max(variance, 0.0))
    return Likelihood(
        value=estimate,
        lower=estimate * math.exp(-spread),
        upper=estimate * math.exp(spread),
        rate_a=rate_a,
        rate_b=rate_b,
        confidence=confidence,
    )


def rate_ratio(rate_a: float | Decimal, rate_b: float | Decimal) -> Decimal:
    """Return the ratio of two published rates (e.g. percentages), exactly.

    This is the published formula applied to rates already worked out, as in the
    reference worked examples: ``rate_ratio(46.99, 14.65)`` rounds to 3.21.

    Raises:
        ValueError: ``rate_b`` is zero, or a rate is negative.
    """
    a = rate_a if isinstance(rate_a, Decimal) else Decimal(repr(float(rate_a)))
    b = rate_b if isinstance(rate_b, Decimal) else Decimal(repr(float(rate_b)))
    if a < 0 or b < 0:
        raise ValueError("rates must be at least 0")
    if b == 0:
        raise ValueError("the comparison group's rate is 0: the ratio does not exist")
    return a / b


def percentage(part: int, whole: int) -> float | None:
    """Return ``100 * part / whole``, or None when ``whole`` is 0.

    Raises:
        ValueError: a count is negative or ``part`` exceeds ``whole``.
    """
    if part < 0 or whole < 0:
        raise ValueError("counts must be at least 0")
    if part > whole:
        raise ValueError("the part is larger than the whole")
    return 100.0 * part / whole if whole else None


def percentage_point_difference(
    share: float | Decimal, comparator: float | Decimal
) -> Decimal:
    """Return ``share - comparator`` in percentage points.

    Given the published (rounded) percentages it is exact decimal arithmetic, so it
    tells a reader nothing the two published figures do not.
    """
    a = share if isinstance(share, Decimal) else Decimal(repr(float(share)))
    b = (
        comparator
        if isinstance(comparator, Decimal)
        else Decimal(repr(float(comparator)))
    )
    return a - b
