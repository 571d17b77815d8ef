"""The optimal complementary-suppression method: MILP with row generation.

Owns ``protect(method="optimal")``: the Fischetti–Salazar-González scheme on HiGHS.
The master (``governance.sdc.master``) chooses 0/1 suppression variables at least
cost subject to the cuts known so far; the exact intruder (``attack.find_unsafe``)
examines the master's pattern; every unsafe primary cell yields capacity cuts from
its LP certificates (``governance.sdc.cuts``), which the pattern violates; the
master is solved again. It starts from the cuts of single relations and from the
fast method's pattern as incumbent. When the master is solved to optimality and its
pattern is safe, that pattern is optimal for the intruder of the audit, since every
cut is valid for every safe pattern. When time runs out, the best safe pattern seen
is returned (at worst the fast method's) with the master's lower bound.

The master's own search is deterministic for a given HiGHS build; a time limit makes
the point where it stops depend on the machine, which the result reports.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from governance.errors import DisclosureError
from governance.sdc.attack import find_unsafe
from governance.sdc.cuts import Cut, CutBuilder
from governance.sdc.highs import Status
from governance.sdc.leafspace import LeafSpace
from governance.sdc.linear import ConstraintSystem
from governance.sdc.master import Master
from governance.sdc.problem import BoolArray, ProtectionProblem
from governance.sdc.suppress_fast import cover, cuts_for

Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class OptimalOutcome:
    hidden: BoolArray
    proven: bool
    """True when the pattern is proven to be of least cost."""
    lower_bound: float
    """Best proven lower bound on the cost of any safe pattern."""
    rounds: int
    cuts: int


def protect_optimal(
    problem: ProtectionProblem,
    system: ConstraintSystem,
    leaves: LeafSpace | None,
    incumbent: BoolArray,
    *,
    time_limit: float,
    progress: Progress | None = None,
) -> OptimalOutcome:
    """Row generation from ``incumbent`` (a safe pattern) until optimal or out of time."""
    started = time.perf_counter()
    builder = CutBuilder(problem, system)
    master = Master(problem)
    master.add(builder.relation_cuts())
    cost = problem.cost
    best = incumbent.copy()
    best_cost = float(cost[best & ~problem.primary].sum())
    bump: dict[int, float] = {}
    proven = False
    lower_bound = 0.0
    rounds = 0
    if best_cost <= 0.0:  # the safe incumbent hides no complement: nothing is cheaper
        return OptimalOutcome(best, True, 0.0, rounds, master.n_cuts)
    while True:
        left = time_limit - (time.perf_counter() - started)
        if left <= 0.05:
            break
        rounds += 1
        status, y = master.solve(time_limit=left, start=best)
        if y is None:
            break
        lower_bound = max(
            lower_bound, master.bound() if status is Status.OPTIMAL else 0.0
        )
        if status is not Status.OPTIMAL:
            lower_bound = max(lower_bound, _safe_bound(master))
        pattern = problem.primary | (y > 0.5)
        unsafe, bounder = find_unsafe(problem, pattern, system=system, leaves=leaves)
        if progress is not None:
            progress("optimal", min(0.99, (time.perf_counter() - started) / time_limit))
        if not unsafe:
            pattern_cost = float(cost[pattern & ~problem.primary].sum())
            if pattern_cost < best_cost - 1e-9:
                best, best_cost = pattern, pattern_cost
            if status is Status.OPTIMAL and not bump:
                proven = True
                lower_bound = best_cost
            break
        cuts: list[Cut] = []
        for cell in unsafe:
            cuts.extend(cuts_for(problem, bounder, builder, cell, pattern, bump))
        if master.add(cuts) == 0:  # pragma: no cover - violated cuts are always new
            break
        # A cheap repair of the master's pattern may beat the incumbent. A cut raised
        # for rounding (``bump``) may be one no pattern meets; then skip the repair.
        repaired = pattern.copy()
        try:
            for cut in cuts:
                repaired[cover(cut, repaired, cost, problem.values)] = True
        except DisclosureError:
            continue
        again, _ = find_unsafe(problem, repaired, system=system, leaves=leaves)
        if not again:
            repaired_cost = float(cost[repaired & ~problem.primary].sum())
            if repaired_cost < best_cost - 1e-9:
                best, best_cost = repaired, repaired_cost
    return OptimalOutcome(
        best, proven, min(lower_bound, best_cost), rounds, master.n_cuts
    )


def _safe_bound(master: Master) -> float:
    bound = master.bound()
    return bound if np.isfinite(bound) else 0.0
