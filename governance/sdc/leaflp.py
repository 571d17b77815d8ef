"""Column generation in leaf space: exact intruder bounds and protection LPs.

Owns the restricted linear programmes over a few leaves (``governance.sdc.leafspace``)
and the pricing that grows them until they are provably as good as the LP over the
whole table. A restricted LP keeps every leaf outside its set at the true value, so
each solution is a table the intruder cannot rule out. Its row duals, with zero for
every row not yet in the model (a valid choice: such rows are not tight at the
solution, or are equalities whose multiplier is free), price every other leaf; a
leaf with a non-zero reduced cost enters. When none is left, the restricted optimum
is the optimum over the whole table: the duals certify it. In practice the leaves
that matter number from one to a few dozen even in tables of tens of thousands of
cells, because a change to a leaf reaches every total above it by itself.

``LeafSolver.bound`` computes a cell's exact minimum or maximum change, with a
certificate; the audit uses it before falling back to the whole component's LP,
which it needs only when pricing stalls (degenerate duals can keep admitting leaves
that do not improve the bound). It never decides safety.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from governance.sdc.highs import Model, Status
from governance.sdc.leafspace import LeafSpace, _ranges
from governance.sdc.problem import BoolArray, FloatArray, IntArray

_EMPTY_I = np.zeros(0, dtype=np.int64)
_EMPTY_F = np.zeros(0, dtype=np.float64)


@dataclass(frozen=True)
class Change:
    """A table the intruder cannot rule out: changes to (hidden) cells."""

    cells: IntArray
    delta: FloatArray


@dataclass(frozen=True)
class Bound:
    """The exact extreme change of one cell, how it was found, and why it is exact."""

    status: Status
    value: float
    """Largest (or smallest) change of the cell; ``inf`` when unbounded."""
    change: Change
    """A table attaining it (empty when unbounded or infeasible)."""
    dual_cells: IntArray
    dual_cell_pi: FloatArray
    """Multipliers on cell rows (after restoring dual feasibility on every leaf)."""
    dual_extra: IntArray
    dual_extra_pi: FloatArray
    rounds: int


class _Rows:
    """Helpers to assemble the rows of a restricted LP over leaf set ``S``."""

    def __init__(self, ls: LeafSpace, leaves: IntArray) -> None:
        self.ls = ls
        self.leaves = leaves
        k = int(leaves.shape[0])
        self.k = k
        starts = ls.leaf_start[leaves]
        lens = ls.leaf_start[leaves + 1] - starts
        idx = _ranges(starts, lens)
        entry_cell = ls.leaf_cell[idx]
        entry_col = np.repeat(np.arange(k), lens)
        entry_coef = ls.leaf_coef[idx]
        total = ls.leaf_of_cell[entry_cell] < 0  # leaf cells are column bounds
        entry_cell, entry_col, entry_coef = (
            entry_cell[total],
            entry_col[total],
            entry_coef[total],
        )
        self.cells, row = np.unique(entry_cell, return_inverse=True)
        order = np.argsort(row, kind="stable")
        self.row_sorted = row[order]
        self.col_sorted = entry_col[order]
        self.coef_sorted = entry_coef[order]
        m = int(self.cells.shape[0])
        self.start = np.zeros(m + 1, dtype=np.int64)
        np.cumsum(np.bincount(self.row_sorted, minlength=m), out=self.start[1:])
        self.extra = ls.extra_rows_of(leaves) if ls.n_extra else _EMPTY_I
        if self.extra.shape[0]:
            es = ls.extra_start[self.extra]
            el = ls.extra_start[self.extra + 1] - es
            eidx = _ranges(es, el)
            eleaf = ls.extra_leaf[eidx]
            pos = np.minimum(np.searchsorted(leaves, eleaf), k - 1)
            ok = leaves[pos] == eleaf
            erow = np.repeat(np.arange(self.extra.shape[0]), el)[ok]
            self.extra_start = np.zeros(self.extra.shape[0] + 1, dtype=np.int64)
            np.cumsum(
                np.bincount(erow, minlength=self.extra.shape[0]),
                out=self.extra_start[1:],
            )
            self.extra_col = pos[ok].astype(np.int64)
            self.extra_coef = ls.extra_coef[eidx][ok]

    def add_cell_rows(
        self, model: Model, lo: FloatArray, hi: FloatArray, off: int
    ) -> None:
        model.add_rows(lo, hi, self.start, self.col_sorted + off, self.coef_sorted)

    def add_extra_rows(self, model: Model, off: int) -> None:
        if self.extra.shape[0]:
            model.add_rows(
                self.ls.extra_lower[self.extra], self.ls.extra_upper[self.extra],
                self.extra_start, self.extra_col + off, self.extra_coef,
            )  # fmt: skip

    def target(self, cell: int) -> tuple[IntArray, FloatArray]:
        """Local columns and coefficients of ``cell`` (its leaves within ``S``)."""
        r = int(np.searchsorted(self.cells, cell))
        if r >= self.cells.shape[0] or self.cells[r] != cell:
            return _EMPTY_I, _EMPTY_F
        a, b = int(self.start[r]), int(self.start[r + 1])
        return self.col_sorted[a:b], self.coef_sorted[a:b]


class LeafSolver:
    """Restricted LPs and pricing for one problem's leaf space and one pattern."""

    def __init__(
        self,
        ls: LeafSpace,
        change_lower: FloatArray,
        change_upper: FloatArray,
        movable: BoolArray,
        *,
        batch: int = 40,
        max_rounds: int = 400,
    ) -> None:
        """``change_lower/upper``: how far each cell may move (0 for published cells).

        ``movable`` flags leaves that may change (hidden ones, for the audit).
        """
        self.ls = ls
        self.lo = change_lower
        self.hi = change_upper
        self.movable = movable
        self.batch = batch
        self.max_rounds = max_rounds
        self.lp_solves = 0

    # -- pricing -----------------------------------------------------------

    def _reduced_costs(
        self,
        objective_leaf: FloatArray,
        cells: IntArray,
        pi: FloatArray,
        extra: IntArray,
        rho: FloatArray,
    ) -> FloatArray:
        """``c - X.T @ pi - E.T @ rho`` for every leaf (dense over leaves)."""
        ls = self.ls
        rc = objective_leaf.copy()
        for rows, dual, start, leaf, coef in (
            (cells, pi, ls.cell_start, ls.cell_leaf, ls.cell_coef),
            (extra, rho, ls.extra_start, ls.extra_leaf, ls.extra_coef),
        ):
            keep = np.abs(dual) > 1e-12
            if not bool(np.any(keep)):
                continue
            chosen = rows[keep]
            starts = start[chosen]
            lens = start[chosen + 1] - starts
            idx = _ranges(starts, lens)
            rc -= np.bincount(
                leaf[idx],
                weights=coef[idx] * np.repeat(dual[keep], lens),
                minlength=ls.n_leaves,
            )
        return rc

    def _enter(self, rc: FloatArray, inside: BoolArray, scale: float) -> IntArray:
        cand = np.flatnonzero(self.movable & ~inside & (np.abs(rc) > 1e-9 * scale))
        if cand.shape[0] > self.batch:
            order = np.lexsort((cand, -np.abs(rc[cand])))
            cand = np.sort(cand[order[: self.batch]])
        return cand

    # -- exact bound -------------------------------------------------------

    def bound(
        self,
        cell: int,
        side: int,
        *,
        outer: float = np.inf,
        seed: IntArray | None = None,
    ) -> Bound:
        """Exact largest (side=+1) or smallest (side=-1) change of ``cell``.

        ``outer`` is a bound on the change already known to hold (e.g. from the
        label or from bound propagation, as a magnitude in the direction of
        ``side``): reaching it proves the optimum at once.
        """
        ls = self.ls
        sign = -1.0 if side > 0 else 1.0  # minimise sign * change
        own = ls.cell_leaf[ls.cell_start[cell] : ls.cell_start[cell + 1]]
        own_coef = ls.cell_coef[ls.cell_start[cell] : ls.cell_start[cell + 1]]
        objective_leaf = np.zeros(ls.n_leaves)
        objective_leaf[own] = sign * own_coef
        leaf_cells = ls.leaves
        col_lo = self.lo[leaf_cells]
        col_hi = self.hi[leaf_cells]
        scale = max(1.0, float(np.max(np.abs(own_coef), initial=1.0)))
        tol = 1e-7 * scale
        inside = np.zeros(ls.n_leaves, dtype=bool)
        start = own[self.movable[own]]
        if start.shape[0] > self.batch:
            start = start[: self.batch]
        inside[start] = True
        if seed is not None:
            inside[seed[self.movable[seed]]] = True
        rounds = 0
        while True:
            rounds += 1
            leaves = np.flatnonzero(inside)
            rows = _Rows(ls, leaves)
            k = rows.k
            if k:
                model = Model(presolve=False)
                model.add_columns(col_lo[leaves], col_hi[leaves])
                model.set_costs(np.arange(k, dtype=np.int64), objective_leaf[leaves])
                rows.add_cell_rows(model, self.lo[rows.cells], self.hi[rows.cells], 0)
                rows.add_extra_rows(model, 0)
                self.lp_solves += 1
                status = model.solve()
            else:
                status = Status.OPTIMAL
            if status is Status.UNBOUNDED:
                return _failed(status, side * np.inf, rounds)
            if status is not Status.OPTIMAL:
                return _failed(status, float("nan"), rounds)
            m = int(rows.cells.shape[0])
            if k:
                duals = model.row_duals()
                zeta = model.values()
            else:
                duals = np.zeros(m + rows.extra.shape[0])
                zeta = np.zeros(0)
            value_min = float(np.dot(objective_leaf[leaves], zeta))
            pi, rho = duals[:m], duals[m:]
            rc = self._reduced_costs(objective_leaf, rows.cells, pi, rows.extra, rho)
            if -value_min >= outer - tol:
                break  # reached a bound known to hold: optimal
            out = self.movable & ~inside
            with np.errstate(invalid="ignore"):
                gain = np.where(rc < 0, rc * col_hi, rc * col_lo)
            gain = np.where(out & (np.abs(rc) > 1e-9 * scale), gain, 0.0)
            if float(np.sum(gain)) >= -tol:
                break  # Lagrangian bound meets the restricted optimum
            enter = np.flatnonzero(gain < -1e-12)
            if enter.shape[0] > self.batch:
                order = np.lexsort((enter, gain[enter]))
                enter = np.sort(enter[order[: self.batch]])
            if rounds >= self.max_rounds:
                return _failed(Status.TIME_LIMIT, float("nan"), rounds)
            inside[enter] = True
        keep = np.abs(zeta) > 1e-10
        cells, delta = ls.cell_change(leaves[keep], zeta[keep])
        value = 0.0
        pos = np.searchsorted(cells, cell)
        if pos < cells.shape[0] and cells[pos] == cell:
            value = float(delta[pos])
        # Leaf cells carry their part of the certificate as reduced costs.
        lead = np.flatnonzero(np.abs(rc) > 1e-9 * scale)
        dual_cells = np.concatenate([rows.cells, leaf_cells[lead]])
        dual_pi = np.concatenate([pi, rc[lead]])
        return Bound(
            status=Status.OPTIMAL,
            value=value,
            change=Change(cells, delta),
            dual_cells=dual_cells.astype(np.int64),
            dual_cell_pi=dual_pi,
            dual_extra=rows.extra,
            dual_extra_pi=rho,
            rounds=rounds,
        )


def _failed(status: Status, value: float, rounds: int) -> Bound:
    empty = Change(_EMPTY_I, _EMPTY_F)
    return Bound(status, value, empty, _EMPTY_I, _EMPTY_F, _EMPTY_I, _EMPTY_F, rounds)
