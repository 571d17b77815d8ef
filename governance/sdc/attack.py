"""The exact attacker audit: what an intruder can work out about every hidden cell.

Owns the verdict on a hidden pattern. For every hidden cell, ``audit`` computes the
exact interval ``[lo, hi]`` the cell can take over all tables consistent with what
is published: every published value, every relation across the linked set, every
published derived value (``LinearFact``), non-negativity, and the bounds the labels
imply (``<10``: 1..9, or 0..9 when zeros are hidden; ``[c]``: at least the threshold
when small counts carry their own label). Intervals are exact for the linear
programming relaxation, the standard intruder of statistical disclosure control; for
count tables (``integral``) they are then rounded inwards, which is what an intruder
who knows counts are whole numbers does. For tables whose constraint matrix is
totally unimodular (two-way tables, one-way hierarchies) the result equals the exact
integer interval; for three-way and larger tables the integer interval can be
narrower than the rounded LP interval, a limitation every LP-based audit shares.

A primary cell is unsafe when its interval fails the protection semantics in
``governance.sdc.problem`` (pinned, narrower than the protection level, or short of
the optional tau-ARGUS reach). A table whose labels contradict its values, or whose
values break its own relations, is reported as infeasible rather than crashing.

It never chooses cells to hide and never logs or returns anything but intervals of
cells the caller already holds. The verdict alone, with as few LPs as possible, is
``governance.sdc.verdict.find_unsafe``; ``governance.sdc.audit_memo`` keeps the
last few whole-pack audits' results.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from governance.sdc.highs import SHARES, Status, run_shares
from governance.sdc.intruder import Intruder
from governance.sdc.leaflp import Change, LeafSolver
from governance.sdc.leafspace import LeafSpace
from governance.sdc.linear import ConstraintSystem, build_system
from governance.sdc.local import propagate
from governance.sdc.problem import BoolArray, FloatArray, IntArray, ProtectionProblem

#: Below this many hidden cells the audit bounds them all with one set of models
#: (a second share would mostly repeat the first one's seed LPs).
PARALLEL_FROM = 200
#: ``find_unsafe`` deals its cells into shares only when some component has this
#: many hidden cells: smaller LPs are quick, and two sets of models then cost more
#: (seed LPs twice, each share with fewer witnesses) than the threads save.
PARALLEL_COMPONENT_FROM = 2_000
#: The audit and whole checks push (see ``push_rounds``) when at least this many
#: cells are left to examine, in components of at least ``PUSH_MODEL_FROM``
#: hidden cells (smaller models' own bounds are quick), while each settles at least
#: ``PUSH_GAIN`` more (about what the cells' own LPs settle in the time of one
#: push on the nested bench table), at most ``PUSH_ROUNDS`` times.
PUSH_FROM = 200
PUSH_MODEL_FROM = 2_000
PUSH_GAIN = 50
PUSH_ROUNDS = 40


@dataclass(frozen=True, eq=False)
class AuditResult:
    """The intruder's intervals for one hidden pattern, and the verdict."""

    hidden: BoolArray
    """Cells hidden (primary and secondary) in the audited pattern."""

    lower: FloatArray
    """Intruder's lower bound per cell (the value itself for a published cell;
    ``nan`` for a hidden cell whose component is infeasible)."""

    upper: FloatArray
    """Intruder's upper bound per cell (``inf`` when nothing bounds it)."""

    unsafe: tuple[int, ...]
    """Primary cells the intruder pins or narrows below the protection required,
    including any primary cell left published; sorted."""

    exact: tuple[int, ...]
    """Hidden secondary cells whose interval is a single value (not a breach, but
    hiding them achieves nothing); sorted."""

    contradicted: tuple[int, ...]
    """Hidden cells whose true value lies outside the bounds their label states."""

    violated: tuple[int, ...]
    """Constraint rows (relations first, then facts, in problem order) that the
    true values themselves break."""

    lp_solves: int
    """Linear programmes solved (work measure; deterministic)."""

    seconds: float = field(compare=False)

    @property
    def feasible(self) -> bool:
        """False when the labels or relations contradict the true values."""
        return not self.contradicted and not self.violated

    @property
    def safe(self) -> bool:
        """True when the table is consistent and no primary cell is unsafe."""
        return self.feasible and not self.unsafe


def round_inwards(
    problem: ProtectionProblem, lower: FloatArray, upper: FloatArray, tol: float
) -> tuple[FloatArray, FloatArray]:
    """Round intervals to whole numbers for count tables; identity otherwise."""
    if not problem.integral:
        return lower, upper
    with np.errstate(invalid="ignore"):
        return np.ceil(lower - tol), np.floor(upper + tol)


def judge(
    problem: ProtectionProblem,
    hidden: BoolArray,
    lower: FloatArray,
    upper: FloatArray,
    tol: float,
) -> BoolArray:
    """Return the primary cells whose (already rounded) interval is not protected."""
    width, reach_up, reach_down = problem.protection_targets()
    with np.errstate(invalid="ignore"):
        short = (
            (upper - lower < width - tol)
            | (upper < reach_up - tol)
            | (lower > reach_down + tol)
            | np.isnan(lower)
            | np.isnan(upper)
        )
    unsafe: BoolArray = problem.primary & (~hidden | short)
    return unsafe


def tolerance(problem: ProtectionProblem) -> float:
    """Absolute tolerance for comparing bounds of this problem's values."""
    scale = float(np.max(np.abs(problem.values))) if problem.size else 1.0
    return 1e-7 * max(1.0, scale)


def spread_protects(
    problem: ProtectionProblem,
    lo: FloatArray,
    hi: FloatArray,
    width: FloatArray,
    up: FloatArray,
    down: FloatArray,
) -> BoolArray:
    """Whether tables spreading cells over ``[lo, hi]`` prove their protection.

    The spread is rounded inwards for count tables, as the audit rounds intervals;
    the targets are ``problem.protection_targets()`` of the same cells."""
    tol = tolerance(problem)
    with np.errstate(invalid="ignore"):
        if problem.integral:
            lo, hi = np.ceil(lo - tol), np.floor(hi + tol)
            tol = 1e-9
        proven: BoolArray = (
            (hi - lo >= width - tol) & (hi >= up - tol) & (lo <= down + tol)
        )
    return proven


def contradictions(problem: ProtectionProblem, hidden: BoolArray) -> BoolArray:
    """Return hidden cells whose true value breaks the bounds their label implies."""
    lower, upper = problem.hidden_bounds(hidden)
    tol = tolerance(problem)
    bad: BoolArray = hidden & (
        (problem.values < lower - tol) | (problem.values > upper + tol)
    )
    return bad


def violations(problem: ProtectionProblem, system: ConstraintSystem) -> BoolArray:
    """Return the rows the true values themselves break."""
    tol = tolerance(problem)
    act = system.activity(problem.values)
    bad: BoolArray = (act < system.row_lower - tol) | (act > system.row_upper + tol)
    return bad


class Bounder:
    """Exact bounds of hidden cells, cheapest method first.

    In order: a cell pinned by a single row is exact at once; a bound that some
    table already seen reaches, and that bound propagation shows cannot be beaten,
    is exact; column generation in leaf space usually proves the bound with a
    handful of leaves; the LP over the cell's whole component settles the rest.
    Every table found on the way is kept as a witness for other cells.
    """

    def __init__(
        self,
        problem: ProtectionProblem,
        system: ConstraintSystem,
        hidden: BoolArray,
        leaves: LeafSpace | None,
        witnesses: Sequence[Change] = (),
        outer: tuple[FloatArray, FloatArray] | None = None,
    ) -> None:
        self.problem = problem
        self.intruder = Intruder(problem, system, hidden)
        it = self.intruder
        lo, hi = it.lower.copy(), it.upper.copy()
        fixed = ~it.unknown
        lo[fixed] = it.known_value[fixed]
        hi[fixed] = it.known_value[fixed]
        if outer is not None:  # bounds already proven for this pattern
            lo, hi = np.maximum(lo, outer[0]), np.minimum(hi, outer[1])
        self.outer_lo, self.outer_hi, _ = propagate(system, lo, hi)
        self.tol = tolerance(problem)
        values = problem.values
        # The true table is a witness, and the leaf-space search works in changes
        # from it, only when it is itself feasible. A checked table has placeholder
        # values in its hidden cells, so there only the plain LPs are used.
        self.reference = not (
            contradictions(problem, hidden).any() or violations(problem, system).any()
        )
        self.wmin = values.copy()
        self.wmax = values.copy()
        self.found: list[Change] = []
        """Tables found feasible for this pattern, as changes from the true one."""
        self.undecided: int | None = None
        """A cell ``find_unsafe`` left undecided when its LP budget ran out."""
        self.other_lps = 0
        """LPs solved for this pattern by other shares' bounders."""
        self._absorbed = 0
        if not self.reference:
            self.wmin[hidden] = np.inf
            self.wmax[hidden] = -np.inf
        else:
            # Tables a caller found for a pattern this one only relaxes stay feasible.
            for change in witnesses:
                self._witness(change)
            self.intruder.sink = self.found
        self.solver: LeafSolver | None = None
        if leaves is not None and self.reference:
            low, high = problem.hidden_bounds(hidden)
            self.solver = LeafSolver(
                leaves, low - values, high - values, hidden[leaves.leaves],
                batch=20, max_rounds=8,
            )  # fmt: skip

    @property
    def lp_solves(self) -> int:
        extra = self.solver.lp_solves if self.solver is not None else 0
        return self.intruder.lp_solves + extra + self.other_lps

    def bound(self, cell: int, side: int) -> float:
        """Exact minimum (side=-1) or maximum (side=+1) of a hidden cell."""
        it = self.intruder
        if it.pinned[cell]:
            return float(it.pinned_value[cell])
        value = float(self.problem.values[cell])
        outer = float(self.outer_hi[cell] if side > 0 else self.outer_lo[cell])
        seen = float(self.wmax[cell] if side > 0 else self.wmin[cell])
        if abs(seen - outer) <= self.tol:
            it.settle(cell, side, outer)
            return outer
        if self.solver is not None:
            found = self.solver.bound(cell, side, outer=abs(outer - value))
            if found.status is Status.OPTIMAL:
                self.found.append(found.change)
                self.absorb()
                return value + found.value
            if found.status is Status.UNBOUNDED:
                return float(np.inf) if side > 0 else float(it.lower[cell])
        bound = it.bound(cell, side)
        self.absorb()
        return bound

    def _witness(self, change: Change) -> None:
        moved = self.problem.values[change.cells] + change.delta
        np.maximum.at(self.wmax, change.cells, moved)
        np.minimum.at(self.wmin, change.cells, moved)

    def absorb(self) -> None:
        """Take every table found since the last call as a witness."""
        for change in self.found[self._absorbed :]:
            self._witness(change)
        self._absorbed = len(self.found)

    def spread(self, cell: int) -> tuple[float, float]:
        """Least and greatest value of ``cell`` in the witnesses (rounded inwards)."""
        lo, hi = float(self.wmin[cell]), float(self.wmax[cell])
        if self.problem.integral:
            lo, hi = float(np.ceil(lo - self.tol)), float(np.floor(hi + self.tol))
        return lo, hi

    def proven_safe(self, cell: int, width: float, up: float, down: float) -> bool:
        """True when witnesses alone show the cell is protected."""
        at = slice(cell, cell + 1)
        one = (np.array([x]) for x in (width, up, down))
        return bool(
            spread_protects(self.problem, self.wmin[at], self.wmax[at], *one)[0]
        )

    def proven_all(
        self, width: FloatArray, up: FloatArray, down: FloatArray
    ) -> BoolArray:
        """``proven_safe`` of every cell at once, for the witnesses seen so far."""
        return spread_protects(self.problem, self.wmin, self.wmax, width, up, down)


def audit(
    problem: ProtectionProblem,
    hidden: BoolArray,
    *,
    system: ConstraintSystem | None = None,
    leaves: LeafSpace | None = None,
    shares: int | None = None,
    witnesses: Sequence[Change] = (),
) -> AuditResult:
    """Compute every hidden cell's exact interval and judge the pattern.

    ``hidden`` is the primary cells together with the chosen secondary cells. The
    result is deterministic for the same problem and pattern. Infeasible input
    (labels or relations contradicted by the values) is reported in the result.
    ``leaves`` (optional) enables the leaf-space column generation of ``Bounder``.
    ``shares``: the hidden cells are dealt into this many shares (default
    ``highs.SHARES``), each bounded with its own models, on up to two threads
    (HiGHS lets go of the interpreter while it solves). ``witnesses`` are tables
    known to be ones the intruder cannot rule out for this problem and pattern
    (``governance.sdc.pool.feasible`` checks tables found elsewhere): a bound they
    reach, where propagation shows it cannot be beaten, needs no LP. They change
    no interval, only how many LPs are solved.
    """
    started = time.perf_counter()
    problem.check()
    hidden = np.asarray(hidden, dtype=bool)
    if hidden.shape != (problem.size,):
        raise ValueError("audit: hidden must have one entry per cell")
    system = system if system is not None else build_system(problem)
    bounder = Bounder(problem, system, hidden, leaves, witnesses)
    intruder = bounder.intruder
    lower = problem.values.astype(np.float64, copy=True)
    upper = problem.values.astype(np.float64, copy=True)
    order = audit_order(intruder)
    if bounder.reference and len(order) >= PUSH_FROM:
        push_rounds(bounder, np.array(order, dtype=np.int64), unsettled(bounder))
    shares = SHARES if shares is None else max(1, shares)
    if shares == 1 or leaves is not None or len(order) < PARALLEL_FROM:
        bounders = [bounder]
        _bound_all(bounder, order, lower, upper)
    else:
        # Every bound is an exact optimum, whichever model finds it; the cells are
        # dealt into a fixed number of shares, each with its own models, so the LP
        # count does not depend on the machine either.
        known = [*witnesses, *bounder.found]  # the pushes' tables too
        bounders = [bounder] + [
            Bounder(problem, system, hidden, None, known) for _ in range(shares - 1)
        ]
        parts = [share_of(order, k, shares) for k in range(shares)]
        task = functools.partial(_bound_share, bounders, parts, lower, upper)
        run_shares(task, shares)
    tol = tolerance(problem)
    lower, upper = round_inwards(problem, lower, upper, tol)
    unsafe = judge(problem, hidden, lower, upper, tol if not problem.integral else 1e-9)
    with np.errstate(invalid="ignore"):
        exact = hidden & ~problem.primary & (upper - lower <= tol)
    return AuditResult(
        hidden=hidden.copy(),
        lower=lower,
        upper=upper,
        unsafe=tuple(int(i) for i in np.flatnonzero(unsafe)),
        exact=tuple(int(i) for i in np.flatnonzero(exact)),
        contradicted=tuple(
            int(i) for i in np.flatnonzero(contradictions(problem, hidden))
        ),
        violated=tuple(int(i) for i in np.flatnonzero(violations(problem, system))),
        lp_solves=sum(b.lp_solves for b in bounders),
        seconds=time.perf_counter() - started,
    )


#: What a push still lacks, given a component's cells: per cell -1 (push it up),
#: +1 (down) or 0 (nothing), and how many bounds or cells are still open.
Lacking = Callable[[IntArray], tuple[FloatArray, int]]


def push_rounds(bounder: Bounder, cells: IntArray, lacking: Lacking) -> None:
    """Settle many cells at once before their own LPs.

    A push is one LP over a large component that moves every cell still lacking
    something the way it lacks it, solved by the interior point method: about as
    costly as one seed solve, where the cells' own bounds would be a simplex
    re-solve each. Its vertex is a table like any other (a witness), so nothing
    it settles differs from what the cells' own LPs would give; only fewer of
    them are solved. Pushes stop when one settles fewer than ``PUSH_GAIN`` more,
    which is counted, not timed, so results and LP counts stay deterministic.
    """
    intruder = bounder.intruder
    cells = cells[~intruder.pinned[cells]]
    comps = intruder.component[cells]
    for comp in np.unique(comps).tolist():
        members = cells[comps == comp]
        if intruder.model_size(int(members[0])) < PUSH_MODEL_FROM:
            continue
        cost, open_before = lacking(members)
        for _ in range(PUSH_ROUNDS):
            moving = np.flatnonzero(cost)
            if moving.shape[0] == 0:
                break
            if not intruder.push(members[moving], cost[moving]):
                break
            bounder.absorb()
            cost, open_after = lacking(members)
            if open_before - open_after < PUSH_GAIN:
                break
            open_before = open_after


def unsettled(bounder: Bounder) -> Lacking:
    """For the audit: bounds no witness has settled yet (reached where
    propagation shows they cannot be beaten): up where the maximum is open, else
    down where the minimum is."""

    def lacking(cells: IntArray) -> tuple[FloatArray, int]:
        tol = bounder.tol
        top, bottom = bounder.outer_hi[cells], bounder.outer_lo[cells]
        up = np.isfinite(top) & (bounder.wmax[cells] < top - tol)
        down = bounder.wmin[cells] > bottom + tol
        cost = np.where(up, -1.0, np.where(down, 1.0, 0.0))
        return cost, int(up.sum() + down.sum())

    return lacking


def share_of(order: list[int], k: int, shares: int) -> list[int]:
    """Share ``k``'s cells: a contiguous run of the order."""
    size = -(-len(order) // shares)
    return order[k * size : (k + 1) * size]


def _bound_share(
    bounders: Sequence[Bounder],
    parts: Sequence[Sequence[int]],
    lower: FloatArray,
    upper: FloatArray,
    k: int,
) -> None:
    _bound_all(bounders[k], parts[k], lower, upper)


def _bound_all(
    bounder: Bounder, cells: Sequence[int], lower: FloatArray, upper: FloatArray
) -> None:
    """Exact bounds of ``cells`` into ``lower`` and ``upper`` (each share writes
    its own cells only)."""
    for cell in cells:
        lower[cell] = bounder.bound(int(cell), -1)
        upper[cell] = bounder.bound(int(cell), +1)


def audit_order(intruder: Intruder) -> list[int]:
    """Hidden cells grouped by component (pinned ones first), then by index.

    Grouping keeps one component's model hot while its cells are bounded; the order
    is a pure function of the pattern, so results and LP counts are deterministic.
    """
    cells = np.flatnonzero(intruder.hidden)
    comp = intruder.component[cells]
    order = np.lexsort((cells, comp))
    return [int(c) for c in cells[order]]
