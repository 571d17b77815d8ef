"""Complementary suppression: choose the cells to hide besides the primary ones.

``protect`` is the one interface the pipeline (``governance.sdc.clear``) calls.
This module holds the baseline method, used for every method name until the
optimising methods land: a greedy repair loop driven by the exact attacker
(``attack.find_unsafe``). While some primary cell is unsafe, it hides, in one
relation containing that cell, the cheapest candidate not yet hidden (ties broken by
cell index, so results are deterministic); then it tries to publish again, cheapest
saving first, every complementary cell whose removal keeps the pattern safe. Every
pattern it returns has passed the same audit as the pipeline runs afterwards, so it
is safe by construction; it is not minimal.

It never reads files or logs, and never returns a value of a hidden cell.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from governance.errors import DisclosureError
from governance.sdc.attack import find_unsafe
from governance.sdc.linear import build_system
from governance.sdc.problem import BoolArray, ProtectionProblem

MethodName = Literal["optimal", "fast", "auto"]
Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class SuppressionResult:
    hidden: BoolArray
    """Primary and complementary cells to hide."""
    secondary: BoolArray
    method: str
    objective: float
    """Total cost of the complementary cells."""
    optimal: bool
    """Whether the pattern is proven to be of least cost."""
    seconds: float


def _relations_of(problem: ProtectionProblem) -> list[list[int]]:
    """For every cell, the indices of the relations it belongs to."""
    member: list[list[int]] = [[] for _ in range(problem.size)]
    for index, relation in enumerate(problem.relations):
        member[relation.total].append(index)
        for child in relation.children:
            member[child].append(index)
    return member


def _cells(problem: ProtectionProblem, relation: int) -> tuple[int, ...]:
    rel = problem.relations[relation]
    return (rel.total, *rel.children)


def _cheapest_near(
    problem: ProtectionProblem, member: list[list[int]], hidden: BoolArray, cell: int
) -> int | None:
    """The cheapest unhidden candidate in the relations nearest ``cell``.

    Looks first in the relations containing the cell, then, when those hold no
    candidate, in the relations of the hidden cells found there, and so on outwards.
    """
    cost = problem.cost
    seen_relations: set[int] = set()
    seen_cells = {cell}
    frontier = [cell]
    while frontier:
        best: tuple[float, int] | None = None
        reached: list[int] = []
        for current in frontier:
            for relation in member[current]:
                if relation in seen_relations:
                    continue
                seen_relations.add(relation)
                for other in _cells(problem, relation):
                    if problem.candidate[other] and not hidden[other]:
                        key = (float(cost[other]), other)
                        if best is None or key < best:
                            best = key
                    elif hidden[other] and other not in seen_cells:
                        seen_cells.add(other)
                        reached.append(other)
        if best is not None:
            return best[1]
        frontier = reached
    return None


def protect(
    problem: ProtectionProblem,
    method: MethodName = "auto",
    *,
    time_limit: float = 60.0,
    seed: int = 0,
    progress: Progress | None = None,
) -> SuppressionResult:
    """Return a safe hidden pattern for ``problem``.

    Raises:
        DisclosureError: no choice of complementary cells can protect every primary
            cell (the table has too few candidates).
    """
    del seed, time_limit  # the baseline is deterministic and needs no time limit
    started = time.perf_counter()
    problem.check()
    system = build_system(problem)
    member = _relations_of(problem)
    hidden = problem.primary.copy()
    cost = problem.cost
    rounds = 0
    while True:
        unsafe, _ = find_unsafe(problem, hidden, system=system)
        unsafe = [cell for cell in unsafe if problem.primary[cell]]
        if not unsafe:
            break
        rounds += 1
        if progress is not None:
            progress("suppress", min(0.9, rounds / (rounds + 10)))
        added = False
        for cell in unsafe:
            best = _cheapest_near(problem, member, hidden, cell)
            if best is not None:
                hidden[best] = True
                added = True
        if not added:
            raise DisclosureError(
                "no complementary cells can protect every small cell of this table"
            )
    secondary = hidden & ~problem.primary
    # Publish again what is not needed, biggest saving first.
    order = sorted(
        (int(c) for c in np.flatnonzero(secondary)), key=lambda c: (-cost[c], c)
    )
    for cell in order:
        hidden[cell] = False
        unsafe, _ = find_unsafe(problem, hidden, system=system)
        if any(problem.primary[c] for c in unsafe):
            hidden[cell] = True
    secondary = hidden & ~problem.primary
    if progress is not None:
        progress("suppress", 1.0)
    return SuppressionResult(
        hidden=hidden,
        secondary=secondary,
        method=f"{method}:baseline",
        objective=float(cost[secondary].sum()),
        optimal=False,
        seconds=time.perf_counter() - started,
    )
