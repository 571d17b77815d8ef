"""The last few whole-pack audits' results, by a digest of problem and pattern.

A release exported in the same process as its checks audits the approved pattern
again on recounted tables: when nothing changed it is the same problem, and the
audit (a pure function of the problem and the pattern) need not run twice.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence

import numpy as np

from governance.sdc.attack import AuditResult, audit
from governance.sdc.leaflp import Change
from governance.sdc.linear import ConstraintSystem, build_system
from governance.sdc.problem import BoolArray, ProtectionProblem


def problem_digest(problem: ProtectionProblem, hidden: BoolArray) -> str:
    """SHA-256 of everything an audit's result depends on: every array and relation
    of the problem, its facts and rounding, and the hidden pattern."""
    digest = hashlib.sha256()
    arrays = (
        problem.values, problem.primary, problem.candidate, problem.cost,
        problem.primary_lower, problem.primary_upper, problem.protection,
        problem.upper_protection, problem.lower_protection, hidden,
    )  # fmt: skip
    for array in arrays:
        if array is None:
            digest.update(b"none;")
            continue
        data = np.ascontiguousarray(array)
        digest.update(f"{data.dtype.str}{data.shape};".encode())
        digest.update(data.tobytes())
    for relation in problem.relations:
        digest.update(f"r{relation.total}:{relation.children};".encode())
    for fact in problem.facts:
        digest.update(
            f"f{fact.cells}:{fact.coefficients}:{fact.lower!r}:{fact.upper!r};".encode()
        )
    digest.update(f"{problem.secondary_lower!r};{problem.integral}".encode())
    return digest.hexdigest()


class AuditMemo:
    """The last few audits' results, by ``problem_digest``.

    The audit is a pure function of the problem and the pattern, so a result found
    for the same digest is the result (a release exported in the same process as
    its checks audits the approved pattern again on recounted tables: when nothing
    changed, it is the same problem). Thread-safe; holds ``size`` results, whose
    arrays are made read-only.
    """

    def __init__(self, size: int = 4) -> None:
        self.size = size
        self._results: OrderedDict[str, AuditResult] = OrderedDict()
        self._lock = threading.Lock()

    def audit(
        self,
        problem: ProtectionProblem,
        hidden: BoolArray,
        witnesses: Callable[[ConstraintSystem], Sequence[Change]] | None = None,
    ) -> AuditResult:
        """``audit(problem, hidden)``, or the result already found for it.

        ``witnesses``, when the audit has to run, gives the tables known to be
        ones the intruder cannot rule out, given the problem's constraint system
        (only on a miss: checking them costs time too). They change no interval,
        so a result found with or without them serves every caller."""
        key = problem_digest(problem, np.asarray(hidden, dtype=bool))
        with self._lock:
            found = self._results.get(key)
            if found is not None:
                self._results.move_to_end(key)
                return found
        system = build_system(problem)
        tables = witnesses(system) if witnesses is not None else ()
        result = audit(problem, hidden, system=system, witnesses=tables)
        # shared between callers from now on: a write would change another's result
        for array in (result.hidden, result.lower, result.upper):
            array.flags.writeable = False
        with self._lock:
            self._results[key] = result
            while len(self._results) > self.size:
                self._results.popitem(last=False)
        return result
