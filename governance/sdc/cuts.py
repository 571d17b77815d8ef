"""Protection cuts: linear conditions on which cells are hidden, from LP duality.

Owns the Fischetti–Salazar-González capacity inequalities. Write ``y_j = 1`` when
cell ``j`` is hidden. A hidden cell's bounds are ``a_j - (a_j - L_j) y_j`` and
``a_j + (U_j - a_j) y_j``, with ``[L_j, U_j]`` the bounds its label would imply. For
any row multipliers ``pi`` (a certificate from ``governance.sdc.intruder``) and the
problem "minimise ``s * x_i``", weak duality gives, for every pattern ``y``::

    s * x_i  >=  s * a_i - S(pi) - sum_j mu_j(pi) * y_j

with ``d = s * e_i - A.T @ pi``, ``S = pi @ (A a) - sum_r min(pi_r l_r, pi_r u_r)``
(zero for relations) and ``mu_j = |d_j| * (a_j - L_j if d_j > 0 else U_j - a_j)``.
So the intruder's reach below (``s = +1``) or above (``s = -1``) the true value is at
most ``S + mu @ y``, and a pattern can only protect cell ``i`` if the matching sums
reach the requirement; summing both sides bounds the interval's width. Because the
bound holds for every ``y``, each cut is valid for all patterns, and it is tight at
the pattern whose LP produced ``pi``, so it cuts that pattern off when it is unsafe.
Coefficients are clipped at the right-hand side (valid for 0/1 ``y``), which also
turns the infinite upward room of a ``[c]`` cell into a finite coefficient.

This module only builds inequalities; it never solves and never decides safety.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from governance.sdc.intruder import Certificate
from governance.sdc.linear import ConstraintSystem
from governance.sdc.problem import BoolArray, FloatArray, IntArray, ProtectionProblem


@dataclass(frozen=True)
class Cut:
    """``sum(coef * y[cells]) >= rhs`` over cells that may still be hidden."""

    cells: IntArray
    coef: FloatArray
    rhs: float


class CutBuilder:
    """Turns certificates into cuts over a problem's usable candidate cells."""

    def __init__(self, problem: ProtectionProblem, system: ConstraintSystem) -> None:
        self.problem = problem
        self.system = system
        self.usable = problem.usable_candidates()
        everything = np.ones(problem.size, dtype=bool)
        lower, upper = problem.hidden_bounds(everything)
        values = problem.values
        self.room_down = np.maximum(values - lower, 0.0)
        self.room_up = np.where(
            np.isinf(upper), np.inf, np.maximum(upper - values, 0.0)
        )
        self.activity = system.activity(values)
        self.width, self.reach_up, self.reach_down = problem.protection_targets()

    def reach(
        self, cell: int, sign: float, cert: Certificate
    ) -> tuple[float, IntArray, FloatArray]:
        """Return ``(S, cells, mu)`` for "minimise ``sign * x[cell]``" under ``cert``.

        Sparse: only cells in the certificate's rows (and the cell itself) can have
        a non-zero ``mu``, so only they are returned.
        """
        s = self.system
        rows, pi = cert.rows, cert.pi
        starts = s.row_start[rows]
        lens = s.row_start[rows + 1] - starts
        total = int(lens.sum())
        offsets = np.repeat(starts - (np.cumsum(lens) - lens), lens)
        entries = np.arange(total, dtype=np.int64) + offsets
        members = np.append(s.row_cell[entries], cell)
        cells, inverse = np.unique(members, return_inverse=True)
        weights = np.append(-s.row_coef[entries] * np.repeat(pi, lens), sign)
        d = np.bincount(inverse, weights=weights, minlength=cells.shape[0])
        d[np.abs(d) < 1e-12] = 0.0
        slack = float(
            np.sum(pi * self.activity[rows])
            - np.sum(np.minimum(pi * s.row_lower[rows], pi * s.row_upper[rows]))
        )
        down, up = self.room_down[cells], self.room_up[cells]
        with np.errstate(invalid="ignore"):
            mu = np.where(d > 0, d * down, np.where(d < 0, -d * up, 0.0))
        return max(slack, 0.0), cells.astype(np.int64), np.nan_to_num(mu, nan=0.0)

    def cut(self, cells: IntArray, terms: FloatArray, rhs: float) -> Cut | None:
        """Make ``terms @ y[cells] >= rhs`` a cut over usable candidates.

        Primary cells are always hidden (their terms move to the right-hand side);
        cells that can never be hidden drop out. None when nothing is required.
        """
        primary = self.problem.primary[cells]
        rhs = rhs - float(np.sum(terms[primary]))
        if rhs <= 1e-9:
            return None
        keep = self.usable[cells] & (terms > 1e-12)
        return Cut(cells[keep], np.minimum(terms[keep], rhs), rhs)

    @staticmethod
    def _merge(
        a: tuple[IntArray, FloatArray], b: tuple[IntArray, FloatArray]
    ) -> tuple[IntArray, FloatArray]:
        cells, inverse = np.unique(np.concatenate([a[0], b[0]]), return_inverse=True)
        terms = np.bincount(
            inverse, weights=np.concatenate([a[1], b[1]]), minlength=cells.shape[0]
        )
        return cells.astype(np.int64), terms.astype(np.float64)

    def width_cut(
        self, cell: int, down: Certificate, up: Certificate, extra: float = 0.0
    ) -> Cut | None:
        """Cut requiring the cell's interval width (plus ``extra``) from two bounds."""
        s_down, c_down, mu_down = self.reach(cell, 1.0, down)
        s_up, c_up, mu_up = self.reach(cell, -1.0, up)
        need = float(self.width[cell]) + extra - s_down - s_up
        cells, terms = self._merge((c_down, mu_down), (c_up, mu_up))
        return self.cut(cells, terms, need)

    def reach_cuts(self, cell: int, down: Certificate, up: Certificate) -> list[Cut]:
        """Cuts for the optional tau-ARGUS reach requirements of one cell."""
        cuts: list[Cut] = []
        value = float(self.problem.values[cell])
        if self.reach_up[cell] > value:
            s_up, c_up, mu_up = self.reach(cell, -1.0, up)
            cut = self.cut(c_up, mu_up, float(self.reach_up[cell]) - value - s_up)
            if cut is not None:
                cuts.append(cut)
        if self.reach_down[cell] < value:
            s_down, c_down, mu_down = self.reach(cell, 1.0, down)
            cut = self.cut(
                c_down, mu_down, value - float(self.reach_down[cell]) - s_down
            )
            if cut is not None:
                cuts.append(cut)
        return cuts

    def relation_cuts(self) -> list[Cut]:
        """Cuts from single relations: each primary cell's rows taken one at a time.

        An intruder who used only row ``r`` would already bound the cell by the room
        of the other hidden cells in ``r``; the full intruder knows at least that,
        so these cuts are valid before any LP is solved.
        """
        s = self.system
        cuts: list[Cut] = []
        eq = s.is_equality
        for cell in np.flatnonzero(self.problem.primary):
            a, b = int(s.col_start[cell]), int(s.col_start[cell + 1])
            for r, own in zip(s.col_row[a:b], s.col_coef[a:b], strict=True):
                if not eq[r]:
                    continue
                rows = np.array([r], dtype=np.int64)
                down = Certificate(rows, np.array([1.0 / own]))
                up = Certificate(rows, np.array([-1.0 / own]))
                width = self.width_cut(int(cell), down, up)
                for cut in [width, *self.reach_cuts(int(cell), down, up)]:
                    if cut is not None:
                        cuts.append(cut)
        return cuts

    def violated(self, cut: Cut, chosen: BoolArray) -> bool:
        """True when the pattern ``chosen`` (hidden cells) breaks the cut."""
        return float(np.sum(cut.coef[chosen[cut.cells]])) < cut.rhs - 1e-9
