"""A thin, typed wrapper over the HiGHS solver (highspy) for LPs and MILPs.

Owns every call into highspy, so the rest of ``governance.sdc`` sees numpy arrays and
plain Python values only. The wrapper builds on highspy's low-level ``_Highs`` class
when it exists: the public ``highspy.Highs`` subclass registers a Python logging
callback whose first use writes HiGHS's banner straight to the process's stdout,
which would corrupt a command's JSON output (``governance`` never prints), and the
callback trampolines cost time over the tens of thousands of small re-solves the
audit makes. Options are set before anything is solved, with all output off.

It never writes a solver of its own and never logs model data.
"""

from __future__ import annotations

import enum
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import highspy
import numpy as np

from governance.sdc.problem import FloatArray, IntArray


def _highs_class() -> Any:
    """Return highspy's low-level solver class, or the public one if it moved."""
    core = getattr(highspy, "_core", None)
    return getattr(core, "_Highs", highspy.Highs)


_HighsClass = _highs_class()

INF = float(highspy.kHighsInf)


class Status(enum.Enum):
    """What a solve ended with, reduced to the cases callers act on."""

    OPTIMAL = "optimal"
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    TIME_LIMIT = "time_limit"
    OTHER = "other"


_STATUS = {
    highspy.HighsModelStatus.kOptimal: Status.OPTIMAL,
    highspy.HighsModelStatus.kInfeasible: Status.INFEASIBLE,
    highspy.HighsModelStatus.kUnbounded: Status.UNBOUNDED,
    highspy.HighsModelStatus.kUnboundedOrInfeasible: Status.UNBOUNDED,
    highspy.HighsModelStatus.kTimeLimit: Status.TIME_LIMIT,
    highspy.HighsModelStatus.kInterrupt: Status.TIME_LIMIT,
    highspy.HighsModelStatus.kSolutionLimit: Status.TIME_LIMIT,
    highspy.HighsModelStatus.kIterationLimit: Status.TIME_LIMIT,
}


def _i32(values: IntArray | list[int]) -> np.ndarray[Any, np.dtype[np.int32]]:
    return np.ascontiguousarray(values, dtype=np.int32)


def _f64(values: FloatArray | list[float]) -> FloatArray:
    return np.ascontiguousarray(values, dtype=np.float64)


T = TypeVar("T")

#: Shares the audit and the repair deal their work into, each with its own models.
#: Fixed, so results and LP counts do not depend on the machine's cores.
SHARES = 2
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _forget_pool() -> None:
    """A forked child has none of its parent's threads: it starts its own pool."""
    global _pool, _pool_lock
    _pool = None
    _pool_lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_pool)


def run_shares(task: Callable[[int], T], shares: int) -> list[T]:
    """``task(k)`` for each share ``k``, on up to two long-lived threads.

    HiGHS releases the interpreter lock while it solves, so on two cores two shares
    take about half the time; on one core they run one after the other, with the
    same results. Tasks must not wait for other tasks of the pool.
    """
    global _pool
    if shares == 1:
        return [task(0)]
    with _pool_lock:
        if _pool is None:
            threads = min(SHARES, os.cpu_count() or 1)
            _pool = ThreadPoolExecutor(threads, thread_name_prefix="wresgov-highs")
    futures = [_pool.submit(task, k) for k in range(shares)]
    return [f.result() for f in futures]


class Model:
    """One HiGHS instance: columns, rows, costs, solve, solution."""

    def __init__(self, *, threads: int = 1, presolve: bool = True) -> None:
        self._h: Any = _HighsClass()
        self._set("output_flag", False)
        self._set("log_to_console", False)
        self._set("threads", threads)
        self._set("random_seed", 0)
        if not presolve:
            self._set("presolve", "off")
        self._n_cols = 0
        self._n_rows = 0
        self._slack: tuple[tuple[int, int], Any] | None = None

    def _set(self, name: str, value: object) -> None:
        self._h.setOptionValue(name, value)

    def set_option(self, name: str, value: float | str | bool) -> None:
        """Set a HiGHS option (e.g. ``time_limit``, ``mip_rel_gap``)."""
        self._set(name, value)

    @property
    def n_cols(self) -> int:
        return self._n_cols

    @property
    def n_rows(self) -> int:
        return self._n_rows

    def add_columns(self, lower: FloatArray, upper: FloatArray) -> None:
        """Append columns with these bounds (``inf`` allowed) and zero cost."""
        n = int(lower.shape[0])
        if n == 0:
            return
        lo = np.where(np.isinf(lower), -INF, lower)
        up = np.where(np.isinf(upper), INF, upper)
        self._h.addVars(n, _f64(lo), _f64(up))
        self._n_cols += n

    def add_rows(
        self,
        lower: FloatArray,
        upper: FloatArray,
        start: IntArray,
        index: IntArray,
        value: FloatArray,
    ) -> None:
        """Append rows ``lower <= sum(value * x[index]) <= upper`` in CSR form."""
        m = int(lower.shape[0])
        if m == 0:
            return
        lo = np.where(np.isinf(lower), -INF, lower)
        up = np.where(np.isinf(upper), INF, upper)
        self._h.addRows(
            m, _f64(lo), _f64(up), int(index.shape[0]),
            _i32(start[:-1]), _i32(index), _f64(value),
        )  # fmt: skip
        self._n_rows += m

    def change_bounds(
        self, index: IntArray, lower: FloatArray, upper: FloatArray
    ) -> None:
        """Change the bounds of the given columns (``inf`` allowed)."""
        if index.shape[0]:
            lo = np.where(np.isinf(lower), -INF, lower)
            up = np.where(np.isinf(upper), INF, upper)
            self._h.changeColsBounds(
                int(index.shape[0]), _i32(index), _f64(lo), _f64(up)
            )

    def set_costs(self, index: IntArray, cost: FloatArray) -> None:
        """Set the objective coefficient of the given columns (minimisation)."""
        if index.shape[0]:
            self._h.changeColsCost(int(index.shape[0]), _i32(index), _f64(cost))

    def set_integer(self, index: IntArray) -> None:
        """Make the given columns integer."""
        if index.shape[0]:
            kinds = np.ones(index.shape[0], dtype=np.uint8)
            self._h.changeColsIntegrality(int(index.shape[0]), _i32(index), kinds)

    def set_start(self, values: FloatArray) -> None:
        """Offer a full primal solution as a MIP start."""
        n = int(values.shape[0])
        self._h.setSolution(n, _i32(np.arange(n)), _f64(values))

    def basis(self) -> object:
        """The last solve's basis, as an opaque value for ``set_basis``."""
        return self._h.getBasis()

    def set_basis(self, basis: object) -> None:
        """Start the next solve from a basis ``basis()`` returned for this model."""
        self._h.setBasis(basis)

    def set_slack_basis(self) -> None:
        """Start the next solve from the slack basis: every column nonbasic at its
        lower bound (which must be finite), every row basic. Its factorisation is
        the identity, so it costs next to nothing to start from."""
        shape = (self._n_cols, self._n_rows)
        if self._slack is None or self._slack[0] != shape:
            basis = highspy.HighsBasis()
            basis.col_status = [highspy.HighsBasisStatus.kLower] * self._n_cols
            basis.row_status = [highspy.HighsBasisStatus.kBasic] * self._n_rows
            basis.valid = True
            self._slack = (shape, basis)
        self._h.setBasis(self._slack[1])

    def clear_solution(self) -> None:
        """Forget the last solution and any start offered, keeping the model."""
        self._h.clearSolver()

    def solve(self) -> Status:
        """Run HiGHS and classify the outcome."""
        self._h.run()
        return _STATUS.get(self._h.getModelStatus(), Status.OTHER)

    def objective(self) -> float:
        return float(self._h.getInfo().objective_function_value)

    def mip_bound(self) -> float:
        """Best proven lower bound of a MILP (minimisation)."""
        return float(self._h.getInfo().mip_dual_bound)

    def has_solution(self) -> bool:
        return bool(self._h.getSolution().value_valid)

    def values(self) -> FloatArray:
        return np.asarray(self._h.getSolution().col_value, dtype=np.float64)

    def row_duals(self) -> FloatArray:
        return np.asarray(self._h.getSolution().row_dual, dtype=np.float64)

    def iterations(self) -> int:
        return int(self._h.getInfo().simplex_iteration_count)
