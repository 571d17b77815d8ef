"""Local views of the intruder's system: neighbourhoods, bound propagation, small LPs.

Owns the tools that keep the attacker's work proportional to the size of a table
rather than to the square of it:

* ``Adjacency.ball``: the hidden cells within a few relations of some seed cells;
* ``propagate``: feasibility-based bound tightening, the intruder's row-by-row
  reasoning applied until nothing changes (vectorised); its bounds are *outer*: the
  exact interval of every cell lies inside them;
* ``SubLP``: a small LP over chosen variable cells and chosen rows, every other cell
  of those rows held at its true value. With the rows that touch a neighbourhood and
  the neighbourhood as variables, each optimum is a table the intruder cannot rule
  out (an *inner* bound, and a witness); with a neighbourhood's rows and every
  hidden cell in them as variables, rows further away are dropped and the optimum
  is an *outer* bound. When the two meet, the bound is exact.

It never decides safety and never chooses cells to hide.
"""

from __future__ import annotations

import numpy as np

from governance.sdc.highs import Model, Status
from governance.sdc.linear import ConstraintSystem
from governance.sdc.problem import BoolArray, FloatArray, IntArray


class Adjacency:
    """Which rows hold a cell and which cells a row holds, for BFS over rows."""

    def __init__(self, system: ConstraintSystem) -> None:
        self.system = system

    def rows_of(self, cells: IntArray) -> IntArray:
        """Distinct rows containing any of ``cells`` (sorted)."""
        s = self.system
        starts = s.col_start[cells]
        lens = s.col_start[cells + 1] - starts
        idx = _ranges(starts, lens)
        out: IntArray = np.unique(s.col_row[idx])
        return out

    def cells_of(self, rows: IntArray) -> IntArray:
        """Distinct cells in any of ``rows`` (sorted)."""
        s = self.system
        starts = s.row_start[rows]
        lens = s.row_start[rows + 1] - starts
        out: IntArray = np.unique(s.row_cell[_ranges(starts, lens)])
        return out

    def ball(
        self, seeds: IntArray, active: BoolArray, radius: int, budget: int
    ) -> IntArray:
        """Active cells within ``radius`` rows of ``seeds`` (at most ~``budget``).

        Grows level by level; the level that would exceed the budget is cut to the
        cells nearest in index order, which keeps the result deterministic.
        """
        inside = np.zeros(active.shape[0], dtype=bool)
        inside[seeds] = True
        frontier = seeds
        count = int(seeds.shape[0])
        for _ in range(radius):
            if frontier.shape[0] == 0 or count >= budget:
                break
            reached = self.cells_of(self.rows_of(frontier))
            fresh = reached[active[reached] & ~inside[reached]]
            if count + fresh.shape[0] > budget:
                fresh = fresh[: max(budget - count, 0)]
            inside[fresh] = True
            count += int(fresh.shape[0])
            frontier = fresh
        out: IntArray = np.flatnonzero(inside)
        return out


def _ranges(starts: IntArray, lens: IntArray) -> IntArray:
    """Concatenate ``range(s, s + n)`` for each start and length."""
    total = int(lens.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = np.repeat(starts - (np.cumsum(lens) - lens), lens)
    out: IntArray = np.arange(total, dtype=np.int64) + offsets
    return out


def propagate(
    system: ConstraintSystem,
    lower: FloatArray,
    upper: FloatArray,
    *,
    rounds: int = 60,
    tol: float = 1e-9,
) -> tuple[FloatArray, FloatArray, bool]:
    """Tighten bounds row by row until stable; return ``(lower, upper, feasible)``.

    Every bound returned is implied by the rows and the starting bounds, so the
    exact interval of each cell lies inside it. ``feasible`` is False when some
    cell's bounds cross (the system has no solution).
    """
    lo, hi, feasible, _, _ = propagate_with_reasons(
        system, lower, upper, rounds=rounds, tol=tol
    )
    return lo, hi, feasible


def propagate_with_reasons(
    system: ConstraintSystem,
    lower: FloatArray,
    upper: FloatArray,
    *,
    rounds: int = 60,
    tol: float = 1e-9,
) -> tuple[FloatArray, FloatArray, bool, IntArray, IntArray]:
    """``propagate``, also returning each cell's binding row for ``lo`` and ``hi``.

    A binding row is the row whose last propagation set the bound (-1 when the
    cell's own starting bound still holds).
    """
    s = system
    lo = lower.astype(np.float64, copy=True)
    hi = upper.astype(np.float64, copy=True)
    c = s.row_coef
    cells = s.row_cell
    rows = s.entry_row
    m = s.n_rows
    why_lo = np.full(lo.shape[0], -1, dtype=np.int64)
    why_hi = np.full(lo.shape[0], -1, dtype=np.int64)
    for _ in range(rounds):
        el, eh = lo[cells], hi[cells]
        emin = np.where(c > 0, c * el, c * eh)
        emax = np.where(c > 0, c * eh, c * el)
        inf_min = np.isinf(emin)
        inf_max = np.isinf(emax)
        n_min = np.bincount(rows, weights=inf_min.astype(np.float64), minlength=m)
        n_max = np.bincount(rows, weights=inf_max.astype(np.float64), minlength=m)
        s_min = np.bincount(rows, weights=np.where(inf_min, 0.0, emin), minlength=m)
        s_max = np.bincount(rows, weights=np.where(inf_max, 0.0, emax), minlength=m)
        # Activity of the rest of the row, without this entry.
        rest_min = np.where(
            n_min[rows] - inf_min > 0.5,
            -np.inf,
            s_min[rows] - np.where(inf_min, 0.0, emin),
        )
        rest_max = np.where(
            n_max[rows] - inf_max > 0.5,
            np.inf,
            s_max[rows] - np.where(inf_max, 0.0, emax),
        )
        with np.errstate(invalid="ignore"):
            top = s.row_upper[rows] - rest_min  # c * x <= top
            bottom = s.row_lower[rows] - rest_max  # c * x >= bottom
            new_hi = np.where(c > 0, top / c, bottom / c)
            new_lo = np.where(c > 0, bottom / c, top / c)
        new_hi = np.nan_to_num(new_hi, nan=np.inf, posinf=np.inf, neginf=-np.inf)
        new_lo = np.nan_to_num(new_lo, nan=-np.inf, posinf=np.inf, neginf=-np.inf)
        cand_hi = hi.copy()
        cand_lo = lo.copy()
        np.minimum.at(cand_hi, cells, new_hi)
        np.maximum.at(cand_lo, cells, new_lo)
        step = max(tol, 1e-12)
        tight_hi = new_hi < hi[cells] - step
        tight_lo = new_lo > lo[cells] + step
        why_hi[cells[tight_hi & (new_hi <= cand_hi[cells])]] = rows[
            tight_hi & (new_hi <= cand_hi[cells])
        ]
        why_lo[cells[tight_lo & (new_lo >= cand_lo[cells])]] = rows[
            tight_lo & (new_lo >= cand_lo[cells])
        ]
        with np.errstate(invalid="ignore"):
            gain = np.concatenate([hi - cand_hi, cand_lo - lo])
        change = float(np.max(gain, initial=0.0, where=np.isfinite(gain)))
        lo, hi = cand_lo, cand_hi
        if change <= tol:
            break
    feasible = bool(np.all(lo <= hi + max(tol, 1e-7) * np.maximum(1.0, np.abs(hi))))
    return lo, hi, feasible, why_lo, why_hi


class SubLP:
    """An LP over ``variables``, constrained by ``rows``; other cells at ``truth``."""

    def __init__(
        self,
        system: ConstraintSystem,
        truth: FloatArray,
        lower: FloatArray,
        upper: FloatArray,
        variables: IntArray,
        rows: IntArray,
    ) -> None:
        s = system
        self.cells = variables
        self.rows = rows
        starts = s.row_start[rows]
        lens = s.row_start[rows + 1] - starts
        entries = _ranges(starts, lens)
        entry_cell = s.row_cell[entries]
        pos = np.searchsorted(variables, entry_cell)
        pos_clip = np.minimum(pos, max(variables.shape[0] - 1, 0))
        is_var = (variables.shape[0] > 0) & (variables[pos_clip] == entry_cell)
        local_row = np.repeat(np.arange(rows.shape[0]), lens)
        shift = np.bincount(
            local_row[~is_var],
            weights=s.row_coef[entries[~is_var]] * truth[entry_cell[~is_var]],
            minlength=rows.shape[0],
        )
        var_rows = local_row[is_var]
        start = np.zeros(rows.shape[0] + 1, dtype=np.int64)
        np.cumsum(np.bincount(var_rows, minlength=rows.shape[0]), out=start[1:])
        self.model = Model(presolve=False)
        self.model.set_option("simplex_strategy", 1)
        self.model.add_columns(lower[variables], upper[variables])
        self.model.add_rows(
            s.row_lower[rows] - shift,
            s.row_upper[rows] - shift,
            start,
            pos[is_var].astype(np.int64),
            s.row_coef[entries[is_var]],
        )
        self._cost_index = np.zeros(0, dtype=np.int64)
        self._warm = False
        self.solves = 0

    def optimise(self, index: IntArray, cost: FloatArray) -> Status:
        """Minimise ``sum(cost * x[index])`` (local indices), warm from the last basis."""
        if self._cost_index.shape[0]:
            self.model.set_costs(self._cost_index, np.zeros(self._cost_index.shape[0]))
        self.model.set_costs(index, cost)
        self._cost_index = index
        self.solves += 1
        status = self.model.solve()
        if not self._warm and status is Status.OPTIMAL:
            # Later objectives start from a primal feasible basis.
            self.model.set_option("simplex_strategy", 4)
            self._warm = True
        return status

    def bound(self, local: int, side: int) -> tuple[Status, float]:
        """Minimum (side=-1) or maximum (side=+1) of one variable."""
        status = self.optimise(
            np.array([local], dtype=np.int64), np.array([-1.0 if side > 0 else 1.0])
        )
        if status is not Status.OPTIMAL:
            return status, float("nan")
        return status, float(self.model.values()[local])

    def values(self) -> FloatArray:
        return self.model.values()
