"""The optimal method's own steps: the master's pattern made safe, and the proof
that an incumbent is optimal once it meets the master's lower bound."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import numpy as np
import pytest

from governance.sdc import attack, suppress, suppress_fast, suppress_optimal, verdict
from governance.sdc.attack import Bounder, audit
from governance.sdc.cuts import CutBuilder
from governance.sdc.greedy import cover_cells
from governance.sdc.intruder import Intruder
from governance.sdc.linear import build_system
from governance.sdc.moves import Mover
from governance.sdc.pool import feasible
from governance.sdc.suppress import protect
from governance.sdc.suppress_fast import RepairBudgetError, repair
from governance.sdc.suppress_optimal import (
    _least_cost,
    _repaired_and_pruned,
    protect_optimal,
)
from governance.sdc.verdict import find_unsafe
from governance.sdc.widen import moves_for
from tests.unit.test_sdc_attack import grid

BODY = [[4, 20, 30, 25], [25, 12, 40, 3], [30, 18, 22, 27]]


def test_the_master_s_pattern_is_made_safe_and_pruned() -> None:
    p = grid(BODY)  # type: ignore[arg-type]
    system = build_system(p)
    pattern = p.primary.copy()  # the 4 and the 3, each alone in its row: unsafe
    assert audit(p, pattern, system=system).unsafe
    out = _repaired_and_pruned(p, system, None, pattern, CutBuilder(p, system), [])
    assert out is not None
    found, tables = out
    assert np.all(found[p.primary])
    assert not audit(p, found, system=system).unsafe
    # the tables it hands on are ones the intruder cannot rule out for it
    assert tables and feasible(p, system, found, tables) == tables


def test_a_safe_master_pattern_comes_back_safe_and_no_larger() -> None:
    p = grid(BODY)  # type: ignore[arg-type]
    system = build_system(p)
    pattern = p.primary | p.usable_candidates()  # everything hidden: safe
    out = _repaired_and_pruned(p, system, None, pattern, CutBuilder(p, system), [])
    assert out is not None
    found, _ = out
    assert np.all(found[p.primary]) and not np.any(found & ~pattern)
    assert not audit(p, found, system=system).unsafe


def test_whole_costs_round_the_master_s_bound_up() -> None:
    p = grid(BODY)  # type: ignore[arg-type]
    assert _least_cost(p, 4.2) == 5.0
    assert _least_cost(p, 5.0 + 1e-9) == 5.0  # solver noise, not a sixth cell
    weighted = dataclasses.replace(p, cost=np.full(p.size, 0.5))
    assert _least_cost(weighted, 4.2) == 4.2


def test_optimal_proves_what_it_returns_and_beats_or_equals_fast() -> None:
    p = grid(BODY)  # type: ignore[arg-type]
    fast = protect(p, "fast")
    best = protect(p, "optimal", time_limit=30.0)
    assert best.optimal
    assert best.lower_bound == best.objective <= fast.objective
    assert not audit(p, best.hidden).unsafe
    assert np.array_equal(protect(p, "optimal", time_limit=30.0).hidden, best.hidden)
    # its tables are feasible for the pattern it returns: the audit starts warm
    system = build_system(p)
    assert best.witnesses
    assert feasible(p, system, best.hidden, best.witnesses) == list(best.witnesses)


def test_an_exact_check_past_its_deadline_is_left_undecided() -> None:
    p = grid(BODY)  # type: ignore[arg-type]
    system = build_system(p)
    everything = p.primary | p.usable_candidates()  # safe, but proving it needs LPs
    unsafe, bounder = find_unsafe(p, everything, system=system)
    assert not unsafe and bounder.undecided is None and bounder.lp_solves
    unsafe, bounder = find_unsafe(
        p, everything, system=system, deadline=time.perf_counter()
    )
    assert bounder.undecided is not None and bounder.lp_solves == 0
    builder = CutBuilder(p, system)
    with pytest.raises(RepairBudgetError):
        repair(p, system, None, everything, builder, deadline=time.perf_counter())


def test_no_push_starts_past_the_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(attack, "PUSH_MODEL_FROM", 0)  # push every model
    monkeypatch.setattr(attack, "PUSH_FROM", 1)
    p = grid(BODY)  # type: ignore[arg-type]
    system = build_system(p)
    everything = p.primary | p.usable_candidates()
    targets = p.protection_targets()
    todo = [int(c) for c in np.flatnonzero(p.primary)]
    pushes: list[int] = []
    push = Intruder.push

    def counted(self: Intruder, cells: Any, cost: Any) -> bool:
        pushes.append(len(cells))
        return push(self, cells, cost)

    monkeypatch.setattr(Intruder, "push", counted)
    verdict._push(Bounder(p, system, everything, None), todo, targets)
    assert pushes  # on time, the cells are pushed
    pushes.clear()
    late = Bounder(p, system, everything, None)
    left = verdict._push(late, todo, targets, deadline=time.perf_counter())
    # not even a component model is built: each costs two seed solves
    assert not pushes and left == todo and late.lp_solves == 0


def test_no_least_cost_move_starts_past_the_deadline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    p = grid(BODY)  # type: ignore[arg-type]
    system = build_system(p)
    pattern = p.primary.copy()  # the 4 and the 3, each alone in its row: unsafe
    unsafe, bounder = find_unsafe(p, pattern, system=system)
    assert unsafe
    mover = Mover(p, system, pattern)
    *_, done = moves_for(p, bounder, mover, unsafe, pattern, None, time.perf_counter())
    assert not done and mover.solves == 0
    *_, done = moves_for(p, bounder, mover, unsafe, pattern, None, None)
    assert done and mover.solves

    # the exact check on time (it is given no deadline here), the moves past
    # it: the repair gives up
    def on_time(*args: Any, **kwargs: Any) -> Any:
        return find_unsafe(*args, **(kwargs | {"deadline": None}))

    monkeypatch.setattr(suppress_fast, "find_unsafe", on_time)
    with pytest.raises(RepairBudgetError):
        repair(
            p, system, None, pattern, CutBuilder(p, system),
            deadline=time.perf_counter(),
        )  # fmt: skip


def test_optimal_out_of_time_returns_its_incumbent_with_the_incumbent_s_tables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    p = grid(BODY)  # type: ignore[arg-type]
    system = build_system(p)
    incumbent = p.primary | p.usable_candidates()
    _, bounder = find_unsafe(p, incumbent, system=system)
    assert bounder.found
    outcome = protect_optimal(
        p, system, None, incumbent, time_limit=0.0, witnesses=bounder.found
    )
    assert outcome.rounds == 0 and not outcome.proven
    assert np.array_equal(outcome.hidden, incumbent)
    assert list(outcome.tables) == bounder.found

    # the clock runs out inside the first round's exact check: that round is
    # given up and the incumbent stands, with its tables
    class Late:
        @staticmethod
        def perf_counter() -> float:
            return float("inf")

    monkeypatch.setattr(verdict, "time", Late)
    outcome = protect_optimal(
        p, system, None, incumbent, time_limit=30.0, witnesses=bounder.found
    )
    assert outcome.rounds == 1 and not outcome.proven
    assert np.array_equal(outcome.hidden, incumbent)
    assert list(outcome.tables) == bounder.found


def test_optimal_stops_building_cuts_when_its_time_runs_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # one small cell: the master's first pattern (a complement in its row and one
    # in its column, from the relation cuts) leaves it pinned, so cuts are due
    p = grid([[4, 20, 30], [25, 12, 40], [30, 18, 22]])
    system = build_system(p)
    incumbent = p.primary | p.usable_candidates()
    calls = iter([0.0, 0.0])  # the start and the first round's check of time left

    class Clock:
        @staticmethod
        def perf_counter() -> float:
            return next(calls, float("inf"))  # then out of time, before any cut

    class Early:  # the round's exact check runs to the end
        @staticmethod
        def perf_counter() -> float:
            return 0.0

    monkeypatch.setattr(suppress_optimal, "time", Clock)
    monkeypatch.setattr(verdict, "time", Early)
    outcome = protect_optimal(p, system, None, incumbent, time_limit=30.0)
    relation_cuts = len(CutBuilder(p, system).relation_cuts())
    assert outcome.rounds == 1 and outcome.cuts == relation_cuts
    assert np.array_equal(outcome.hidden, incumbent) and not outcome.proven


def test_the_final_check_starts_from_the_tables_that_proved_optimal_s_pattern(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    p = grid(BODY)  # type: ignore[arg-type]
    given: list[int] = []
    check = find_unsafe

    def spy(*args: Any, **kwargs: Any) -> tuple[list[int], Bounder]:
        given.append(len(kwargs.get("witnesses", ())))
        return check(*args, **kwargs)

    monkeypatch.setattr(suppress, "find_unsafe", spy)
    result = protect(p, "optimal", time_limit=30.0)
    assert result.optimal and given and given[-1] > 0  # not a cold check


def test_a_capped_repair_stops_when_its_lps_run_out() -> None:
    p = grid(BODY)  # type: ignore[arg-type]
    system = build_system(p)
    builder = CutBuilder(p, system)
    with pytest.raises(RepairBudgetError):  # the moves need LPs
        repair(p, system, None, p.primary.copy(), builder, max_lps=0)
    everything = p.primary | p.usable_candidates()
    with pytest.raises(RepairBudgetError):  # so does proving this pattern safe
        repair(p, system, None, everything, builder, max_lps=0)
    assert (
        _repaired_and_pruned(p, system, None, p.primary.copy(), builder, [], max_lps=0)
        is None
    )
    capped, _ = repair(p, system, None, p.primary.copy(), builder, max_lps=10_000)
    free, _ = repair(p, system, None, p.primary.copy(), builder)
    assert np.array_equal(capped, free)


def test_the_greedy_hides_one_cell_for_two_small_cells_that_share_it() -> None:
    # cell 0 can be cured by 5 or 7, cell 1 by 6 or 7: each on its own would take
    # its smallest (5, 6); together one cell, 7, cures both
    values = np.arange(10, dtype=float)
    assert cover_cells({0: [5, 7], 1: [6, 7]}, np.ones(10), values) == [7]
    # per unit of cost: 7 cures two cells but costs three times as much
    cost = np.ones(10)
    cost[7] = 3.0
    assert cover_cells({0: [5, 7], 1: [6, 7]}, cost, values) == [5, 6]
    # a free cell comes first
    cost[7] = 0.0
    assert cover_cells({0: [5, 7], 1: [6]}, cost, values) == [7, 6]
