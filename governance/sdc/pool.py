"""The tables the fast method's pruning knows feasible for the current pattern.

Every table the repair and the exact checks find (an optimal vertex of the
intruder's LP, a least-cost move) is one the intruder cannot rule out for the
pattern it was found for. Publishing a cell again keeps exactly those that leave
the cell at its true value, so pruning asks the pool whether the tables an offer
keeps still spread every small cell as wide as its protection requires: when they
do, the offer is safe without an LP. ``feasible`` checks that tables found for
one problem are tables for another (the audit's). Pure numpy; no solver.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from governance.sdc.attack import spread_protects, tolerance
from governance.sdc.leaflp import Change
from governance.sdc.linear import ConstraintSystem
from governance.sdc.problem import BoolArray, FloatArray, IntArray, ProtectionProblem

#: Cells reduced in the first batch of ``WitnessPool.proves`` (then doubling).
_FIRST_BATCH = 32


class WitnessPool:
    """Tables feasible for the current pattern, as changes, indexed by the cells
    they move: an offer keeps those that leave the offered cell alone.

    Each table's values in the small (primary) cells are also kept as one row of a
    matrix (``nan`` where the table leaves the cell at its true value), so the
    spread of any subset of tables is two reductions over its rows. A vertex moves
    most hidden cells, so the dense rows take about the memory the sparse changes
    do. The pool also keeps, for every small cell, the least and greatest value
    over its live tables and which table holds each: the tables an offer keeps
    usually include those, so only the cells whose extreme table the offer drops
    need a reduction."""

    def __init__(self, problem: ProtectionProblem, changes: Sequence[Change]) -> None:
        self.problem = problem
        self.changes: list[Change | None] = []
        self.touch: dict[int, list[int]] = {}
        self._small = np.flatnonzero(problem.primary)
        self._column = np.full(problem.size, -1, dtype=np.int64)
        self._column[self._small] = np.arange(self._small.shape[0])
        size = max(len(changes), 16)
        self._rows = np.full((size, self._small.shape[0]), np.nan)
        self._live = np.zeros(size, dtype=bool)
        width = self._small.shape[0]
        self._low, self._high = np.full(width, np.nan), np.full(width, np.nan)
        self._low_at = np.full(width, -1, dtype=np.int64)
        self._high_at = np.full(width, -1, dtype=np.int64)
        self.add(changes)

    def add(self, changes: Sequence[Change]) -> None:
        if not changes:
            return
        first = len(self.changes)
        end = first + len(changes)
        self.changes.extend(changes)
        if end > self._rows.shape[0]:
            size = max(end, 2 * self._rows.shape[0])
            grown = np.full((size, self._rows.shape[1]), np.nan)
            grown[:first] = self._rows[:first]
            self._rows = grown
            self._live = np.concatenate(
                [self._live, np.zeros(size - self._live.shape[0], dtype=bool)]
            )
        cells = np.concatenate([change.cells for change in changes])
        delta = np.concatenate([change.delta for change in changes])
        owner = np.repeat(
            np.arange(first, end), [change.cells.shape[0] for change in changes]
        )
        small = self.problem.primary[cells]
        at = cells[small]
        self._rows[owner[small], self._column[at]] = (
            self.problem.values[at] + delta[small]
        )
        self._live[first:end] = True
        # index the new tables by the complementary cells they move (only those
        # are ever offered back): one sort, one list per cell
        cells, owner = cells[~small], owner[~small]
        order = np.argsort(cells, kind="stable")
        cells, owner = cells[order], owner[order]
        starts = np.flatnonzero(np.diff(cells, prepend=-1) != 0)
        bounds = np.append(starts, cells.shape[0]).tolist()
        for cell, a, b in zip(
            cells[starts].tolist(), bounds[:-1], bounds[1:], strict=True
        ):
            self.touch.setdefault(cell, []).extend(owner[a:b].tolist())
        ids = np.arange(first, end)
        for low in (True, False):
            value, holder = _extreme(self._rows[first:end], ids, low)
            best, best_at = (
                (self._low, self._low_at) if low else (self._high, self._high_at)
            )
            with np.errstate(invalid="ignore"):
                better = ~np.isnan(value) & ~(
                    (value >= best) if low else (value <= best)
                )
            best[better], best_at[better] = value[better], holder[better]

    def kept(self, cell: int) -> list[int]:
        """Indices of the live tables that keep ``cell`` (a complementary cell)
        at its true value."""
        gone = set(self.touch.get(cell, ()))
        return [
            i for i, c in enumerate(self.changes) if c is not None and i not in gone
        ]

    def tables(self, ids: Sequence[int]) -> list[Change]:
        return [c for i in ids if (c := self.changes[i]) is not None]

    def drop(self, cell: int) -> None:
        """Forget the tables that move ``cell`` (published again: they are not
        feasible any more)."""
        dead = self.touch.pop(cell, [])
        for at in dead:
            self.changes[at] = None
        if not dead:
            return
        self._live[dead] = False
        gone = np.zeros(self._live.shape[0], dtype=bool)
        gone[dead] = True
        columns = np.flatnonzero(self._held_by(gone))
        live = np.flatnonzero(self._live)
        rows = self._rows[np.ix_(live, columns)]
        for low in (True, False):
            value, holder = _extreme(rows, live, low)
            if low:
                self._low[columns], self._low_at[columns] = value, holder
            else:
                self._high[columns], self._high_at[columns] = value, holder

    def _held_by(self, tables: BoolArray) -> BoolArray:
        """Small cells (columns) whose least or greatest value is held by one of
        ``tables`` (a mask over the pool's rows)."""
        low = np.where(self._low_at >= 0, tables[self._low_at], False)
        high = np.where(self._high_at >= 0, tables[self._high_at], False)
        return low | high

    def proves(
        self, ids: Sequence[int], hidden: BoolArray, first: Sequence[int] = ()
    ) -> bool:
        """Whether the live tables ``ids`` spread every hidden small cell as wide
        as its protection requires (the true table counts as one).

        Where a cell's extreme table is one of ``ids`` it is the extreme of ``ids``
        too; only the other cells need a reduction over ``ids``. Those are reduced
        in batches, the cells of ``first`` (those most likely to lose their
        protection, e.g. sharing a row with an offered cell) ahead, then batches
        doubling in size, and the answer is no at the first batch with a cell left
        unprotected: an offer whose tables hold most cells' extremes is refused
        after a few reductions instead of thousands. The answer is the same."""
        problem = self.problem
        cells = self._small[hidden[self._small]]
        here = self._column[cells]
        lo, hi = self._low[here], self._high[here]
        chosen = np.asarray(ids, dtype=np.int64)
        left_out = self._live.copy()
        left_out[chosen] = False
        redo = self._held_by(left_out)[here]
        targets = [t[cells] for t in problem.protection_targets()]
        true = problem.values[cells]
        keep = np.flatnonzero(~redo)
        if not self._protects(keep, lo[keep], hi[keep], true, targets):
            return False
        at = np.flatnonzero(redo)
        if not at.shape[0]:
            return True
        ahead = np.isin(cells[at], np.asarray(first, dtype=np.int64))
        at = np.concatenate([at[ahead], at[~ahead]])
        start, size = 0, max(int(ahead.sum()), _FIRST_BATCH)
        while start < at.shape[0]:
            batch = at[start : start + size]
            if chosen.shape[0]:
                rows = self._rows[np.ix_(chosen, here[batch])]
                low, high = np.fmin.reduce(rows, axis=0), np.fmax.reduce(rows, axis=0)
            else:
                low = high = np.full(batch.shape[0], np.nan)
            if not self._protects(batch, low, high, true, targets):
                return False
            start += size
            size *= 2
        return True

    def _protects(
        self,
        at: IntArray,
        lo: FloatArray,
        hi: FloatArray,
        true: FloatArray,
        targets: list[FloatArray],
    ) -> bool:
        """Whether the spread ``[lo, hi]`` (fmin/fmax skip nan: a table that
        leaves a cell alone says nothing new), widened to the true values, protects
        the cells at positions ``at`` among the hidden small cells (``lo`` and
        ``hi`` in the same order)."""
        t = true[at]
        lo, hi = np.fmin(t, lo), np.fmax(t, hi)
        width, up, down = (target[at] for target in targets)
        return bool(np.all(spread_protects(self.problem, lo, hi, width, up, down)))


def _extreme(rows: FloatArray, ids: IntArray, low: bool) -> tuple[FloatArray, IntArray]:
    """Per column of ``rows`` (tables ``ids``), the least (``low``) or greatest
    value, ``nan`` between them skipped, and the table holding it (the first of
    equals; ``nan`` and -1 where every table leaves the cell alone)."""
    width = rows.shape[1]
    if rows.shape[0] == 0:
        return np.full(width, np.nan), np.full(width, -1, dtype=np.int64)
    value = (np.fmin if low else np.fmax).reduce(rows, axis=0)
    pick = (rows == value).argmax(axis=0)  # nan equals nothing
    none = np.isnan(value)
    return value, np.where(none, -1, ids[pick])


def feasible(
    problem: ProtectionProblem,
    system: ConstraintSystem,
    hidden: BoolArray,
    changes: Sequence[Change],
) -> list[Change]:
    """The changes that are tables the intruder cannot rule out for ``hidden``:
    they move hidden cells only, keep them within their labels' bounds and keep
    every relation and fact of ``system`` (within the audit's tolerance).

    Tables found by a method are witnesses for the audit of its pattern only if
    they hold in the audit's problem, which may carry facts the method did not
    see (percentages published once the pattern is known): they are checked, not
    trusted."""
    if not changes:
        return []
    low, high = problem.hidden_bounds(hidden)
    tol = tolerance(problem)
    base = system.activity(problem.values)
    keep: list[Change] = []
    for change in changes:
        cells, delta = change.cells, change.delta
        moved = problem.values[cells] + delta
        if not (
            bool(hidden[cells].all())
            and bool(np.all(moved >= low[cells] - tol))
            and bool(np.all(moved <= high[cells] + tol))
        ):
            continue
        start, stop = system.col_start[cells], system.col_start[cells + 1]
        counts = stop - start
        entries = np.repeat(start - np.cumsum(counts) + counts, counts) + np.arange(
            int(counts.sum())
        )
        activity = base + np.bincount(
            system.col_row[entries],
            weights=system.col_coef[entries] * np.repeat(delta, counts),
            minlength=system.n_rows,
        )
        if bool(np.all(activity >= system.row_lower - tol)) and bool(
            np.all(activity <= system.row_upper + tol)
        ):
            keep.append(change)
    return keep
