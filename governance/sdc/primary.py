"""Primary rules: which cells must be hidden whatever else is published, and how well.

For count tables the threshold rule hides counts of 1 to ``min_count - 1`` people
(shown ``<10``); zeros are published, hidden but only kept from being pinned
(``suppress``), or treated exactly as small counts (``small``). For magnitude tables
(e.g. FTE sums) the threshold applies to the number of contributors, and the
dominance (n, k) and p% rules look at the largest contributions.

Each primary cell also gets what its protection requires (see
``governance.sdc.problem``): for counts a width (the policy's protection level) and
label bounds; for magnitudes the tau-ARGUS upper and lower protection levels the
rules imply. This module computes masks and arrays only; it never prints or logs,
and its errors name tables and rules, never a value.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np

from governance.errors import TableError
from governance.sdc.linked import LinkedSet
from governance.sdc.policy import DisclosurePolicy, ZerosMode
from governance.sdc.problem import BoolArray, FloatArray, IntArray


class Reason(enum.IntEnum):
    """Why a cell is primary (the first rule that applies, in this order)."""

    NONE = 0
    THRESHOLD = 1
    ZERO = 2
    DOMINANCE = 3
    P_PERCENT = 4


@dataclass(frozen=True)
class PrimaryCells:
    """The primary rules' verdict on every cell of a linked set."""

    primary: BoolArray
    reason: IntArray
    """A :class:`Reason` per cell."""
    lower: FloatArray
    """Lower bound the primary label tells the intruder."""
    upper: FloatArray
    """Upper bound the primary label tells the intruder (``inf``: none)."""
    protection: FloatArray
    """Required interval width per primary cell."""
    upper_protection: FloatArray | None
    lower_protection: FloatArray | None
    small_label: BoolArray
    """Primary cells shown with the primary (small-count) label; the rest of the
    primary cells (dominance, p%) are shown with the secondary label."""


def find_primary(linked: LinkedSet, policy: DisclosurePolicy) -> PrimaryCells:
    """Apply the primary rules to every cell of ``linked``.

    Raises:
        TableError: the policy's dominance or p% rule needs contributor columns
            (``top1``...) that a magnitude table does not have.
    """
    rules = policy.primary
    min_count = rules.threshold.min_count
    counts = linked.counts
    small = (counts >= 1) & (counts < min_count)
    zero = counts == 0
    mode = zero_modes(linked, policy)
    if linked.magnitudes is None and bool(np.any(mode[zero] != _MODES["publish"])):
        # A zero that published zeros of other tables already give away (its
        # linked parts are all published zeros, or it is part of a published-zero
        # total) is known to everyone: hiding it protects nothing and could not
        # be protected, so it is published like them.
        known = implied_zeros(linked, zero & (mode == _MODES["publish"]))
        mode[known] = _MODES["publish"]
    reason = np.zeros(linked.size, dtype=np.int64)
    reason[small] = Reason.THRESHOLD
    reason[zero & (mode != _MODES["publish"])] = Reason.ZERO
    # A cell's label tells a reader 0..9 wherever its table hides zeros.
    label_floor = np.where(mode == _MODES["publish"], 1.0, 0.0)
    if linked.magnitudes is None:
        primary = reason != Reason.NONE
        protection = np.where(primary, policy.secondary.protection_level.count, 0.0)
        # a suppressed zero is kept from being pinned, nothing more
        protection[zero & (mode == _MODES["suppress"])] = 0.0
        return PrimaryCells(
            primary=primary,
            reason=reason,
            lower=np.where(primary, label_floor, 0.0),
            upper=np.where(primary, float(min_count - 1), np.inf),
            protection=protection,
            upper_protection=None,
            lower_protection=None,
            small_label=primary.copy(),
        )
    return _magnitude_primary(linked, policy, reason)


#: Zeros modes from the least to the most protective: a cell shared by tables
#: with different modes follows the most protective.
_MODES: dict[ZerosMode, int] = {"publish": 0, "suppress": 1, "small": 2}


def zero_modes(linked: LinkedSet, policy: DisclosurePolicy) -> IntArray:
    """Per cell, the zeros mode it follows (an index of ``_MODES``)."""
    rules = policy.primary
    mode = np.zeros(linked.size, dtype=np.int64)
    for table in linked.tables:
        cells = linked.positions[table.name]
        mode[cells] = np.maximum(mode[cells], _MODES[rules.zeros_for(table.name)])
    return mode


def implied_zeros(linked: LinkedSet, published: BoolArray) -> BoolArray:
    """Cells that the ``published`` zero cells show are zero: the parts of a zero
    total (counts are not negative), and a total whose parts are all zero."""
    known = published.copy()
    relations = linked.relations()
    changed = True
    while changed:
        changed = False
        for relation in relations:
            kids = list(relation.children)
            if known[relation.total]:
                if not bool(known[kids].all()):
                    known[kids] = True
                    changed = True
            elif bool(known[kids].all()):
                known[relation.total] = True
                changed = True
    return known


def _magnitude_primary(
    linked: LinkedSet, policy: DisclosurePolicy, reason: IntArray
) -> PrimaryCells:
    """Threshold on contributors; dominance and p% on the largest contributions."""
    assert linked.magnitudes is not None  # noqa: S101 - the caller checked the kind
    rules = policy.primary
    value = linked.magnitudes
    needed = max(
        rules.dominance.n if rules.dominance else 0, 2 if rules.p_percent else 0
    )
    top = linked.top
    if needed and (top is None or top.shape[1] < needed):
        names = ", ".join(f"top{i}" for i in range(1, needed + 1))
        raise TableError(
            f"the dominance and p% rules of the policy need the columns {names}"
            f" for the {linked.measure!r} tables"
        )
    fraction = policy.secondary.protection_level.magnitude_percent / 100.0
    required = np.where(reason == Reason.THRESHOLD, fraction * value, 0.0)
    active = (reason == Reason.NONE) & (linked.counts > 0)
    if rules.dominance is not None and top is not None:
        dominant = top[:, : rules.dominance.n].sum(axis=1)
        need = dominant * 100.0 / rules.dominance.k - value
        hit = active & (need > 0)
        reason[hit] = Reason.DOMINANCE
        required = np.maximum(required, np.where(hit, need, 0.0))
        active &= ~hit
    if rules.p_percent is not None and top is not None:
        first, second = top[:, 0], top[:, 1]
        need = rules.p_percent.p / 100.0 * first - (value - first - second)
        hit = active & (first > 0) & (need > 0)
        reason[hit] = Reason.P_PERCENT
        required = np.maximum(required, np.where(hit, need, 0.0))
    primary = reason != Reason.NONE
    small_label = (reason == Reason.THRESHOLD) | (reason == Reason.ZERO)
    required = np.where(primary, required, 0.0)
    return PrimaryCells(
        primary=primary,
        reason=reason,
        lower=np.zeros(linked.size),
        upper=np.full(linked.size, np.inf),
        protection=np.zeros(linked.size),
        upper_protection=required,
        lower_protection=required.copy(),
        small_label=small_label,
    )
