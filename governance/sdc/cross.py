"""Derived values across a pack's components: rates and relative likelihoods.

A rate of people entering the disciplinary process over the headcount, or a
relative likelihood of appointment from shortlisting, is built on cells of two
populations (components of a pack, ``governance.sdc.pack``). It is published only
when every count it is built on is published in its own component; otherwise it
shows the secondary label (``[c]``), and a zero denominator or a zero rate shows
``[z]``. A value built only on published counts tells an intruder nothing the
counts do not. Pure: values in, values out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from governance.errors import TableError
from governance.sdc.derived import DerivedValue, likelihood_value, ratio_value
from governance.sdc.linked import CellKey, LinkedSet, describe_key
from governance.sdc.policy import Policy
from governance.sdc.problem import BoolArray


@dataclass(frozen=True)
class PackCell:
    """A cell of a pack: its table and its meaning in that table's linked set."""

    table: str
    cell: CellKey


@dataclass(frozen=True)
class CrossRate:
    """``events / population * 100`` (a percentage) over cells of two components."""

    name: str
    events: PackCell
    population: PackCell


@dataclass(frozen=True)
class CrossLikelihood:
    """``(events_a / population_a) / (events_b / population_b)`` across components."""

    name: str
    events_a: PackCell
    population_a: PackCell
    events_b: PackCell
    population_b: PackCell


CrossSpec = CrossRate | CrossLikelihood


def locate(components: Sequence[LinkedSet], table: str) -> int:
    """The index of the component holding ``table``."""
    for at, linked in enumerate(components):
        if any(t.name == table for t in linked.tables):
            return at
    raise TableError(f"the pack has no table {table!r}")


class CrossValues:
    """Derived values over cells of several components, with inherited suppression."""

    def __init__(
        self,
        components: Sequence[LinkedSet],
        hidden: Sequence[BoolArray],
        policy: Policy,
    ) -> None:
        self.components = components
        self.hidden = hidden
        self.rules = policy.disclosure

    def _cell(self, ref: PackCell) -> tuple[float, bool]:
        at = locate(self.components, ref.table)
        linked = self.components[at]
        index = linked.index_of(ref.cell)
        if index not in set(np.unique(linked.positions[ref.table]).tolist()):
            raise TableError(
                f"table {ref.table!r} has no cell {describe_key(ref.cell)}"
            )
        return float(linked.values[index]), bool(self.hidden[at][index])

    def value(self, spec: CrossSpec) -> DerivedValue:
        labels = self.rules.labels
        if isinstance(spec, CrossRate):
            (num, num_hidden), (den, den_hidden) = (
                self._cell(spec.events),
                self._cell(spec.population),
            )
            # Hidden first: `[z]` over a hidden zero would say the hidden cell is 0.
            if num_hidden or den_hidden:
                return DerivedValue(
                    spec.name, "percentage", "suppressed", labels.secondary
                )
            if den == 0:
                return DerivedValue(
                    spec.name, "percentage", "not_computable", labels.not_computable
                )
            decimals = self.rules.derived.percentages.decimals
            shown = ratio_value(num, den, 100.0, decimals)
            return DerivedValue(
                spec.name, "percentage", "published", str(shown), value=float(shown)
            )
        return self._likelihood(spec)

    def _likelihood(self, spec: CrossLikelihood) -> DerivedValue:
        refs = (spec.events_a, spec.population_a, spec.events_b, spec.population_b)
        cells = [self._cell(ref) for ref in refs]
        return likelihood_value(
            spec.name,
            tuple(value for value, _ in cells),
            any(is_hidden for _, is_hidden in cells),
            self.rules,
        )
