"""The master problem of cell suppression: a 0/1 covering MILP over HiGHS.

Owns the model ``minimise sum(cost_j * y_j)`` over the cells that may be hidden as
complements, subject to the protection cuts found so far (``governance.sdc.cuts``).
Primary cells are always hidden and appear only through the cuts' right-hand sides.
The same model serves as a linear relaxation (``relax=True``) for the fast method's
rounding and as the exact MILP of the optimal method.

It never audits a pattern itself and never relaxes a cut it was given.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from governance.sdc.cuts import Cut
from governance.sdc.highs import Model, Status
from governance.sdc.problem import BoolArray, FloatArray, IntArray, ProtectionProblem


class Master:
    """Binary suppression variables for usable candidates, plus cuts."""

    def __init__(self, problem: ProtectionProblem, *, relax: bool = False) -> None:
        self.problem = problem
        self.cells: IntArray = np.flatnonzero(problem.usable_candidates()).astype(
            np.int64
        )
        self._column = np.full(problem.size, -1, dtype=np.int64)
        self._column[self.cells] = np.arange(self.cells.shape[0])
        self.model = Model(presolve=True)
        k = self.cells.shape[0]
        self.model.add_columns(np.zeros(k), np.ones(k))
        cost = problem.cost[self.cells].astype(np.float64)
        self.model.set_costs(np.arange(k, dtype=np.int64), cost)
        if not relax:
            self.model.set_integer(np.arange(k, dtype=np.int64))
            self.model.set_option("mip_rel_gap", 1e-6)
        self.relax = relax
        self.n_cuts = 0
        self._seen: set[bytes] = set()

    def add(self, cuts: Sequence[Cut]) -> int:
        """Add cuts (skipping exact duplicates); return how many were new."""
        fresh: list[Cut] = []
        for cut in cuts:
            key = (
                cut.cells.tobytes()
                + cut.coef.round(9).tobytes()
                + repr(cut.rhs).encode()
            )
            if key not in self._seen:
                self._seen.add(key)
                fresh.append(cut)
        if not fresh:
            return 0
        starts = np.zeros(len(fresh) + 1, dtype=np.int64)
        np.cumsum([c.cells.shape[0] for c in fresh], out=starts[1:])
        index = np.concatenate([self._column[c.cells] for c in fresh])
        value = np.concatenate([c.coef for c in fresh])
        lower = np.array([c.rhs for c in fresh])
        self.model.add_rows(lower, np.full(len(fresh), np.inf), starts, index, value)
        self.n_cuts += len(fresh)
        return len(fresh)

    def solve(
        self, *, time_limit: float | None = None, start: BoolArray | None = None
    ) -> tuple[Status, FloatArray | None]:
        """Solve; return the status and, if any, the solution as per-cell values."""
        if time_limit is not None:
            self.model.set_option("time_limit", float(max(time_limit, 0.01)))
        if start is not None and not self.relax:
            self.model.set_start(start[self.cells].astype(np.float64))
        status = self.model.solve()
        if not self.model.has_solution():
            return status, None
        values = self.model.values()
        if start is not None and not self._consistent(values):
            # HiGHS 1.16 can report the start as the solution while its objective is
            # that of a better one; solve again from scratch rather than trust it.
            self.model.clear_solution()
            status = self.model.solve()
            if not self.model.has_solution():
                return status, None
            values = self.model.values()
        y = np.zeros(self.problem.size)
        y[self.cells] = values
        return status, y

    def _consistent(self, values: FloatArray) -> bool:
        cost = float(self.problem.cost[self.cells] @ values)
        return abs(cost - self.model.objective()) <= 1e-6 * max(1.0, abs(cost))

    def bound(self) -> float:
        """Best proven lower bound on the cost (MILP dual bound, or LP value)."""
        if self.relax:
            return self.model.objective()
        return self.model.mip_bound()
