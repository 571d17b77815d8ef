"""One component's intruder LP: a HiGHS model re-solved for many objectives.

Owns the model over the hidden cells of one connected component (published cells
are constants, hidden cells variables within their label bounds, every relation
and fact a row) and where each solve starts: the first cold (or, on a large
component, by the interior point method with crossover), every later one warm,
from the last basis or, for a single cell's bound on a large component, from the
kept basis whose vertex pushed that cell furthest (the basis bank). It never
decides what is safe and keeps no witnesses: ``governance.sdc.intruder`` does.
"""

from __future__ import annotations

import numpy as np

from governance.sdc.highs import Model, Status
from governance.sdc.linear import ConstraintSystem
from governance.sdc.problem import FloatArray, IntArray

#: Components of at least this many hidden cells have their two seed LPs solved by
#: the interior point method (with crossover) rather than simplex.
IPM_FROM = 5000

#: Memory a component model's basis bank may use (a basis is about a byte per
#: column and row); when full, it keeps the half of its bases most cells point at.
BANK_BYTES = 64_000_000

#: Start a cell's bound from the bank's basis that pushed it furthest (see
#: ``ComponentLP.optimise``); off, every solve starts from the last basis.
BASIS_BANK = True

#: Components of at least this many hidden cells use the basis bank. On smaller
#: ones a factorisation per restart, and vertices that move fewer other cells (so
#: fewer witnesses), cost more than the pivots saved: with the bank everywhere the
#: 1,120-cell bench table's ``optimal`` took 8.5 s instead of 4.5 s.
BANK_FROM = 2000

_EMPTY_I = np.zeros(0, dtype=np.int64)
_EMPTY_F = np.zeros(0, dtype=np.float64)


class ComponentLP:
    """One HiGHS model over a component's hidden cells, reused across objectives."""

    def __init__(
        self,
        cells: IntArray,
        rows: IntArray,
        entries: IntArray,
        system: ConstraintSystem,
        lower: FloatArray,
        upper: FloatArray,
        shift: FloatArray,
    ) -> None:
        self.cells = cells
        self.rows = rows
        self.model = Model(presolve=False)
        # The first solve starts cold with dual simplex. After an objective change
        # the old basis stays primal feasible, so primal simplex re-optimises in a
        # few dozen pivots where dual simplex would start again. On a large
        # component the two seed objectives (which move every cell) are solved by
        # the interior point method with crossover to a basis instead: the LP is
        # highly degenerate (on 11,383 cells: about 6 s each, against 58 s for dual
        # simplex cold and 22 s for primal simplex from the first seed's basis).
        self.model.set_option("simplex_strategy", 1)
        self._interior = 2 if cells.shape[0] >= IPM_FROM else 0
        if self._interior:
            self.model.set_option("solver", "ipm")
        self._warm = False
        self.model.add_columns(lower[cells], upper[cells])
        # entries are sorted by row; re-index rows and cells locally.
        entry_rows = system.entry_row[entries]
        local_row = np.searchsorted(rows, entry_rows)
        local_col = np.searchsorted(cells, system.row_cell[entries])
        start = np.zeros(rows.shape[0] + 1, dtype=np.int64)
        np.cumsum(np.bincount(local_row, minlength=rows.shape[0]), out=start[1:])
        self.model.add_rows(
            system.row_lower[rows] - shift[rows],
            system.row_upper[rows] - shift[rows],
            start,
            local_col.astype(np.int64),
            system.row_coef[entries],
        )
        self._cost_index = _EMPTY_I
        self.solves = 0
        self.x = _EMPTY_F
        """The last optimal vertex (local order)."""
        # The basis bank: optimal bases of earlier solves, and for each cell the
        # one whose vertex pushed it furthest up (row 0) and down (row 1).
        k = cells.shape[0]
        self._bases: dict[int, object] = {}
        self._best = np.full((2, k), -1, dtype=np.int64)
        self._reach = np.stack([np.full(k, -np.inf), np.full(k, np.inf)])
        self._current = -1
        self._limit = max(16, BANK_BYTES // (k + rows.shape[0]))
        self._banked = BASIS_BANK and k >= BANK_FROM
        self.restarts = 0
        """Solves started from a banked basis other than the last one."""

    def optimise(
        self,
        index: IntArray,
        cost: FloatArray,
        bank: bool = True,
        interior: bool = False,
    ) -> Status:
        """Minimise ``sum(cost * x[index])`` (local indices) from a warm basis.

        On a component of at least ``BANK_FROM`` cells a single cell's bound
        starts from the bank's basis whose vertex already pushed that cell
        furthest the same way, when it is not the last one: on the nested bench
        tables that halves the simplex pivots of the audit (135 to 56 a bound at
        11,557 cells) for the cost of one factorisation. Which basis is chosen
        depends only on the vertices seen, so results and LP counts stay
        deterministic. ``bank=False`` starts from the last basis: certificates
        do, because their row multipliers become the ``optimal`` method's cuts,
        and with the bank's (other optimal multipliers of a degenerate LP) the
        1,120-cell bench table's ``optimal`` took 22.5 s instead of 8.5 s.

        ``interior`` solves this objective by the interior point method with
        crossover (a vertex and its basis, from which later solves stay warm):
        for an objective that moves thousands of cells at once, as a push does
        (``governance.sdc.intruder``), that costs about as much as the two seed
        solves, where simplex would take thousands of pivots.
        """
        if self._cost_index.shape[0]:
            self.model.set_costs(self._cost_index, np.zeros(self._cost_index.shape[0]))
        self.model.set_costs(index, cost)
        self._cost_index = index
        if bank and self._banked and self._warm and index.shape[0] == 1 and cost[0]:
            start = int(self._best[0 if cost[0] < 0 else 1, int(index[0])])
            if start >= 0 and start != self._current:
                self.model.set_basis(self._bases[start])
                self._current = start
                self.restarts += 1
        self.solves += 1
        if interior and self._warm:
            self.model.set_option("solver", "ipm")
        status = self.model.solve()
        if interior and self._warm:
            self.model.set_option("solver", "simplex")
        if (
            not self._warm
            and status is Status.OPTIMAL
            and self.solves >= self._interior
        ):
            self.model.set_option("solver", "simplex")
            self.model.set_option("simplex_strategy", 4)
            self._warm = True
        if status is not Status.OPTIMAL:
            self._current = -1
        elif self._banked:
            self._bank()
        else:
            self.x = self.model.values()
        return status

    def _bank(self) -> None:
        """Keep this solve's basis where its vertex beats every earlier one."""
        x = self.model.values()
        self.x = x
        key = self.solves
        up = x > self._reach[0]
        down = x < self._reach[1]
        self._reach[0, up] = x[up]
        self._reach[1, down] = x[down]
        self._best[0, up] = key
        self._best[1, down] = key
        self._current = key
        if bool(up.any() or down.any()):
            self._bases[key] = self.model.basis()
            if len(self._bases) > self._limit:
                self._sweep()

    def _sweep(self) -> None:
        """Keep the half of the bank that the most cells point at (the newer basis
        on ties); the cells that pointed at the others start from the last basis."""
        keys = np.fromiter(self._bases, dtype=np.int64)
        refs = self._best[self._best >= 0]
        counts = np.bincount(refs, minlength=self.solves + 1)[keys]
        order = np.lexsort((-keys, -counts))
        half = self._limit // 2
        for key in keys[order[half:]].tolist():
            del self._bases[key]
        self._best[~np.isin(self._best, keys[order[:half]])] = -1
