"""The optimal complementary-suppression method: MILP with row generation.

Owns ``protect(method="optimal")``: the Fischetti–Salazar-González scheme on HiGHS.
The master (``governance.sdc.master``) chooses 0/1 suppression variables at least
cost subject to the cuts known so far; the exact intruder (``verdict.find_unsafe``)
examines the master's pattern; every unsafe primary cell yields capacity cuts from
its LP certificates (``governance.sdc.cuts``), which the pattern violates; the
master is solved again. It starts from the cuts of single relations and from the
fast method's pattern as incumbent. In rounds where the master's pattern is
nearly safe it is also made safe by the fast method's exact repair and pruned,
which usually beats the incumbent long before the master's own pattern is safe. When the master is solved
to optimality and its pattern is safe, or the incumbent costs no more than the
master's lower bound, the incumbent is optimal for the intruder of the audit, since
every cut is valid for every safe pattern. When time runs out, the best safe
pattern seen is returned (at worst the fast method's) with the master's lower bound.

The master's own search is deterministic for a given HiGHS build; a time limit makes
the point where it stops depend on the machine, which the result reports.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from governance.errors import DisclosureError
from governance.sdc.cuts import Cut, CutBuilder
from governance.sdc.highs import Status
from governance.sdc.leaflp import Change
from governance.sdc.leafspace import LeafSpace
from governance.sdc.linear import ConstraintSystem
from governance.sdc.master import Master
from governance.sdc.problem import BoolArray, ProtectionProblem
from governance.sdc.suppress_fast import RepairBudgetError, cuts_for, prune, repair
from governance.sdc.verdict import find_unsafe

Progress = Callable[[str, float], None]

#: The master's pattern is repaired and pruned only when at most this share of the
#: primary cells is unsafe in it: a pattern far from safe takes long to repair (on
#: the four-dimension bench table, minutes for the first) and seldom beats the
#: incumbent.
NEARLY_SAFE = 0.05


@dataclass(frozen=True)
class OptimalOutcome:
    hidden: BoolArray
    proven: bool
    """True when the pattern is proven to be of least cost."""
    lower_bound: float
    """Best proven lower bound on the cost of any safe pattern."""
    rounds: int
    cuts: int
    tables: tuple[Change, ...] = ()
    """Tables found feasible for ``hidden`` (witnesses for the final check)."""


def protect_optimal(
    problem: ProtectionProblem,
    system: ConstraintSystem,
    leaves: LeafSpace | None,
    incumbent: BoolArray,
    *,
    time_limit: float,
    progress: Progress | None = None,
    witnesses: Sequence[Change] = (),
) -> OptimalOutcome:
    """Row generation from ``incumbent`` (a safe pattern) until optimal or out of time.

    Each round may also repair and prune the master's pattern, keeping the result when
    it beats the incumbent. The time limit is checked between rounds, before each LP and
    push of a round's exact check, before each least-cost move of its repair and before
    each unsafe cell's cuts; a round is given up when time runs out in it. ``witnesses`` are tables feasible for ``incumbent``;
    the outcome carries the tables feasible for the pattern it returns, so the final
    check need not start cold.
    """
    started = time.perf_counter()
    deadline = started + time_limit
    builder = CutBuilder(problem, system)
    master = Master(problem)
    master.add(builder.relation_cuts())
    best = incumbent.copy()
    best_cost = _cost(problem, best)
    tables: list[Change] = list(witnesses)
    bump: dict[int, float] = {}
    proven = False
    lower_bound = 0.0
    rounds = 0
    next_try, gap = 1, 1  # the round of the next repair and prune, and the wait
    if best_cost <= 0.0:  # the safe incumbent hides no complement: nothing is cheaper
        return OptimalOutcome(best, True, 0.0, rounds, master.n_cuts, tuple(tables))
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
        unsafe, bounder = find_unsafe(
            problem, pattern, system=system, leaves=leaves, deadline=deadline
        )
        if progress is not None:
            progress("optimal", min(0.99, (time.perf_counter() - started) / time_limit))
        if bounder.undecided is not None:
            break  # out of time within the check: the incumbent stands
        if not unsafe:
            pattern_cost = _cost(problem, pattern)
            if pattern_cost < best_cost - 1e-9:
                best, best_cost, tables = pattern, pattern_cost, list(bounder.found)
            if status is Status.OPTIMAL and not bump:
                proven = True
                lower_bound = best_cost
            break
        cuts: list[Cut] = []
        for cell in unsafe:
            if time.perf_counter() >= deadline:
                break  # each cell's cuts take two LPs: thousands of cells, minutes
            cuts.extend(cuts_for(problem, bounder, builder, cell, pattern, bump))
        if time.perf_counter() >= deadline:
            break
        if master.add(cuts) == 0:  # pragma: no cover - violated cuts are always new
            break
        # The master's pattern, made safe by the fast method's exact repair and
        # pruned, is a safe pattern near the master's choice: often far cheaper
        # than the incumbent long before the master's own pattern is safe. It costs
        # more than a round, so after a round where it does not beat the incumbent
        # it waits twice as many rounds (counted, so the result stays the same on
        # any machine).
        if rounds >= next_try and len(unsafe) <= NEARLY_SAFE * problem.primary.sum():
            found = _repaired_and_pruned(
                problem, system, leaves, pattern, builder, bounder.found,
                max_lps=bounder.lp_solves, deadline=deadline,
            )  # fmt: skip
            if found is None or _cost(problem, found[0]) >= best_cost - 1e-9:
                gap *= 2
            else:
                best, tables = found[0], found[1]
                best_cost, gap = _cost(problem, best), 1
            next_try = rounds + gap
        if not bump and best_cost <= _least_cost(problem, lower_bound) + 1e-9:
            proven = True  # no safe pattern costs less than the master's bound
            lower_bound = best_cost
            break
    return OptimalOutcome(
        best, proven, min(lower_bound, best_cost), rounds, master.n_cuts,
        tuple(tables),
    )  # fmt: skip


def _repaired_and_pruned(
    problem: ProtectionProblem,
    system: ConstraintSystem,
    leaves: LeafSpace | None,
    pattern: BoolArray,
    builder: CutBuilder,
    witnesses: Sequence[Change],
    *,
    max_lps: int | None = None,
    deadline: float | None = None,
) -> tuple[BoolArray, list[Change]] | None:
    """``pattern`` made safe (exact repair) and pruned, with the tables feasible
    for the result, or ``None`` when the repair refuses it, needs more than
    ``max_lps`` LPs or runs past ``deadline`` (``time.perf_counter()``) in an
    exact check. ``witnesses`` are tables feasible for ``pattern``.

    The loop caps the repair at the LPs of its own round's exact check and gives
    it only patterns that are nearly safe (``NEARLY_SAFE``): LPs differ in length,
    so the cap alone bounds the work only roughly (on the four-dimension bench
    table, 3,920 cells, the first repair ran for over 200 s).

    The pruning solves no LP of its own: an offer is taken only when the tables
    the repair found prove every small cell safe without the cell (as the fast
    method's once its budget is spent). With 200 LPs for each pruning the nested
    two-body bench table reached its optimum (165) within 20 s rather than 168,
    but the 1,120-cell table took 24 s rather than 5.6 s.
    """
    try:
        repaired, pool = repair(
            problem, system, leaves, pattern, builder, witnesses=witnesses,
            max_lps=max_lps, deadline=deadline,
        )  # fmt: skip
    except RepairBudgetError:
        return None
    except DisclosureError:  # pragma: no cover - a safe incumbent exists
        return None
    return prune(problem, system, leaves, repaired, lp_budget=0, witnesses=pool)


def _cost(problem: ProtectionProblem, hidden: BoolArray) -> float:
    return float(problem.cost[hidden & ~problem.primary].sum())


def _least_cost(problem: ProtectionProblem, bound: float) -> float:
    """The least cost a pattern can have given a lower ``bound``: rounded up when
    every cost is a whole number."""
    costs = problem.cost
    if bool(np.all(costs == np.round(costs))):
        return float(np.ceil(bound - 1e-6))
    return bound


def _safe_bound(master: Master) -> float:
    bound = master.bound()
    return bound if np.isfinite(bound) else 0.0
