"""Least-cost moves: which cells to hide so that one small cell can move far enough.

Owns one HiGHS model over changes ``d = up - down`` to every cell (``up, down >=
0``) that keep every relation and fact of the problem true. A hidden cell may move
within the bounds its label implies, at a cost of 1 per unit; a published cell that
may still be hidden may move within the bounds a ``[c]`` label would imply, at a
cost of ``OPEN_COST`` times its suppression cost per unit; any other published cell
cannot move. Forcing one primary cell to move by a given amount and minimising the
cost gives a table the intruder could not rule out once the published cells it moves
are hidden too. So it names complements that certainly widen that cell's interval,
where a protection cut from one LP certificate (``governance.sdc.cuts``) may be
covered by cells that leave the interval where it was when the LP has other optimal
certificates.

``suppress_fast.repair`` uses it first for every unsafe cell; the exact audit still
judges the result. One model serves a whole repair: a change of pattern only
changes column bounds and costs. Every move starts from the slack basis (no change
at all, which is optimal before a cell is forced), so dual simplex builds only the
new move instead of first undoing the last one.

It never decides what is safe and never returns anything but cell indices and
changes to cells the caller already holds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from governance.sdc.highs import Model, Status
from governance.sdc.leaflp import Change
from governance.sdc.linear import ConstraintSystem
from governance.sdc.problem import BoolArray, IntArray, ProtectionProblem

#: Cost per unit of moving a published cell, per unit of its suppression cost, against
#: 1 for a hidden cell: moves use cells already hidden wherever they can.
OPEN_COST = 1000.0

#: Start every move from the slack basis rather than the last move's basis: on the
#: nested bench table with 12 bodies a move took a median of 29 ms instead of
#: 117 ms (1,370 moves, the same cells).
SLACK_START = True


@dataclass(frozen=True)
class Move:
    """A table the intruder cannot rule out once ``opened`` are hidden too."""

    change: Change
    opened: IntArray
    """Published cells the move changes: hiding them makes it possible."""


class Mover:
    """Least-cost changes that move a chosen hidden cell."""

    def __init__(
        self, problem: ProtectionProblem, system: ConstraintSystem, hidden: BoolArray
    ) -> None:
        self.problem = problem
        n = problem.size
        self.n = n
        everything = np.ones(n, dtype=bool)
        low, high = problem.hidden_bounds(everything)
        self._room_up = high - problem.values
        self._room_down = np.maximum(problem.values - low, 0.0)
        self._openable = problem.usable_candidates()
        self.model = Model(presolve=False)
        self.model.add_columns(np.zeros(2 * n), np.zeros(2 * n))
        # Each row twice over: the up columns with the row's coefficients, the down
        # columns with their negatives. The rows hold the change, so their bounds
        # are the slack the true table leaves (zero for relations).
        base = system.activity(problem.values)
        counts = np.diff(system.row_start)
        start = np.zeros(system.n_rows + 1, dtype=np.int64)
        np.cumsum(2 * counts, out=start[1:])
        entries = system.row_cell.shape[0]
        index = np.empty(2 * entries, dtype=np.int64)
        value = np.empty(2 * entries)
        first = np.repeat(start[:-1], counts)
        within = np.arange(entries) - np.repeat(system.row_start[:-1], counts)
        index[first + within] = system.row_cell
        value[first + within] = system.row_coef
        later = first + counts[system.entry_row] + within
        index[later] = system.row_cell + n
        value[later] = -system.row_coef
        self.model.add_rows(
            system.row_lower - base, system.row_upper - base, start, index, value
        )
        self.pattern = np.zeros(n, dtype=bool)
        self._set(np.arange(n, dtype=np.int64), hidden)
        self.pattern = hidden.copy()
        self.solves = 0

    def sync(self, hidden: BoolArray) -> None:
        """Make ``hidden`` the pattern the moves start from."""
        changed = np.flatnonzero(self.pattern != hidden).astype(np.int64)
        if changed.shape[0]:
            self._set(changed, hidden)
            self.pattern = hidden.copy()

    def _set(self, cells: IntArray, hidden: BoolArray) -> None:
        movable = hidden[cells] | self._openable[cells]
        up = np.where(movable, self._room_up[cells], 0.0)
        down = np.where(movable, self._room_down[cells], 0.0)
        zero = np.zeros(cells.shape[0])
        cost = np.where(
            hidden[cells], 1.0, OPEN_COST * np.maximum(self.problem.cost[cells], 1e-3)
        )
        both = np.concatenate([cells, cells + self.n])
        self.model.change_bounds(
            both, np.concatenate([zero, zero]), np.concatenate([up, down])
        )
        self.model.set_costs(both, np.concatenate([cost, cost]))

    def reach(self, cell: int) -> tuple[float, float]:
        """How far up and down ``cell`` can move in any table that keeps every
        relation and fact, with every cell that may be hidden free to move.

        No pattern can give the intruder a wider interval than ``value - down`` to
        ``value + up``: hiding fewer cells only fixes more of them.
        """
        n = self.n
        everything = np.arange(2 * n, dtype=np.int64)
        pair = np.array([cell, cell + n], dtype=np.int64)
        rooms = (float(self._room_up[cell]), float(self._room_down[cell]))
        found: list[float] = []
        for side in (0, 1):
            column = int(pair[side])
            cost = np.zeros(2 * n)
            cost[column] = -1.0
            self.model.set_costs(everything, cost)
            # the other column shut, else both could rise together and cancel out
            upper = np.array(rooms) * (np.arange(2) == side)
            self.model.change_bounds(pair, np.zeros(2), upper)
            self.solves += 1
            status = self.model.solve()
            if status is Status.OPTIMAL:
                found.append(float(self.model.values()[column]))
            else:
                # unbounded, or no answer from the solver: not known to be short
                found.append(float("inf"))
        self._set(np.arange(n, dtype=np.int64), self.pattern)
        return found[0], found[1]

    def move(self, cell: int, amount: float) -> Move | None:
        """The least-cost change that moves hidden ``cell`` by ``amount`` (signed).

        ``None`` when no change moves it that far, even with every cell that may be
        hidden hidden.
        """
        need = abs(amount)
        rooms = (float(self._room_up[cell]), float(self._room_down[cell]))
        room = rooms[0] if amount > 0 else rooms[1]
        if not self.pattern[cell] or need > room + 1e-9:
            return None
        # The cell's own pair of columns: the one moving it at least ``need``, the
        # other shut (else both could rise together and cancel out).
        pair = np.array([cell, cell + self.n], dtype=np.int64)
        forced = (need, 0.0) if amount > 0 else (0.0, need)
        shut = (room, 0.0) if amount > 0 else (0.0, room)
        self.model.change_bounds(pair, np.array(forced), np.array(shut))
        if SLACK_START:
            self.model.set_slack_basis()
        self.solves += 1
        status = self.model.solve()
        found: Move | None = None
        if status is Status.OPTIMAL:
            x = self.model.values()
            delta = x[: self.n] - x[self.n :]
            moved = np.flatnonzero(np.abs(delta) > 1e-9).astype(np.int64)
            opened = moved[~self.pattern[moved]]
            found = Move(Change(moved, delta[moved]), opened)
        self.model.change_bounds(pair, np.zeros(2), np.array(rooms))
        return found
