"""The suppression methods against each other and against brute force.

``optimal`` is a MILP solved to optimality on small problems, so on tables small
enough to enumerate it must hide exactly as little as the cheapest safe pattern
found by trying every set of complementary cells; and on any table it never hides
more than ``fast``, whose pattern it starts from.
"""

from __future__ import annotations

import itertools
import random
from unittest import mock

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from governance.sdc import attack
from governance.sdc import pool as pool_module
from governance.sdc.attack import AuditResult, audit
from governance.sdc.clear import build_problem
from governance.sdc.greedy import cover_cells
from governance.sdc.leaflp import Change
from governance.sdc.linear import ConstraintSystem, build_system
from governance.sdc.linked import LinkedSet
from governance.sdc.pool import WitnessPool, feasible
from governance.sdc.primary import find_primary
from governance.sdc.problem import ProtectionProblem
from governance.sdc.suppress import MethodName, SuppressionResult, protect
from governance.sdc.suppress_fast import protect_fast
from governance.sdc.verdict import find_unsafe
from tests.property.test_sdc_pipeline import linked_sets, policy
from tests.unit.test_sdc_attack import grid

SLOW = settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def brute_minimum(p: ProtectionProblem) -> float:
    """The least cost of a safe pattern, by trying complements in order of size."""
    system = build_system(p)
    candidates = [int(c) for c in np.flatnonzero(p.usable_candidates())]
    best = np.inf
    for size in range(len(candidates) + 1):
        if size > 0 and best <= size * float(p.cost[candidates].min()) - 1e-9:
            break  # with unit costs nothing larger can be cheaper
        for chosen in itertools.combinations(candidates, size):
            hidden = p.primary.copy()
            hidden[list(chosen)] = True
            cost = float(p.cost[list(chosen)].sum())
            if cost >= best:
                continue
            unsafe, _ = find_unsafe(p, hidden, system=system)
            if not unsafe:
                best = cost
    return best


@SLOW
@given(
    st.lists(
        st.lists(st.integers(min_value=0, max_value=30), min_size=3, max_size=3),
        min_size=2,
        max_size=2,
    )
)
def test_optimal_equals_the_brute_force_minimum(body: list[list[int]]) -> None:
    p = grid(body)  # type: ignore[arg-type]
    if not p.primary.any():
        return
    expected = brute_minimum(p)
    if not np.isfinite(expected):
        return  # nothing can protect this table; protect raises, tested elsewhere
    result = protect(p, "optimal", time_limit=30.0, seed=0)
    assert result.optimal
    assert result.objective == expected


def problem_for(linked: LinkedSet) -> ProtectionProblem:
    rules = policy().disclosure
    return build_problem(linked, rules, find_primary(linked, rules))


@SLOW
@given(linked_sets())
def test_optimal_never_hides_more_than_fast(linked: LinkedSet) -> None:
    p = problem_for(linked)
    fast = protect(p, "fast", seed=0)
    best = protect(p, "optimal", time_limit=30.0, seed=0)
    assert best.objective <= fast.objective + 1e-9
    if best.optimal and best.lower_bound is not None:
        assert best.lower_bound <= best.objective + 1e-9


@SLOW
@given(linked_sets())
def test_a_pruning_budget_never_publishes_an_unsafe_pattern(linked: LinkedSet) -> None:
    p = problem_for(linked)
    bounded = protect(p, "fast", seed=0, prune_lps=0)
    assert not find_unsafe(p, bounded.hidden)[0]
    assert np.array_equal(bounded.hidden, protect(p, "fast", prune_lps=0).hidden)


@SLOW
@given(linked_sets())
def test_the_audit_s_intervals_do_not_depend_on_its_threads(
    linked: LinkedSet,
) -> None:
    p = problem_for(linked)
    hidden = protect(p, "fast", seed=0).hidden
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(attack, "PARALLEL_FROM", 1)
        one = audit(p, hidden, shares=1)
        two = audit(p, hidden, shares=2)
    assert_identical(one, two)


@SLOW
@given(linked_sets(), st.randoms(use_true_random=False))
def test_the_method_s_tables_spare_the_audit_lps_and_change_no_interval(
    linked: LinkedSet, rng: random.Random
) -> None:
    p, system, result = protected(linked, rng.choice(["fast", "optimal"]))
    hidden = result.hidden
    tables = feasible(p, system, hidden, result.witnesses)
    assert len(tables) == len(result.witnesses)  # all hold for its own pattern
    cold = audit(p, hidden, system=system)
    warm = audit(p, hidden, system=system, witnesses=tables)
    assert cold.unsafe == ()
    assert_identical(cold, warm)
    assert warm.lp_solves <= cold.lp_solves


@SLOW
@given(linked_sets(), st.randoms(use_true_random=False))
def test_feasible_keeps_exactly_the_tables_the_intruder_cannot_rule_out(
    linked: LinkedSet, rng: random.Random
) -> None:
    p, system, result = protected(linked, "fast")
    hidden = result.hidden
    assume(result.witnesses)
    tol = attack.tolerance(p)
    broken: list[Change] = []
    for change in [c for c in result.witnesses if c.cells.shape[0]][:5]:
        k = rng.randrange(change.cells.shape[0])
        delta = change.delta.copy()
        delta[k] += rng.choice([-1.0, 1.0]) * max(1.0, 100 * tol)
        broken.append(Change(change.cells, delta))  # breaks a relation or a label
        published = np.flatnonzero(~hidden)
        if published.shape[0]:  # moves a published cell as well
            cells = np.append(change.cells, published[0])
            broken.append(Change(cells, np.append(change.delta, 0.5)))
    mixed = [*result.witnesses, *broken]
    rng.shuffle(mixed)

    def holds(change: Change) -> bool:
        return is_table(p, system, hidden, change, tol)

    assert feasible(p, system, hidden, mixed) == [c for c in mixed if holds(c)]
    assert not any(holds(c) for c in broken)


@SLOW
@given(linked_sets(), st.randoms(use_true_random=False))
def test_find_unsafe_s_verdict_does_not_depend_on_its_shares(
    linked: LinkedSet, rng: random.Random
) -> None:
    p = problem_for(linked)
    system = build_system(p)
    # the primary cells and a random half of the candidates: often unsafe
    hidden = p.primary | (
        p.usable_candidates() & np.array([rng.random() < 0.5 for _ in range(p.size)])
    )
    one, _ = find_unsafe(p, hidden, system=system, shares=1)
    two, bounder = find_unsafe(p, hidden, system=system, shares=2)
    assert one == two == list(audit(p, hidden).unsafe)
    # every table found, by either share, is one the intruder cannot rule out
    tol = 1e-6 * max(1.0, float(np.abs(p.values).max()))
    for change in bounder.found:
        assert is_table(p, system, hidden, change, tol)


def protected(
    linked: LinkedSet, method: MethodName
) -> tuple[ProtectionProblem, ConstraintSystem, SuppressionResult]:
    """The set's problem, its constraint system, and ``method``'s result."""
    p = problem_for(linked)
    return p, build_system(p), protect(p, method, seed=0)


def assert_identical(first: AuditResult, second: AuditResult) -> None:
    """Two audits of one pattern: the same unsafe cells and intervals, exactly."""
    assert first.unsafe == second.unsafe
    assert np.array_equal(first.lower, second.lower, equal_nan=True)
    assert np.array_equal(first.upper, second.upper, equal_nan=True)


def is_table(
    p: ProtectionProblem,
    system: ConstraintSystem,
    hidden: np.ndarray,
    change: Change,
    tol: float,
) -> bool:
    """Reference: ``change`` is a table the intruder cannot rule out (published
    cells keep their values, hidden ones stay within their labels' bounds, every
    relation and fact holds), checked on the whole table."""
    low, high = p.hidden_bounds(hidden)
    values = p.values.copy()
    values[change.cells] += change.delta
    act = system.activity(values)
    return bool(
        hidden[change.cells].all()
        and np.all(values >= low - tol)
        and np.all(values <= high + tol)
        and np.all(act >= system.row_lower - tol)
        and np.all(act <= system.row_upper + tol)
    )


@SLOW
@given(linked_sets(), st.randoms(use_true_random=False))
def test_pushes_change_no_verdict_and_no_interval(
    linked: LinkedSet, rng: random.Random
) -> None:
    """Pushes (one LP moving many cells at once, before their own LPs) only add
    witnesses: with them forced on these small tables the check's verdict and the
    audit's intervals are those without, and every table found is one the
    intruder cannot rule out."""
    p = problem_for(linked)
    system = build_system(p)
    hidden = p.primary | (
        p.usable_candidates() & np.array([rng.random() < 0.5 for _ in range(p.size)])
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(attack, "PUSH_MODEL_FROM", 10**9)  # never
        without = find_unsafe(p, hidden, system=system)[0]
        plain = audit(p, hidden, system=system)
        patch.setattr(attack, "PUSH_MODEL_FROM", 0)  # every component with a model
        patch.setattr(attack, "PUSH_FROM", 1)
        patch.setattr(attack, "PUSH_GAIN", -1)  # until nothing is lacking
        patch.setattr(attack, "PUSH_ROUNDS", 3)
        pushed, bounder = find_unsafe(p, hidden, system=system)
        pushed_audit = audit(p, hidden, system=system)
    assert pushed == without
    assert_identical(plain, pushed_audit)
    tol = 1e-6 * max(1.0, float(np.abs(p.values).max()))
    for change in bounder.found:
        assert is_table(p, system, hidden, change, tol)


def _proven_by(p: ProtectionProblem, changes: list[Change], hidden: np.ndarray) -> bool:
    """Reference: every hidden small cell spread wide enough by ``changes`` and the
    true table, cell by cell."""
    width, up, down = p.protection_targets()
    tol = attack.tolerance(p)
    for cell in np.flatnonzero(p.primary & hidden).tolist():
        seen = [float(p.values[cell])]
        for change in changes:
            where = np.flatnonzero(change.cells == cell)
            if where.shape[0]:
                seen.append(float(p.values[cell] + change.delta[where[0]]))
        lo, hi = min(seen), max(seen)
        if p.integral:
            lo, hi = float(np.ceil(lo - tol)), float(np.floor(hi + tol))
        slack = 1e-9 if p.integral else tol
        if hi - lo < width[cell] - slack or hi < up[cell] - slack:
            return False
        if lo > down[cell] + slack:
            return False
    return True


@SLOW
@given(linked_sets(), st.randoms(use_true_random=False), st.sampled_from([1, 2, 32]))
def test_the_pruning_pool_proves_what_its_tables_prove(
    linked: LinkedSet, rng: random.Random, batch: int
) -> None:
    # small batches make the reductions of ``proves`` run in several (doubling)
    # batches on these small tables, as they do on large ones
    with mock.patch.object(pool_module, "_FIRST_BATCH", batch):
        _pool_proves_what_its_tables_prove(linked, rng)


def _pool_proves_what_its_tables_prove(linked: LinkedSet, rng: random.Random) -> None:
    p = problem_for(linked)
    system = build_system(p)
    hidden, changes = protect_fast(p, system, None, lp_budget=None)
    half = len(changes) // 2
    pool = WitnessPool(p, changes[:half])
    pool.add(changes[half:])
    for _ in range(4):
        ids = sorted(rng.sample(range(len(changes)), rng.randint(0, len(changes))))
        expected = _proven_by(p, [changes[i] for i in ids], hidden)
        assert pool.proves(ids, hidden) == expected
    # as pruning uses it: publishing a cell drops the tables that move it, and the
    # extremes the pool keeps must follow
    for _ in range(3):
        if not pool.touch:
            break
        pool.drop(rng.choice(sorted(pool.touch)))
        # only complementary cells are offered back (small ones stay hidden)
        offered = rng.choice(np.flatnonzero(hidden & ~p.primary).tolist() or [0])
        kept = pool.kept(offered)
        expected = _proven_by(p, pool.tables(kept), hidden)
        assert pool.proves(kept, hidden) == expected
        small = np.flatnonzero(hidden & p.primary).tolist()
        near = rng.sample(small, min(2, len(small)))
        assert pool.proves(kept, hidden, first=near) == expected
        live = [i for i, c in enumerate(pool.changes) if c is not None]
        assert pool.proves(live, hidden) == _proven_by(p, pool.tables(live), hidden)
        pool.add(changes[: rng.randint(0, 2)])  # tables found again are added anew


@given(
    st.dictionaries(
        st.integers(0, 20),
        st.lists(st.integers(0, 12), min_size=1, max_size=5, unique=True),
        max_size=12,
    ),
    st.lists(st.integers(0, 3), min_size=13, max_size=13),
)
def test_the_greedy_s_cover_cures_every_cell_and_hides_none_in_vain(
    options: dict[int, list[int]], costs: list[int]
) -> None:
    cost = np.array(costs, dtype=float)
    values = np.arange(13, dtype=float)
    chosen = cover_cells(options, cost, values)
    assert len(set(chosen)) == len(chosen)
    assert all(set(cands) & set(chosen) for cands in options.values())
    # each cell was taken because it cured a cell no earlier one had
    cured: set[int] = set()
    for j in chosen:
        new = {cell for cell, cands in options.items() if j in cands} - cured
        assert new
        cured |= new
    assert cover_cells(options, cost, values) == chosen
