"""Bound propagation: the intruder's row-by-row reasoning, vectorised.

Owns ``propagate`` and ``propagate_with_reasons``: feasibility-based bound
tightening applied until nothing changes. Its bounds are *outer*: the exact interval
of every cell lies inside them, so a bound that some feasible table reaches and that
propagation shows cannot be beaten is exact, and a cell propagation already narrows
below its protection is certainly unsafe. ``propagate_with_reasons`` also names, for
every bound, the row that set it (the fast method follows it to choose complements).

It never decides safety and never chooses cells to hide.
"""

from __future__ import annotations

import numpy as np

from governance.sdc.linear import ConstraintSystem
from governance.sdc.problem import BoolArray, FloatArray, IntArray


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
    changed: BoolArray | None = None,
) -> tuple[FloatArray, FloatArray, bool, IntArray, IntArray]:
    """``propagate``, also returning each cell's binding row for ``lo`` and ``hi``.

    A binding row is the row whose last propagation set the bound (-1 when the
    cell's own starting bound still holds).

    Each round after the first looks only at the rows holding a cell whose bound
    the previous round moved: any other row would only repeat what it already
    implied, so the result is the same as re-reading every row. ``changed`` may
    narrow the first round too, to the rows of the cells whose bounds differ from
    a point where propagation had stopped (the caller vouches for that).
    """
    s = system
    lo = lower.astype(np.float64, copy=True)
    hi = upper.astype(np.float64, copy=True)
    why_lo = np.full(lo.shape[0], -1, dtype=np.int64)
    why_hi = np.full(lo.shape[0], -1, dtype=np.int64)
    m = s.n_rows
    live = np.ones(s.row_cell.shape[0], dtype=bool)
    if changed is not None:
        live = _rows_touching(s, changed)[s.entry_row]
    for _ in range(rounds):
        if not bool(np.any(live)):
            break
        c = s.row_coef[live]
        cells = s.row_cell[live]
        rows = s.entry_row[live]
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
        moved = (cand_hi < hi) | (cand_lo > lo)
        lo, hi = cand_lo, cand_hi
        if change <= tol:
            break
        live = _rows_touching(s, moved)[s.entry_row]
    feasible = bool(np.all(lo <= hi + max(tol, 1e-7) * np.maximum(1.0, np.abs(hi))))
    return lo, hi, feasible, why_lo, why_hi


def _rows_touching(system: ConstraintSystem, cells: BoolArray) -> BoolArray:
    """Rows that hold at least one of ``cells``."""
    hit: BoolArray = (
        np.bincount(
            system.entry_row,
            weights=cells[system.row_cell].astype(np.float64),
            minlength=system.n_rows,
        )
        > 0
    )
    return hit
