"""Complementary suppression: choose the cells to hide besides the primary ones.

``protect`` is the one interface the pipeline (``governance.sdc.clear``) calls. It
dispatches to ``governance.sdc.suppress_fast`` (propagation greedy, exact repair by
cuts, pruning; deterministic) or ``governance.sdc.suppress_optimal`` (MILP with row
generation on HiGHS, started from the fast pattern, under a time limit), or picks by
size (``auto``). Whatever the method, the last step is the exact attacker audit's
verdict (``verdict.find_unsafe``) on the pattern it returns: a pattern with any
unsafe primary cell is repaired, and if that fails the call raises rather than
return it. Both methods protect against the same intruder as the audit, label
bounds included. See docs/suppression-methods.md.

It never reads files or logs. Besides the pattern, its result holds the tables
found feasible for it (changes from the true table, as sensitive as the table
itself), which the pipeline's audit takes as witnesses; they never leave
``governance.sdc``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from governance.errors import DisclosureError
from governance.sdc.cuts import CutBuilder
from governance.sdc.leaflp import Change
from governance.sdc.leafspace import LeafSpace, build_leaf_space
from governance.sdc.linear import ConstraintSystem, build_system
from governance.sdc.problem import BoolArray, ProtectionProblem
from governance.sdc.suppress_fast import protect_fast, repair
from governance.sdc.suppress_optimal import protect_optimal
from governance.sdc.verdict import find_unsafe

MethodName = Literal["optimal", "fast", "auto"]
Progress = Callable[[str, float], None]

#: ``auto`` uses the optimal method up to this many cells that may be hidden.
AUTO_OPTIMAL_CANDIDATES = 400
#: Above this many cells, pruning's exact checks solve at most this many LPs in
#: all; later offers are taken only when the tables found so far prove them safe.
PRUNE_FULL_LIMIT = 5000
PRUNE_LPS_LARGE = 8000


@dataclass(frozen=True)
class SuppressionResult:
    hidden: BoolArray
    """Primary and complementary cells to hide."""
    secondary: BoolArray
    method: str
    """The method that produced the pattern (``fast`` or ``optimal``)."""
    objective: float
    """Total cost of the complementary cells."""
    optimal: bool
    """Whether the pattern is proven to be of least cost."""
    seconds: float
    lower_bound: float | None = None
    """Proven lower bound on the cost of any safe pattern (``optimal`` only)."""
    witnesses: tuple[Change, ...] = field(default=(), repr=False)
    """Tables the intruder cannot rule out for ``hidden``, found on the way:
    witnesses that spare the audit of the pattern LPs (as sensitive as the
    table; internal to ``governance.sdc``)."""


def choose_method(problem: ProtectionProblem, method: MethodName) -> str:
    """Resolve ``auto``: the optimal MILP for small problems, fast otherwise."""
    if method != "auto":
        return method
    small = int(problem.usable_candidates().sum()) <= AUTO_OPTIMAL_CANDIDATES
    return "optimal" if small else "fast"


def protect(
    problem: ProtectionProblem,
    method: MethodName = "auto",
    *,
    time_limit: float = 60.0,
    seed: int = 0,
    progress: Progress | None = None,
    use_leaf_space: bool = False,
    prune_lps: int | Literal["auto"] | None = "auto",
) -> SuppressionResult:
    """Return a safe hidden pattern for ``problem``.

    ``time_limit`` bounds the optimal method's search (the fast method needs none);
    ``seed`` is accepted for interface stability and unused: both methods are
    deterministic. ``use_leaf_space`` lets the audit try column generation in leaf
    space before each component LP; it is off because it measured slower (the
    demo's 1,408-cell set: audit 2.1 s with it, 0.2 s without; 6,860 cells: 219 s
    and 207 s), and kept for the benchmark. ``prune_lps`` caps the LPs the fast
    method's pruning solves (``None``: no cap; ``auto``: no cap up to
    ``PRUNE_FULL_LIMIT`` cells, ``PRUNE_LPS_LARGE`` above); a cap leaves more cells
    hidden, never an unsafe one. It counts LPs, not seconds, so the result is still
    deterministic.

    Raises:
        DisclosureError: some primary cell cannot be protected even with every
            candidate hidden.
    """
    del seed
    started = time.perf_counter()
    problem.check()
    system = build_system(problem)
    leaves = build_leaf_space(problem, system) if use_leaf_space else None
    chosen = choose_method(problem, method)
    if prune_lps == "auto":
        prune_lps = None if problem.size <= PRUNE_FULL_LIMIT else PRUNE_LPS_LARGE
    hidden, pool = protect_fast(
        problem, system, leaves, lp_budget=prune_lps, progress=progress
    )
    proven = False
    lower_bound: float | None = None
    if chosen == "optimal":
        left = max(time_limit - (time.perf_counter() - started), 0.1)
        outcome = protect_optimal(
            problem, system, leaves, hidden, time_limit=left, progress=progress,
            witnesses=pool,
        )  # fmt: skip
        hidden, proven, lower_bound = (
            outcome.hidden,
            outcome.proven,
            outcome.lower_bound,
        )
        pool = list(outcome.tables)  # feasible for the pattern it returns
    hidden, tables = _checked(problem, hidden, system, leaves, pool)
    if progress is not None:
        progress("done", 1.0)
    secondary = hidden & ~problem.primary
    return SuppressionResult(
        hidden=hidden,
        secondary=secondary,
        method=chosen,
        objective=float(problem.cost[secondary].sum()),
        optimal=proven,
        seconds=time.perf_counter() - started,
        lower_bound=lower_bound,
        witnesses=tuple(tables),
    )


def _checked(
    problem: ProtectionProblem,
    hidden: BoolArray,
    system: ConstraintSystem,
    leaves: LeafSpace | None,
    witnesses: Sequence[Change] = (),
) -> tuple[BoolArray, list[Change]]:
    """The audit's verdict as the last step: repair once, or refuse.

    ``witnesses`` are tables the method found feasible for ``hidden``. Returns the
    pattern and the tables known feasible for it.
    """
    unsafe, bounder = find_unsafe(
        problem, hidden, system=system, leaves=leaves, witnesses=witnesses
    )
    if not unsafe:
        return hidden, [*witnesses, *bounder.found]
    hidden, pool = repair(problem, system, leaves, hidden, CutBuilder(problem, system))
    unsafe, bounder = find_unsafe(
        problem, hidden, system=system, leaves=leaves, witnesses=pool
    )
    if unsafe:  # pragma: no cover - repair ends only when the audit is clean
        raise DisclosureError(f"{len(unsafe)} small cells could not be protected")
    return np.asarray(hidden, dtype=bool), [*pool, *bounder.found]
