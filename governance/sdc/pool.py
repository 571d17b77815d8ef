"""The tables the fast method's pruning knows feasible for the current pattern.

Every table the repair and the exact checks find (an optimal vertex of the
intruder's LP, a least-cost move) is one the intruder cannot rule out for the
pattern it was found for. Publishing a cell again keeps exactly those that leave
the cell at its true value, so pruning asks the pool whether the tables an offer
keeps still spread every small cell as wide as its protection requires: when they
do, the offer is safe without an LP. Pure numpy; no solver.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from governance.sdc.attack import spread_protects
from governance.sdc.leaflp import Change
from governance.sdc.problem import BoolArray, FloatArray, IntArray, ProtectionProblem


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
        # index the new tables by the cells they move: one sort, one list per cell
        cells = np.concatenate([change.cells for change in changes])
        owner = np.repeat(
            np.arange(first, first + len(changes)),
            [change.cells.shape[0] for change in changes],
        )
        order = np.argsort(cells, kind="stable")
        cells, owner = cells[order], owner[order]
        starts = np.flatnonzero(np.diff(cells, prepend=-1) != 0)
        bounds = np.append(starts, cells.shape[0]).tolist()
        for cell, a, b in zip(
            cells[starts].tolist(), bounds[:-1], bounds[1:], strict=True
        ):
            self.touch.setdefault(cell, []).extend(owner[a:b].tolist())
        primary = self.problem.primary
        for change in changes:
            at = len(self.changes)
            self.changes.append(change)
            if at == self._rows.shape[0]:
                grown = np.full((2 * at, self._rows.shape[1]), np.nan)
                grown[:at] = self._rows
                self._rows = grown
                self._live = np.concatenate([self._live, np.zeros(at, dtype=bool)])
            mine = primary[change.cells]
            cells = change.cells[mine]
            self._rows[at, self._column[cells]] = (
                self.problem.values[cells] + change.delta[mine]
            )
            self._live[at] = True
        ids = np.arange(first, len(self.changes))
        for low in (True, False):
            value, holder = _extreme(self._rows[first : len(self.changes)], ids, low)
            best, best_at = (
                (self._low, self._low_at) if low else (self._high, self._high_at)
            )
            with np.errstate(invalid="ignore"):
                better = ~np.isnan(value) & ~(
                    (value >= best) if low else (value <= best)
                )
            best[better], best_at[better] = value[better], holder[better]

    def kept(self, cell: int) -> list[int]:
        """Indices of the live tables that keep ``cell`` at its true value."""
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

    def proves(self, ids: Sequence[int], hidden: BoolArray) -> bool:
        """Whether the live tables ``ids`` spread every hidden small cell as wide
        as its protection requires (the true table counts as one)."""
        problem = self.problem
        cells = self._small[hidden[self._small]]
        here = self._column[cells]
        lo, hi = self._low[here], self._high[here]
        chosen = np.asarray(ids, dtype=np.int64)
        left_out = self._live.copy()
        left_out[chosen] = False
        # Where the extreme table is one of ``ids`` it is the extreme of ``ids``
        # too; elsewhere reduce over ``ids`` (fmin/fmax skip nan: a table that
        # leaves a cell alone says nothing new).
        redo = np.flatnonzero(self._held_by(left_out)[here])
        if redo.shape[0]:
            rows = self._rows[np.ix_(chosen, here[redo])]
            empty = np.full(redo.shape[0], np.nan)
            lo[redo] = np.fmin.reduce(rows, axis=0) if chosen.shape[0] else empty
            hi[redo] = np.fmax.reduce(rows, axis=0) if chosen.shape[0] else empty
        true = problem.values[cells]
        lo, hi = np.fmin(true, lo), np.fmax(true, hi)
        targets = (t[cells] for t in problem.protection_targets())
        return bool(np.all(spread_protects(problem, lo, hi, *targets)))


def _extreme(rows: FloatArray, ids: IntArray, low: bool) -> tuple[FloatArray, IntArray]:
    """Per column of ``rows`` (tables ``ids``), the least (``low``) or greatest
    value, ``nan`` between them skipped, and the table holding it (the first of
    equals; ``nan`` and -1 where every table leaves the cell alone)."""
    width = rows.shape[1]
    if rows.shape[0] == 0:
        return np.full(width, np.nan), np.full(width, -1, dtype=np.int64)
    filled = np.where(np.isnan(rows), np.inf if low else -np.inf, rows)
    pick = filled.argmin(axis=0) if low else filled.argmax(axis=0)
    value = rows[pick, np.arange(width)]
    none = np.isnan(value)
    return value, np.where(none, -1, ids[pick])
