"""The ``fast`` method's first phase: a propagation greedy, with no LP.

Bound propagation (``governance.sdc.local``) is the intruder's row-by-row
reasoning, label bounds included (``<10`` is 0..9 or 1..9, ``[c]`` is at least
the threshold). While it narrows some primary cell below its protection, the row
that binds the cell's bound names the cure: a cell of that row with room enough to
move the right way. A round covers all the narrowed cells at once, greedily
(:func:`cover_cells`: the cell that cures the most of them per unit of cost, then
smaller values, then index), so a cell shared by several binding rows is hidden
once for all of them. A narrowed cell with no such cell in its binding rows takes
the cheapest with any room, or follows the binding row of a hidden cell in that
row, up to four steps. Then propagation runs again. This is linear in the table
per round and removes most of the work before any LP; ``governance.sdc.
suppress_fast`` repairs and prunes what it returns.
"""

from __future__ import annotations

import heapq
from typing import NamedTuple

import numpy as np

from governance.sdc.linear import ConstraintSystem
from governance.sdc.local import propagate_with_reasons
from governance.sdc.problem import BoolArray, FloatArray, IntArray, ProtectionProblem

_DEPTH = 4


def outer_unsafe(
    problem: ProtectionProblem,
    system: ConstraintSystem,
    hidden: BoolArray,
    start: tuple[FloatArray, FloatArray] | None = None,
    published: int | None = None,
) -> tuple[BoolArray, FloatArray, FloatArray, IntArray, IntArray]:
    """Primary cells that bound propagation alone already shows are unprotected.

    ``start`` may give the propagated bounds of the pattern that also hides the
    cell ``published``: the intruder knows more now, so they still hold, and
    propagation starts from them, re-reading only the rows the published cell
    changes, instead of from the labels (the binding rows returned then name only
    the bounds this call moved).
    """
    lo, hi = problem.hidden_bounds(hidden)
    changed = None
    if start is not None and published is not None:
        lo, hi = np.maximum(lo, start[0]), np.minimum(hi, start[1])
        changed = np.zeros(problem.size, dtype=bool)
        changed[published] = True
    lo, hi, _, why_lo, why_hi = propagate_with_reasons(system, lo, hi, changed=changed)
    width, reach_up, reach_down = problem.protection_targets()
    if problem.integral:
        rlo, rhi = np.ceil(lo - 1e-7), np.floor(hi + 1e-7)
    else:
        rlo, rhi = lo, hi
    with np.errstate(invalid="ignore"):
        bad = problem.primary & (
            (rhi - rlo < width - 1e-9)
            | (rhi < reach_up - 1e-9)
            | (rlo > reach_down + 1e-9)
        )
    return bad, lo, hi, why_lo, why_hi


class _Round(NamedTuple):
    """One round's pattern and propagated bounds, with the rows binding them."""

    hidden: BoolArray
    lo: FloatArray
    hi: FloatArray
    why_lo: IntArray
    why_hi: IntArray


class Greedy:
    """Phase 1: choose complements from the rows that bind propagated bounds."""

    def __init__(self, problem: ProtectionProblem, system: ConstraintSystem) -> None:
        self.p = problem
        self.s = system
        self.usable = problem.usable_candidates()
        everything = np.ones(problem.size, dtype=bool)
        self.label_lo, self.label_hi = problem.hidden_bounds(everything)
        self.width = problem.protection_targets()[0]

    def run(self, hidden: BoolArray, rounds: int = 500) -> BoolArray:
        hidden = hidden.copy()
        for _ in range(rounds):
            bad, lo, hi, why_lo, why_hi = outer_unsafe(self.p, self.s, hidden)
            now = _Round(hidden, lo, hi, why_lo, why_hi)
            chosen: set[int] = set()
            options: dict[int, list[int]] = {}
            for cell in np.flatnonzero(bad).tolist():
                need, rows = self._binding(cell, now)
                direct = self._enough(cell, now, need, rows)
                if direct:
                    options[cell] = direct
                    continue
                pick = self._pick(cell, now, need, rows)
                if pick is not None:
                    chosen.add(pick)
            chosen.update(cover_cells(options, self.p.cost, self.p.values))
            if not chosen:
                return hidden
            hidden[sorted(chosen)] = True
        return hidden

    def _binding(self, cell: int, now: _Round) -> tuple[float, list[tuple[int, int]]]:
        """How much wider ``cell`` must get, and the rows (with the way the cell
        must move) that bind a bound its labels do not already stop."""
        lo, hi = now.lo[cell], now.hi[cell]
        need = max(float(self.width[cell] - (hi - lo)), 1e-6)
        rows = [
            (direction, row)
            for direction, row, stuck in (
                (+1, int(now.why_hi[cell]), hi >= self.label_hi[cell] - 1e-9),
                (-1, int(now.why_lo[cell]), lo <= self.label_lo[cell] + 1e-9),
            )
            if not stuck and row >= 0
        ]
        return need, rows

    def _enough(
        self, cell: int, now: _Round, need: float, rows: list[tuple[int, int]]
    ) -> list[int]:
        """Open cells of the rows binding ``cell`` with room enough to cure it alone."""
        found: set[int] = set()
        for direction, row in rows:
            cells, enough, open_ = self._room(cell, direction, row, need, now.hidden)
            found.update(cells[open_ & enough].tolist())
        return sorted(found)

    def _pick(
        self, cell: int, now: _Round, need: float, rows: list[tuple[int, int]]
    ) -> int | None:
        """The cheapest cell with any room in ``cell``'s binding rows, or one found
        by following hidden cells' binding rows."""
        best: tuple[float, int, float, int] | None = None
        for direction, row in rows:
            found = self._in_row(cell, direction, row, need, now, _DEPTH, set())
            if found is not None and (best is None or found < best):
                best = found
        return None if best is None else best[-1]

    def _in_row(
        self,
        cell: int,
        direction: int,
        row: int,
        need: float,
        now: _Round,
        depth: int,
        seen: set[tuple[int, int, int]],
    ) -> tuple[float, int, float, int] | None:
        key = (cell, direction, row)
        if depth < 0 or key in seen:
            return None
        seen.add(key)
        p = self.p
        cells, enough, open_ = self._room(cell, direction, row, need, now.hidden)
        if bool(np.any(open_)):
            cand, fits = cells[open_], enough[open_]
            order = np.lexsort((cand, p.values[cand], ~fits, p.cost[cand]))
            j = int(cand[order[0]])
            return (float(p.cost[j]), int(not fits[order[0]]), float(p.values[j]), j)
        moves = self._moves(cell, direction, row)[1]
        for j, move in zip(cells.tolist(), moves, strict=True):
            if j == cell or not now.hidden[j]:
                continue
            if move > 0 and now.hi[j] < self.label_hi[j] - 1e-9 and now.why_hi[j] >= 0:
                up = int(now.why_hi[j])
                found = self._in_row(j, +1, up, need, now, depth - 1, seen)
            elif (
                move < 0 and now.lo[j] > self.label_lo[j] + 1e-9 and now.why_lo[j] >= 0
            ):
                down = int(now.why_lo[j])
                found = self._in_row(j, -1, down, need, now, depth - 1, seen)
            else:
                continue
            if found is not None:
                return found
        return None

    def _moves(
        self, cell: int, direction: int, row: int
    ) -> tuple[IntArray, FloatArray, FloatArray, float]:
        """Cells of ``row``, the way each must move, coefficients, the cell's own."""
        s = self.s
        a, b = int(s.row_start[row]), int(s.row_start[row + 1])
        cells, coefs = s.row_cell[a:b], s.row_coef[a:b]
        own = float(coefs[cells == cell][0])
        # Each other cell must move the opposite way to the cell, through its sign.
        moves = -np.sign(own) * direction * np.sign(coefs)
        return cells, moves, coefs, own

    def _room(
        self, cell: int, direction: int, row: int, need: float, hidden: BoolArray
    ) -> tuple[IntArray, BoolArray, BoolArray]:
        """Cells of ``row``; which have room to give ``cell`` its ``need`` alone,
        and which are open (published, usable, with any room at all)."""
        p = self.p
        cells, moves, coefs, own = self._moves(cell, direction, row)
        room = np.where(
            moves > 0,
            self.label_hi[cells] - p.values[cells],
            p.values[cells] - self.label_lo[cells],
        )
        capacity = np.abs(coefs) * room
        open_ = (
            (~hidden[cells]) & self.usable[cells] & (capacity > 1e-9) & (cells != cell)
        )
        enough = capacity >= abs(own) * need - 1e-9
        return cells, enough, open_


def cover_cells(
    options: dict[int, list[int]], cost: FloatArray, values: FloatArray
) -> list[int]:
    """Cells to hide so that every key of ``options`` gets one of its options.

    Greedy weighted set cover: take the cell that cures the most cells not yet
    cured per unit of cost (then the smaller value, then the lower index), until
    every cell is cured. One cell in a row shared by several small cells cures
    them all, where choosing for each cell on its own can hide one cell per cell.
    """
    cures: dict[int, list[int]] = {}
    for cell, cands in options.items():
        for j in cands:
            cures.setdefault(j, []).append(cell)
    count = {j: len(cells) for j, cells in cures.items()}

    def key(j: int) -> tuple[float, float, int]:
        ratio = count[j] / cost[j] if cost[j] > 0 else np.inf
        return (-ratio, float(values[j]), j)

    heap = [key(j) for j in cures]
    heapq.heapify(heap)
    cured: set[int] = set()
    chosen: list[int] = []
    while heap and len(cured) < len(options):
        entry = heapq.heappop(heap)
        j = entry[2]
        if count[j] == 0:
            continue
        now = key(j)
        if now != entry:  # stale: cells it cured were cured since it was pushed
            heapq.heappush(heap, now)
            continue
        chosen.append(j)
        for cell in cures[j]:
            if cell in cured:
                continue
            cured.add(cell)
            for other in options[cell]:
                count[other] -= 1
    return chosen
