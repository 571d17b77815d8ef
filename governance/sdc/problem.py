"""The linear model that suppression methods and the attacker audit share.

A linked set of tables is flattened into one vector of cells (a cell that appears in
several tables of the set is one cell) and a list of additivity relations
``value[total] == sum(value[children])``. Everything an intruder knows besides the
published values is expressed here too: the bounds a label implies (``<10`` means
1..9, or 0..9 when zeros are suppressed; ``[c]`` means at least the threshold when
small counts carry their own label), non-negativity, and exact linear facts from
published derived values (a percentage over a published denominator).

Both ``governance.sdc.suppress`` (choosing cells to hide) and
``governance.sdc.attack`` (the exact audit) take a ``ProtectionProblem``; nothing a
method outputs may fail the audit. This module is pure: numpy in, numpy out. It never
solves anything and never looks at a label's text.

Protection semantics (what "a primary cell is protected" means)
---------------------------------------------------------------
For a hidden primary cell ``i`` with true value ``a``, label bounds ``[L, U]``
(``primary_lower``, ``primary_upper``) and intruder interval ``[lo, hi]`` (the exact
minimum and maximum of the cell over every table consistent with what is published;
rounded inwards to whole numbers when ``integral`` is set), the cell is protected
when all three hold:

1. ``hi - lo >= max(protection[i], m)`` where ``m`` is 1 for integral tables and a
   numerical tolerance otherwise: the interval is at least the policy's protection
   level wide, wherever it lies, and a pinned cell is never protected (sliding
   protection, Fischetti and Salazar-González 2000);
2. ``hi >= min(a + upper_protection[i], U)``;
3. ``lo <= max(a - lower_protection[i], L)``.

Rules 2 and 3 are tau-ARGUS's upper and lower protection levels, measured from the
true value and capped at the label bounds, since no suppression pattern can move an
intruder past what the label already states. They default to zero (off).

Why width first: the issue defines the protection level as how wide an intruder's
interval must stay. Width does not depend on where the true value sits inside the
label's range, so the pattern an optimiser picks cannot leak the value through
value-dependent requirements, and it composes with label bounds without special
cases (``<10`` already caps every interval at ``U - L``). Relative levels remain
available for policies that want tau-ARGUS-compatible behaviour.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Relation:
    """``value[total] == sum(value[children])`` (an additivity constraint)."""

    total: int
    children: tuple[int, ...]


@dataclass(frozen=True)
class LinearFact:
    """``lower <= sum(coef * value[cell]) <= upper``: known to the intruder.

    Used for published derived values, e.g. a percentage ``p`` (rounded to 1 d.p.)
    of a hidden numerator ``x`` over a published denominator ``d`` gives
    ``(p - 0.05) * d / 100 <= x <= (p + 0.05) * d / 100``.
    """

    cells: tuple[int, ...]
    coefficients: tuple[float, ...]
    lower: float
    upper: float


@dataclass(frozen=True)
class ProtectionProblem:
    """Cells, their relations, and what the policy requires of hidden cells."""

    values: FloatArray
    """True value of every cell (counts, or magnitudes for magnitude tables)."""

    relations: tuple[Relation, ...]
    primary: BoolArray
    """Cells the primary rules hide (shown ``<10`` for the threshold rule)."""

    candidate: BoolArray
    """Cells that may be hidden as complements (never primary ones). A candidate
    whose value is below ``secondary_lower`` is never hidden: its ``[c]`` label
    would tell the intruder something false."""

    cost: FloatArray
    """Cost of hiding each cell (1 per cell, or its value, by policy)."""

    primary_lower: FloatArray
    """Lower bound the primary label implies (e.g. 1, or 0 when zeros are hidden)."""

    primary_upper: FloatArray
    """Upper bound the primary label implies (e.g. threshold - 1 = 9)."""

    secondary_lower: float
    """Lower bound a ``[c]`` label implies (the threshold), or 0 if labels do not
    distinguish primary from secondary cells."""

    protection: FloatArray
    """Required width ``hi - lo`` of the intruder's interval for each primary cell
    (the policy's protection level; see the module docstring). Values at or below
    zero still forbid a pinned cell."""

    facts: tuple[LinearFact, ...] = field(default_factory=tuple)

    upper_protection: FloatArray | None = None
    """Optional tau-ARGUS upper protection level per cell: the intruder's upper
    bound must reach ``min(value + upper_protection, primary_upper)``. ``None``
    means zero for every cell."""

    lower_protection: FloatArray | None = None
    """Optional tau-ARGUS lower protection level per cell: the intruder's lower
    bound must reach ``max(value - lower_protection, primary_lower)``. ``None``
    means zero for every cell."""

    integral: bool = False
    """True for count tables: the intruder knows every cell is a whole number, so
    intervals are rounded inwards (``ceil(lo)``, ``floor(hi)``) before they are
    judged, and a pinned cell is any interval narrower than 1. Leave False for
    magnitudes (FTE sums), whose true values need not be whole."""

    @property
    def size(self) -> int:
        return int(self.values.shape[0])

    def check(self) -> None:
        """Raise ``ValueError`` when the arrays disagree in shape or index range.

        These are programming errors in whoever built the problem (no user can
        cause them), so the message names the field, never a value.
        """
        n = self.size
        arrays: dict[str, npt.NDArray[np.generic] | None] = {
            "primary": self.primary,
            "candidate": self.candidate,
            "cost": self.cost,
            "primary_lower": self.primary_lower,
            "primary_upper": self.primary_upper,
            "protection": self.protection,
            "upper_protection": self.upper_protection,
            "lower_protection": self.lower_protection,
        }
        for name, array in arrays.items():
            if array is not None and array.shape != (n,):
                raise ValueError(
                    f"ProtectionProblem.{name} must have one entry per cell"
                )
        if bool(np.any(self.primary & self.candidate)):
            raise ValueError("ProtectionProblem: a primary cell cannot be a candidate")
        for k, relation in enumerate(self.relations):
            cells = (relation.total, *relation.children)
            if min(cells) < 0 or max(cells) >= n:
                raise ValueError(
                    f"ProtectionProblem.relations[{k}] names a missing cell"
                )
        for k, fact in enumerate(self.facts):
            if len(fact.cells) != len(fact.coefficients) or not fact.cells:
                raise ValueError(f"ProtectionProblem.facts[{k}] is malformed")
            if min(fact.cells) < 0 or max(fact.cells) >= n:
                raise ValueError(f"ProtectionProblem.facts[{k}] names a missing cell")
        if bool(np.any(self.cost[self.candidate] < 0)):
            raise ValueError("ProtectionProblem.cost must not be negative")

    def hidden_bounds(self, hidden: BoolArray) -> tuple[FloatArray, FloatArray]:
        """Return the bounds the intruder knows for every cell under ``hidden``.

        Published cells are fixed at their value; a hidden primary cell lies in its
        label range (and is non-negative); any other hidden cell is at least
        ``secondary_lower`` (and non-negative) with no upper bound.
        """
        lower = self.values.astype(np.float64, copy=True)
        upper = self.values.astype(np.float64, copy=True)
        primary = hidden & self.primary
        secondary = hidden & ~self.primary
        lower[primary] = np.maximum(self.primary_lower[primary], 0.0)
        upper[primary] = self.primary_upper[primary]
        lower[secondary] = max(self.secondary_lower, 0.0)
        upper[secondary] = np.inf
        return lower, upper

    def protection_targets(self) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Return ``(width, reach_up, reach_down)`` required of each cell.

        ``width`` already includes the "never pinned" minimum; ``reach_up`` is the
        value the intruder's upper bound must reach and ``reach_down`` the value the
        lower bound must reach (both capped at the label bounds). Only primary cells
        carry requirements; other entries are zero width and unconstrained reach.
        """
        minimum = 1.0 if self.integral else 1e-6
        width = np.where(self.primary, np.maximum(self.protection, minimum), 0.0)
        up = self.values.copy()
        down = self.values.copy()
        if self.upper_protection is not None:
            up = np.minimum(self.values + self.upper_protection, self.primary_upper)
            up = np.where(self.primary, np.maximum(up, self.values), self.values)
        if self.lower_protection is not None:
            floor = np.maximum(self.primary_lower, 0.0)
            down = np.maximum(self.values - self.lower_protection, floor)
            down = np.where(self.primary, np.minimum(down, self.values), self.values)
        return width, up, down

    def usable_candidates(self) -> BoolArray:
        """Return the candidates a method may hide (those a ``[c]`` describes truly)."""
        mask: BoolArray = (
            self.candidate & ~self.primary & (self.values >= self.secondary_lower)
        )
        return mask
