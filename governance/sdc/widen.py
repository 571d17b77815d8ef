"""The repair's moves: least-cost moves for one round's unsafe cells.

``suppress_fast.repair`` deals a round's unsafe cells into fixed shares; each share
(``share_moves``) runs ``moves_for`` with its own ``moves.Mover`` model. A cell is
skipped when the moves already made spread it as wide as its protection needs; a
cell no move widens is reported stuck (the repair then falls back to protection
cuts), and one that no pattern could protect is refused at once.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

from governance.errors import DisclosureError
from governance.sdc.attack import Bounder, spread_protects, tolerance
from governance.sdc.leaflp import Change
from governance.sdc.moves import Move, Mover
from governance.sdc.problem import BoolArray, ProtectionProblem


def share_moves(
    problem: ProtectionProblem,
    bounder: Bounder,
    movers: Sequence[Mover],
    parts: Sequence[Sequence[int]],
    hidden: BoolArray,
    max_solves: int | None,
    deadline: float | None,
    k: int,
) -> tuple[BoolArray, list[Change], list[int], bool]:
    """Share ``k`` of a repair round: its own model, its own cells."""
    return moves_for(
        problem, bounder, movers[k], parts[k], hidden, max_solves, deadline
    )


def moves_for(
    problem: ProtectionProblem,
    bounder: Bounder,
    mover: Mover,
    cells: Sequence[int],
    hidden: BoolArray,
    max_solves: int | None = None,
    deadline: float | None = None,
) -> tuple[BoolArray, list[Change], list[int], bool]:
    """Least-cost moves for each of ``cells`` in turn: the pattern they open, the
    moves (witnesses), the cells no move widens, and whether every cell was
    examined before the mover's LPs reached ``max_solves`` or the clock
    (``time.perf_counter()``) passed ``deadline``."""
    widened = hidden.copy()
    found: list[Change] = []
    stuck: list[int] = []
    seen = _Spread(problem, bounder)
    first = mover.solves
    for cell in cells:
        if (max_solves is not None and mover.solves - first >= max_solves) or (
            deadline is not None and time.perf_counter() >= deadline
        ):
            return widened, found, stuck, False
        if seen.proven_safe(cell):
            # a move made for an earlier cell spreads it already
            continue
        moves = _widen(problem, seen, mover, cell, widened)
        if moves is None:
            if not _protectable(problem, mover, cell):
                raise DisclosureError(
                    "a small cell cannot be protected even with every candidate"
                    " hidden; consider treating zeros as small or lowering the"
                    " protection level"
                )
            stuck.append(cell)
            continue
        for m in moves:
            found.append(m.change)
            seen.add(m.change)
    return widened, found, stuck, True


def _protectable(problem: ProtectionProblem, mover: Mover, cell: int) -> bool:
    """Whether any pattern could spread ``cell`` as wide as its protection needs:
    the interval it can reach with every candidate hidden, rounded inwards for
    whole numbers, judged as the audit judges."""
    up, down = mover.reach(cell)
    value = float(problem.values[cell])
    lo = max(value - down, float(problem.primary_lower[cell]), 0.0)
    hi = min(value + up, float(problem.primary_upper[cell]))
    slack = 10 * tolerance(problem)  # generous: refuse only what is out of reach
    if problem.integral:
        lo, hi = float(np.ceil(lo - slack)), float(np.floor(hi + slack))
    else:
        lo, hi = lo - slack, hi + slack
    width, reach_up, reach_down = (float(t[cell]) for t in problem.protection_targets())
    return hi - lo >= width - 1e-9 and hi >= reach_up - 1e-9 and lo <= reach_down + 1e-9


class _Spread:
    """The least and greatest value of each cell over the witnesses seen so far:
    the audit's, and the moves of the current repair round (each feasible once
    the cells it opens are hidden, which the round does)."""

    def __init__(self, problem: ProtectionProblem, bounder: Bounder) -> None:
        self.problem = problem
        self.wmin = bounder.wmin.copy()
        self.wmax = bounder.wmax.copy()
        self.round = bounder.tol
        self.targets = problem.protection_targets()

    def add(self, change: Change) -> None:
        moved = self.problem.values[change.cells] + change.delta
        np.maximum.at(self.wmax, change.cells, moved)
        np.minimum.at(self.wmin, change.cells, moved)

    def spread(self, cell: int) -> tuple[float, float]:
        lo, hi = float(self.wmin[cell]), float(self.wmax[cell])
        if self.problem.integral:
            lo, hi = float(np.ceil(lo - self.round)), float(np.floor(hi + self.round))
        return lo, hi

    def proven_safe(self, cell: int) -> bool:
        at = slice(cell, cell + 1)
        targets = (t[at] for t in self.targets)
        return bool(
            spread_protects(self.problem, self.wmin[at], self.wmax[at], *targets)[0]
        )


def _widen(
    problem: ProtectionProblem,
    bounder: _Spread,
    mover: Mover,
    cell: int,
    hidden: BoolArray,
) -> list[Move] | None:
    """Least-cost moves that spread an unsafe cell as wide as required.

    Upwards first (to the width above the exact minimum, and the reach), then
    downwards if the label bound stops the first move short. When both get there,
    the cells the moves open are hidden in ``hidden``; ``None`` (and ``hidden`` as
    it was) when no move does: the protection cuts then decide, or prove the cell
    cannot be protected.
    """
    width_all, up_all, down_all = problem.protection_targets()
    width, up, down = float(width_all[cell]), float(up_all[cell]), float(down_all[cell])
    label_lo = max(float(problem.primary_lower[cell]), 0.0)
    label_hi = float(problem.primary_upper[cell])
    value = float(problem.values[cell])
    low, high = bounder.spread(cell)
    moves: list[Move] = []
    trial = hidden.copy()
    mover.sync(trial)
    for side in (+1, -1):
        if side > 0:
            goal = min(max(up, low + width), label_hi)
            short = goal > high + 1e-9
        else:
            goal = max(min(down, high - width), label_lo)
            short = goal < low - 1e-9
        if not short:
            continue
        move = mover.move(cell, goal - value)
        if move is None:
            return None
        moves.append(move)
        trial[move.opened] = True
        mover.sync(trial)
        low, high = min(low, goal), max(high, goal)
    if high - low < width - 1e-9 or high < up - 1e-9 or low > down + 1e-9:
        return None
    hidden[:] = trial
    return moves
