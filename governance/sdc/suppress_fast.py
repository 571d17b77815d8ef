"""The fast complementary-suppression method: propagate, repair with cuts, prune.

Owns the heuristic behind ``protect(method="fast")``. Three deterministic phases:

1. **Propagation greedy** (``governance.sdc.greedy``): bound propagation's
   binding rows name the cells to hide, a round's narrowed cells covered together
   by a greedy set cover. No LP.
2. **Exact repair.** The exact audit (``verdict.find_unsafe``) finds what
   propagation cannot: cells pinned or narrowed by combining rows. For each, the
   least-cost move (``governance.sdc.moves``) that spreads it as wide as required
   names the published cells to hide; the move is then a witness, so the cell is
   safe by construction. A cell no move widens falls back to the LP certificate of
   its bounds, a capacity cut (``governance.sdc.cuts``) that every safe pattern
   satisfies, covered by the cheapest cells. Hiding more never narrows an
   interval, so the loop ends, and it ends safe. A cut no candidate can cover
   proves the cell cannot be protected at all.
3. **Pruning.** Complementary cells are offered back, most expensive first; one is
   published again when propagation and then the exact audit both stay clean.
   Propagation rejects most offers without an LP.

Nothing here reads a clock: the same problem always gives the same pattern.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

import numpy as np

from governance.errors import DisclosureError
from governance.sdc.attack import Bounder
from governance.sdc.cuts import Cut, CutBuilder
from governance.sdc.greedy import Greedy, outer_unsafe
from governance.sdc.highs import SHARES, run_shares
from governance.sdc.leaflp import Change
from governance.sdc.leafspace import LeafSpace
from governance.sdc.linear import ConstraintSystem
from governance.sdc.local import propagate
from governance.sdc.moves import Mover
from governance.sdc.pool import WitnessPool
from governance.sdc.problem import BoolArray, FloatArray, ProtectionProblem
from governance.sdc.verdict import find_unsafe
from governance.sdc.widen import share_moves

Progress = Callable[[str, float], None]
#: The fewest unsafe cells a repair round deals into ``highs.SHARES`` shares.
PARALLEL_MOVES_FROM = 16


def cover(
    cut: Cut, hidden: BoolArray, cost: FloatArray, values: FloatArray
) -> list[int]:
    """Cheapest cells (not yet hidden) that satisfy ``cut`` when hidden, greedily.

    Raises:
        DisclosureError: no choice of cells can satisfy the cut.
    """
    have = float(np.sum(cut.coef[hidden[cut.cells]]))
    if have >= cut.rhs - 1e-9:
        return []
    open_ = ~hidden[cut.cells]
    cells, coef = cut.cells[open_], cut.coef[open_]
    if float(np.sum(coef)) + have < cut.rhs - 1e-9:
        raise DisclosureError(
            "a small cell cannot be protected even with every candidate hidden;"
            " consider treating zeros as small or lowering the protection level"
        )
    full = coef >= cut.rhs - have - 1e-9
    if bool(np.any(full)):
        order = np.lexsort((cells, values[cells], cost[cells], ~full))
    else:
        order = np.lexsort(
            (cells, values[cells], -coef / np.maximum(cost[cells], 1e-12), ~full)
        )
    picked: list[int] = []
    for k in order:
        picked.append(int(cells[k]))
        have += float(coef[k])
        if have >= cut.rhs - 1e-9:
            break
    return picked


class RepairBudgetError(Exception):
    """A capped repair needed more LPs than it was given."""


def repair(
    problem: ProtectionProblem,
    system: ConstraintSystem,
    leaves: LeafSpace | None,
    hidden: BoolArray,
    builder: CutBuilder,
    *,
    witnesses: Sequence[Change] = (),
    progress: Progress | None = None,
    max_lps: int | None = None,
    deadline: float | None = None,
) -> tuple[BoolArray, list[Change]]:
    """Phase 2: hide cells until the exact audit finds nothing unsafe.

    Returns the pattern and the tables found on the way (changes from the true
    table), every one feasible for that pattern: witnesses for what follows.
    ``witnesses`` are tables already known feasible for ``hidden``.

    Raises:
        RepairBudgetError: the exact checks and moves needed more than ``max_lps``
            LPs in all (``None``: no cap), or an exact check or a least-cost move
            would start past ``deadline`` (``time.perf_counter()``; only the
            optimal method, whose result already depends on its time limit,
            passes one).
    """
    hidden = hidden.copy()
    rounds = 0
    bump: dict[int, float] = {}
    # Hiding more only relaxes the intruder's system: every table found for one
    # round's pattern is feasible for the next, so it stays a witness.
    pool: list[Change] = list(witnesses)
    movers: list[Mover] = []
    spent = moved = 0  # LPs of the checks and moves; the movers' solves so far
    while True:
        unsafe, bounder = find_unsafe(
            problem, hidden, system=system, leaves=leaves, witnesses=pool,
            max_lps=None if max_lps is None else max_lps - spent, deadline=deadline,
        )  # fmt: skip
        spent += bounder.lp_solves
        if bounder.undecided is not None:
            raise RepairBudgetError(spent)
        pool = [*pool, *bounder.found]
        if not unsafe:
            return hidden, pool
        rounds += 1
        if progress is not None:
            progress("repair", min(0.95, rounds / (rounds + 5)))
        chosen: set[int] = set()
        count = SHARES if len(unsafe) >= PARALLEL_MOVES_FROM else 1
        while len(movers) < count:
            movers.append(Mover(problem, system, hidden))
        size = -(-len(unsafe) // count)
        parts = [unsafe[k * size : (k + 1) * size] for k in range(count)]
        # Each share has its own model and widens its own cells; the shares are
        # fixed, so the result depends neither on timing nor on the machine's
        # cores. Each move stays feasible once the cells every share opens are
        # hidden. Under a budget each share may solve an equal part of what is left.
        each = None if max_lps is None else max((max_lps - spent) // count, 0)
        share = functools.partial(
            share_moves, problem, bounder, movers, parts, hidden, each, deadline
        )
        rounds_moves = run_shares(share, count)
        spent += sum(m.solves for m in movers) - moved
        moved = sum(m.solves for m in movers)
        if any(not done for *_, done in rounds_moves):
            raise RepairBudgetError(spent)
        widened = hidden.copy()
        stuck: list[int] = []
        for opened, found, left, _ in rounds_moves:
            widened |= opened
            # Each move is a table the intruder cannot rule out once its opened
            # cells are hidden, so it stays a witness in every later round.
            pool.extend(found)
            stuck.extend(left)
        chosen.update(int(c) for c in np.flatnonzero(widened & ~hidden))
        if not chosen:
            # Every move claims to get there with the cells already hidden: the
            # audit and the mover disagree within their tolerances, so let the
            # cuts decide for every unsafe cell rather than stop here.
            stuck = list(unsafe)
        for cell in stuck:
            for cut in cuts_for(problem, bounder, builder, cell, hidden, bump):
                try:
                    chosen.update(cover(cut, hidden, problem.cost, problem.values))
                except DisclosureError:
                    # A cut raised for rounding can ask more than any pattern gives;
                    # hide all it offers and let the exact audit judge the result.
                    chosen.update(int(c) for c in cut.cells[~hidden[cut.cells]])
        if not chosen:
            raise DisclosureError(
                "a small cell cannot be protected even with every candidate hidden;"
                " consider treating zeros as small or lowering the protection level"
            )
        hidden[sorted(chosen)] = True


def cuts_for(
    problem: ProtectionProblem,
    bounder: Bounder,
    builder: CutBuilder,
    cell: int,
    hidden: BoolArray,
    bump: dict[int, float],
) -> list[Cut]:
    """Cuts the current pattern violates, from the certificates of one unsafe cell.

    For count tables an interval can be wide enough as an LP and still too narrow
    once rounded to whole numbers; the cut is then raised one unit at a time for
    that cell (``bump``), which keeps it valid for the rounded requirement.
    """
    it = bounder.intruder
    down = it.certificate(cell, -1)
    up = it.certificate(cell, +1)
    cuts: list[Cut] = []
    for _ in range(int(problem.primary_upper[cell] - problem.primary_lower[cell]) + 2):
        width_cut = builder.width_cut(cell, down, up, extra=bump.get(cell, 0.0))
        candidates = [c for c in [width_cut] if c is not None]
        candidates += builder.reach_cuts(cell, down, up)
        cuts = [c for c in candidates if builder.violated(c, hidden)]
        if cuts:
            return cuts
        bump[cell] = bump.get(cell, 0.0) + 1.0
    return cuts


def _neighbours(
    problem: ProtectionProblem, system: ConstraintSystem, hidden: BoolArray, cell: int
) -> list[int]:
    """Hidden primary cells that share a row with ``cell`` (checked first)."""
    a, b = int(system.col_start[cell]), int(system.col_start[cell + 1])
    rows = system.col_row[a:b]
    out: set[int] = set()
    for row in rows.tolist():
        members = system.row_cell[system.row_start[row] : system.row_start[row + 1]]
        out.update(members[problem.primary[members] & hidden[members]].tolist())
    return sorted(out)


def prune(
    problem: ProtectionProblem,
    system: ConstraintSystem,
    leaves: LeafSpace | None,
    hidden: BoolArray,
    *,
    lp_budget: int | None,
    witnesses: Sequence[Change] = (),
    progress: Progress | None = None,
) -> tuple[BoolArray, list[Change]]:
    """Phase 3: publish again every complementary cell the pattern does not need.

    Each exact check reuses the tables the earlier checks found: a table in which
    the offered cell keeps its true value is still one the intruder cannot rule out
    once that cell is published, so every primary cell it already spreads wide
    enough needs no LP. Only the cells it no longer proves safe are solved again,
    those sharing a row with the offered cell first, and a check stops at the first
    unsafe cell: the offer is refused either way.

    ``lp_budget`` caps the LPs all the checks together may solve. Once it is spent,
    an offer is taken only when the tables already found prove every small cell
    safe without it; any cell they leave unproven refuses the offer. The pattern is
    safe either way; a budget only leaves more cells hidden. ``witnesses`` are
    tables known feasible for ``hidden`` (the repair's). Returns the pattern and the
    tables feasible for it.
    """
    hidden = hidden.copy()
    secondary = np.flatnonzero(hidden & ~problem.primary)
    order = secondary[
        np.lexsort((secondary, -problem.values[secondary], -problem.cost[secondary]))
    ]
    unsafe, bounder = find_unsafe(
        problem, hidden, system=system, leaves=leaves, witnesses=witnesses
    )
    if unsafe:  # pragma: no cover - prune is only given safe patterns
        return hidden, list(witnesses)
    pool = WitnessPool(problem, [*witnesses, *bounder.found])
    _, lo, hi, _, _ = outer_unsafe(problem, system, hidden)
    outer = (lo, hi)
    spent = 0
    for n, cell in enumerate(order.tolist()):
        if progress is not None and n % 16 == 0:
            progress("prune", n / max(len(order), 1))
        hidden[cell] = False
        bad, lo, hi, _, _ = outer_unsafe(problem, system, hidden, outer, cell)
        if bool(np.any(bad)):
            hidden[cell] = True
            continue
        kept = pool.kept(cell)
        near = _neighbours(problem, system, hidden, cell)
        if lp_budget is not None and spent >= lp_budget:
            # Tables that keep the offered cell at its true value stay feasible
            # once it is published: if they prove every small cell, so is the offer.
            taken, found = pool.proves(kept, hidden, first=near), []
        else:
            unsafe, bounder = find_unsafe(
                problem, hidden, system=system, leaves=leaves,
                witnesses=pool.tables(kept), first=near, stop_early=True,
                outer=(lo, hi),
                max_lps=None if lp_budget is None else lp_budget - spent,
            )  # fmt: skip
            spent += bounder.lp_solves
            taken = not unsafe and bounder.undecided is None
            found = bounder.found
        if taken:
            pool.drop(cell)
            outer = (lo, hi)
        else:
            # The tables found keep the offered cell at its true value, which its
            # label range allows, so they stay feasible once it is hidden again.
            hidden[cell] = True
        pool.add(found)
    return hidden, pool.tables(range(len(pool.changes)))


def protect_fast(
    problem: ProtectionProblem,
    system: ConstraintSystem,
    leaves: LeafSpace | None,
    *,
    lp_budget: int | None,
    progress: Progress | None = None,
) -> tuple[BoolArray, list[Change]]:
    """Return a safe pattern (primary and complementary cells) for ``problem``,
    and the tables found feasible for it (witnesses for the final check)."""
    builder = CutBuilder(problem, system)
    hidden = Greedy(problem, system).run(problem.primary.copy())
    if progress is not None:
        progress("propagate", 1.0)
    hidden, pool = repair(problem, system, leaves, hidden, builder, progress=progress)
    return prune(
        problem, system, leaves, hidden, lp_budget=lp_budget, witnesses=pool,
        progress=progress,
    )  # fmt: skip


def outer_bounds(
    problem: ProtectionProblem, system: ConstraintSystem, hidden: BoolArray
) -> tuple[FloatArray, FloatArray]:
    """Propagated (outer) bounds of every cell under ``hidden``."""
    lo, hi = problem.hidden_bounds(hidden)
    lo, hi, _ = propagate(system, lo, hi)
    return lo, hi
