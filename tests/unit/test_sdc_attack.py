"""The exact attacker audit (governance.sdc.attack) on problems built directly."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from governance.sdc.attack import AuditResult, audit
from governance.sdc.intruder import Intruder
from governance.sdc.leaflp import Change
from governance.sdc.linear import build_system
from governance.sdc.local import propagate, propagate_with_reasons
from governance.sdc.problem import LinearFact, ProtectionProblem, Relation
from governance.sdc.verdict import find_unsafe

THRESHOLD = 10


def make_problem(
    values: Sequence[float] | np.ndarray,
    relations: Sequence[tuple[int, tuple[int, ...]]],
    *,
    protection: float = 3.0,
    zeros_small: bool = False,
    secondary_lower: float = THRESHOLD,
    facts: tuple[LinearFact, ...] = (),
    integral: bool = True,
) -> ProtectionProblem:
    """A problem with the WRES threshold rule: 1..9 (0..9 with zeros) is primary."""
    v = np.asarray(values, dtype=np.float64)
    small = (v < THRESHOLD) & ((v > 0) | zeros_small)
    n = v.shape[0]
    return ProtectionProblem(
        values=v,
        relations=tuple(Relation(t, c) for t, c in relations),
        primary=small,
        candidate=~small,
        cost=np.ones(n),
        primary_lower=np.full(n, 0.0 if zeros_small else 1.0),
        primary_upper=np.full(n, THRESHOLD - 1.0),
        secondary_lower=secondary_lower,
        protection=np.full(n, protection),
        facts=facts,
        integral=integral,
    )


def grid(rows: list[list[float]], **kw: object) -> ProtectionProblem:
    """A two-way table with row totals, column totals and a grand total.

    Cell ``(i, j)`` of the ``(r+1) x (c+1)`` array is index ``i * (c+1) + j``; the
    last row and column hold the totals.
    """
    body = np.asarray(rows, dtype=np.float64)
    r, c = body.shape
    full = np.zeros((r + 1, c + 1))
    full[:r, :c] = body
    full[:r, c] = body.sum(axis=1)
    full[r, :c] = body.sum(axis=0)
    full[r, c] = body.sum()
    idx = np.arange((r + 1) * (c + 1)).reshape(r + 1, c + 1)
    rels = [(int(idx[i, c]), tuple(int(x) for x in idx[i, :c])) for i in range(r + 1)]
    rels += [(int(idx[r, j]), tuple(int(x) for x in idx[:r, j])) for j in range(c + 1)]
    return make_problem(full.ravel().tolist(), rels, **kw)  # type: ignore[arg-type]


def test_lone_small_cell_in_a_row_with_published_total_is_recoverable() -> None:
    # One row: total 40 = 4 + 16 + 20; only the small cell is hidden.
    p = make_problem([40, 4, 16, 20], [(0, (1, 2, 3))])
    result = audit(p, p.primary.copy())
    assert result.unsafe == (1,)
    assert (result.lower[1], result.upper[1]) == (4.0, 4.0)


def test_two_small_cells_in_one_row() -> None:
    # 30 = 3 + 4 + 23: hiding both leaves 3 + 4 = 7, so each lies in 1..6.
    p = make_problem([30, 3, 4, 23], [(0, (1, 2, 3))])
    result = audit(p, p.primary.copy())
    assert (result.lower[1], result.upper[1]) == (1.0, 6.0)
    assert result.unsafe == ()
    # 25 = 1 + 1 + 23: the two small cells sum to 2, so both are pinned at 1.
    p = make_problem([25, 1, 1, 23], [(0, (1, 2, 3))])
    result = audit(p, p.primary.copy())
    assert result.unsafe == (1, 2)
    assert (result.lower[1], result.upper[1]) == (1.0, 1.0)


@pytest.mark.parametrize(("secondary_lower", "pinned"), [(10.0, True), (0.0, False)])
def test_c_label_knowledge_pins_a_cell_that_is_safe_without_it(
    secondary_lower: float, pinned: bool
) -> None:
    # 11 = 1 + 10. Hiding both: with "[c] >= 10" known, the small cell is at most
    # 11 - 10 = 1, so it is exactly 1; without that knowledge it could be 1..9.
    p = make_problem([11, 1, 10], [(0, (1, 2))], secondary_lower=secondary_lower)
    hidden = np.array([False, True, True])
    result = audit(p, hidden)
    assert (result.unsafe == (1,)) is pinned
    assert result.lower[1] == 1.0
    assert result.upper[1] == (1.0 if pinned else 9.0)


def test_small_cell_whose_only_complement_is_in_a_margin() -> None:
    # 2x2 table; cell (0,0)=3 is small. Hiding it with its row total and column
    # total still leaves it determined through the other row and column, so the
    # grand total must go as well (its only remaining complement is a margin).
    p = grid([[3, 20], [15, 30]])
    hidden = p.primary.copy()
    hidden[[2, 6]] = True  # row-0 total and column-0 total
    assert audit(p, hidden).unsafe == (0,)
    hidden[8] = True  # grand total
    result = audit(p, hidden)
    assert result.unsafe == ()
    assert result.upper[0] - result.lower[0] >= 3


def test_hierarchy_health_board_within_wales() -> None:
    # Wales = LHB + Trust; LHB = A + B; Trust = C + D. A small cell B with both
    # the health-board total and Wales published is pinned.
    values = [60, 25, 35, 20, 5, 15, 20]
    rels = [(0, (1, 2)), (1, (3, 4)), (2, (5, 6))]
    p = make_problem(values, rels)
    assert audit(p, p.primary.copy()).unsafe == (4,)
    hidden = p.primary.copy()
    hidden[[3]] = (
        True  # its sibling: 25 = x + y with y >= 10 gives x in 1..9? no: x <= 15
    )
    result = audit(p, hidden)
    assert result.unsafe == ()
    assert (result.lower[4], result.upper[4]) == (1.0, 9.0)


def test_published_percentage_is_a_linear_fact() -> None:
    # 30 = x + 22 with x = 8 hidden and 22 hidden; a published share of 26.7 %
    # (1 d.p.) for x over the published total pins x to 8.
    fact = LinearFact(
        cells=(1,), coefficients=(1.0,), lower=0.2665 * 30, upper=0.2675 * 30
    )
    p = make_problem([30, 8, 22], [(0, (1, 2))], facts=(fact,))
    hidden = np.array([False, True, True])
    assert audit(p, hidden).unsafe == (1,)
    plain = make_problem([30, 8, 22], [(0, (1, 2))])
    assert audit(plain, hidden).unsafe == ()


def test_secondary_interval_without_a_published_total_is_unbounded() -> None:
    p = make_problem([40, 5, 35], [(0, (1, 2))])
    hidden = np.array([True, True, True])
    result = audit(p, hidden)
    assert result.upper[0] == np.inf
    assert result.lower[2] == 10.0


def test_exact_secondary_cells_are_reported() -> None:
    # The hidden total is pinned by its other (published) breakdown.
    p = make_problem(
        [50, 20, 30, 25, 25, 4, 16],
        [(0, (1, 2)), (0, (3, 4)), (1, (5, 6))],
    )
    hidden = p.primary.copy()
    hidden[[1, 6]] = True
    result = audit(p, hidden)
    assert 1 in result.exact


def test_contradictory_labels_are_reported_not_raised() -> None:
    p = make_problem([30, 3, 27], [(0, (1, 2))])
    wrong = ProtectionProblem(
        values=p.values,
        relations=p.relations,
        primary=np.array([False, True, True]),  # 27 is labelled small
        candidate=np.array([True, False, False]),
        cost=p.cost,
        primary_lower=p.primary_lower,
        primary_upper=p.primary_upper,
        secondary_lower=p.secondary_lower,
        protection=p.protection,
        integral=True,
    )
    result = audit(wrong, np.array([False, True, True]))
    assert not result.feasible
    assert result.contradicted == (2,)
    assert not result.safe


def test_values_that_break_a_relation_are_reported() -> None:
    p = make_problem([30, 3, 20], [(0, (1, 2))])
    result = audit(p, p.primary.copy())
    assert result.violated == (0,)
    assert not result.feasible


def test_audit_is_deterministic() -> None:
    p = grid([[3, 12, 4], [25, 6, 40], [11, 13, 2]], zeros_small=True)
    hidden = p.primary.copy()
    hidden[[1, 3, 5, 9]] = True
    first, second = audit(p, hidden), audit(p, hidden)
    assert np.array_equal(first.lower, second.lower, equal_nan=True)
    assert np.array_equal(first.upper, second.upper, equal_nan=True)
    assert (first.unsafe, first.exact, first.lp_solves) == (
        second.unsafe,
        second.exact,
        second.lp_solves,
    )


def test_find_unsafe_agrees_with_audit() -> None:
    p = grid([[3, 12, 4], [25, 6, 40], [11, 13, 2]])
    rng = np.random.default_rng(0)
    for _ in range(10):
        hidden = p.primary | (p.usable_candidates() & (rng.random(p.size) < 0.5))
        unsafe, _ = find_unsafe(p, hidden)
        assert tuple(unsafe) == audit(p, hidden).unsafe


def test_find_unsafe_stopping_early_keeps_the_verdict() -> None:
    # Stopping at the first unsafe cell, with any cells examined first and with
    # outer bounds from propagation given, still says safe or unsafe exactly as
    # the audit does, and names only cells the audit finds unsafe.
    p = grid([[3, 12, 4], [25, 6, 40], [11, 13, 2]])
    system = build_system(p)
    rng = np.random.default_rng(1)
    for _ in range(10):
        hidden = p.primary | (p.usable_candidates() & (rng.random(p.size) < 0.5))
        lo, hi = p.hidden_bounds(hidden)
        lo, hi, _ = propagate(system, lo, hi)
        expected = audit(p, hidden).unsafe
        primary = [int(c) for c in np.flatnonzero(p.primary)]
        unsafe, _ = find_unsafe(
            p, hidden, first=primary[::-1], stop_early=True, outer=(lo, hi)
        )
        assert bool(unsafe) == bool(expected)
        assert set(unsafe) <= set(expected)
        everything, _ = find_unsafe(p, hidden, first=primary[::-1], outer=(lo, hi))
        assert tuple(everything) == expected


def test_propagation_from_a_fixed_point_rereads_only_the_changed_rows() -> None:
    # Publishing one hidden cell and propagating from the earlier fixed point,
    # re-reading only that cell's rows, gives the bounds that propagating from the
    # labels gives (not the reasons: the earlier bounds were set before).
    p = grid([[3, 12, 4, 30], [25, 6, 40, 2], [11, 13, 2, 17]], zeros_small=True)
    system = build_system(p)
    rng = np.random.default_rng(2)
    for _ in range(10):
        hidden = p.primary | (p.usable_candidates() & (rng.random(p.size) < 0.6))
        lo, hi = p.hidden_bounds(hidden)
        lo, hi, _, _, _ = propagate_with_reasons(system, lo, hi)
        offered = np.flatnonzero(hidden & ~p.primary)
        if offered.shape[0] == 0:
            continue
        cell = int(offered[0])
        hidden[cell] = False
        start_lo, start_hi = p.hidden_bounds(hidden)
        scratch = propagate_with_reasons(system, start_lo, start_hi)
        changed = np.zeros(p.size, dtype=bool)
        changed[cell] = True
        again = propagate_with_reasons(
            system,
            np.maximum(start_lo, lo),
            np.minimum(start_hi, hi),
            changed=changed,
        )
        assert np.array_equal(scratch[0], again[0])
        assert np.array_equal(scratch[1], again[1])
        assert scratch[2] == again[2]
        nothing = propagate_with_reasons(
            system, lo, hi, changed=np.zeros(p.size, dtype=bool)
        )
        assert np.array_equal(nothing[0], lo) and np.array_equal(nothing[1], hi)


def test_find_unsafe_stops_at_a_published_small_cell() -> None:
    p = grid([[3, 12, 4], [25, 6, 40], [11, 13, 2]])
    hidden = p.primary.copy()
    hidden[0] = False  # a small count left published is unsafe at once
    unsafe, bounder = find_unsafe(p, hidden, stop_early=True)
    assert unsafe == [0]
    assert bounder.lp_solves == 0


def _brute_intervals(
    p: ProtectionProblem, hidden: np.ndarray
) -> dict[int, tuple[int, int]]:
    """Enumerate every whole-number 2 x 2 table consistent with what is published.

    Only the four body cells are free (the totals follow from them); each lies in
    its label range, capped by the published grand total.
    """
    body = np.array([0, 1, 3, 4])
    low, high = p.hidden_bounds(hidden)
    top = int(p.values[8])
    axes = [
        np.arange(int(low[c]), int(min(high[c], top)) + 1)
        if hidden[c]
        else np.array([int(p.values[c])])
        for c in body
    ]
    grid_ = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 4)
    x = np.zeros((grid_.shape[0], 9), dtype=np.int64)
    x[:, body] = grid_
    x[:, 2], x[:, 5] = x[:, 0] + x[:, 1], x[:, 3] + x[:, 4]
    x[:, 6], x[:, 7] = x[:, 0] + x[:, 3], x[:, 1] + x[:, 4]
    x[:, 8] = x[:, 2] + x[:, 5]
    ok = np.all(x >= low, axis=1) & np.all(x <= high, axis=1)
    ok &= np.all(x[:, ~hidden] == p.values[~hidden], axis=1)
    seen = x[ok]
    return {
        int(c): (int(seen[:, c].min()), int(seen[:, c].max()))
        for c in np.flatnonzero(hidden)
    }


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(
    body=st.lists(
        st.lists(st.integers(min_value=0, max_value=14), min_size=2, max_size=2),
        min_size=2,
        max_size=2,
    ),
    mask=st.lists(st.booleans(), min_size=9, max_size=9),
)
def test_intervals_equal_brute_force_enumeration(
    body: list[list[int]], mask: list[bool]
) -> None:
    p = grid(body, zeros_small=True)  # type: ignore[arg-type]
    hidden = p.primary | (p.usable_candidates() & np.array(mask))
    # The grand total is published, so every cell is at most it and the enumeration
    # is finite; at most three free body cells keep it small.
    assume(
        bool(hidden.any()) and not hidden[8] and int(hidden[[0, 1, 3, 4]].sum()) <= 3
    )
    result = audit(p, hidden)
    for cell, (lo, hi) in _brute_intervals(p, hidden).items():
        assert (result.lower[cell], result.upper[cell]) == (lo, hi), cell


def test_certificates_reproduce_the_bounds() -> None:
    from governance.sdc.cuts import CutBuilder

    p = grid([[3, 12, 4], [25, 6, 40], [11, 13, 2]], zeros_small=True)
    hidden = p.primary.copy()
    hidden[[1, 3, 5, 9, 11]] = True
    system = build_system(p)
    intruder = Intruder(p, system, hidden)
    builder = CutBuilder(p, system)
    for cell in np.flatnonzero(hidden):
        for side in (-1, 1):
            bound = intruder.bound(int(cell), side)
            if not np.isfinite(bound):
                continue
            slack, cells, mu = builder.reach(
                int(cell),
                1.0 if side < 0 else -1.0,
                intruder.certificate(int(cell), side),
            )
            reach = slack + float(np.sum(mu[hidden[cells]]))
            expected = p.values[cell] - reach if side < 0 else p.values[cell] + reach
            assert expected == pytest.approx(bound)


def two_way_bodies(max_rows: int) -> st.SearchStrategy[list[list[int]]]:
    """Bodies of small two-way tables: 2 to ``max_rows`` rows of 3 or 4 counts."""
    return st.lists(
        st.lists(st.integers(min_value=0, max_value=30), min_size=3, max_size=4),
        min_size=2,
        max_size=max_rows,
    ).filter(lambda rows: len({len(r) for r in rows}) == 1)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    body=two_way_bodies(max_rows=3),
    mask=st.lists(st.booleans(), min_size=20, max_size=20),
)
def test_leaf_space_bounds_equal_the_component_lps(
    body: list[list[int]], mask: list[bool]
) -> None:
    """The optional leaf-space column generation gives the same exact intervals."""
    from governance.sdc.leafspace import build_leaf_space

    p = grid(body)  # type: ignore[arg-type]
    hidden = p.primary | (p.usable_candidates() & np.array(mask[: p.size]))
    system = build_system(p)
    plain = audit(p, hidden, system=system)
    leafy = audit(p, hidden, system=system, leaves=build_leaf_space(p, system))
    assert np.array_equal(plain.lower, leafy.lower, equal_nan=True)
    assert np.array_equal(plain.upper, leafy.upper, equal_nan=True)
    assert plain.unsafe == leafy.unsafe
    unsafe, _ = find_unsafe(
        p, hidden, system=system, leaves=build_leaf_space(p, system)
    )
    assert tuple(unsafe) == plain.unsafe


def test_protect_with_leaf_space_is_safe_and_agrees_on_cost() -> None:
    from governance.sdc.suppress import protect

    p = grid([[3, 12, 4, 20], [25, 6, 40, 2], [11, 13, 2, 30]], zeros_small=True)
    with_leaves = protect(p, "fast", use_leaf_space=True)
    without = protect(p, "fast")
    assert audit(p, with_leaves.hidden).safe
    assert audit(p, without.hidden).safe
    assert with_leaves.objective == without.objective


#: Hypothesis settings for tests that patch the intruder inside a context only.
PATCHED = {
    "deadline": None,
    "suppress_health_check": [
        HealthCheck.too_slow,
        HealthCheck.function_scoped_fixture,
    ],
}
#: A two-way table with zeros small and a random set of complements hidden.
PATTERNED_GRIDS = given(
    body=two_way_bodies(max_rows=4),
    mask=st.lists(st.booleans(), min_size=25, max_size=25),
)


def patterned(
    body: list[list[int]], mask: list[bool]
) -> tuple[ProtectionProblem, np.ndarray]:
    p = grid(body, zeros_small=True)  # type: ignore[arg-type]
    return p, p.primary | (p.usable_candidates() & np.array(mask[: p.size]))


def audits_before_and_after(
    p: ProtectionProblem,
    hidden: np.ndarray,
    monkeypatch: pytest.MonkeyPatch,
    target: object,
    name: str,
    value: object,
) -> tuple[AuditResult, AuditResult]:
    """One pattern's audit (one share), then again with ``target.name = value``."""
    before = audit(p, hidden, shares=1)
    with monkeypatch.context() as patch:
        patch.setattr(target, name, value)
        after = audit(p, hidden, shares=1)
    return before, after


def assert_same_intervals(first: AuditResult, second: AuditResult) -> None:
    """Two audits of one pattern found the same intervals and unsafe cells."""
    assert np.allclose(first.lower, second.lower, equal_nan=True)
    assert np.allclose(first.upper, second.upper, equal_nan=True)
    assert first.unsafe == second.unsafe


@settings(max_examples=25, **PATCHED)  # type: ignore[arg-type]
@PATTERNED_GRIDS
def test_interior_point_start_gives_the_same_intervals(
    body: list[list[int]], mask: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Large components start with the interior point method; the bounds (and the
    warm re-solves from its crossover basis) are the same exact optima."""
    import governance.sdc.component_lp as lp_module

    p, hidden = patterned(body, mask)
    simplex, interior = audits_before_and_after(
        p, hidden, monkeypatch, lp_module, "IPM_FROM", 2
    )
    assume(interior.lp_solves > 0)  # some component had a model of its own
    assert_same_intervals(simplex, interior)


@settings(max_examples=25, **PATCHED)  # type: ignore[arg-type]
@PATTERNED_GRIDS
def test_starting_from_banked_bases_gives_the_same_intervals(
    body: list[list[int]], mask: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bound started from the banked basis that pushed its cell furthest is the
    same exact optimum as one started from the last basis."""
    import governance.sdc.component_lp as lp_module

    monkeypatch.setattr(lp_module, "BANK_FROM", 0)  # every component
    p, hidden = patterned(body, mask)
    banked, last = audits_before_and_after(
        p, hidden, monkeypatch, lp_module, "BASIS_BANK", False
    )
    assert_same_intervals(banked, last)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_basis_bank_restarts_and_sweeps_without_changing_a_bound(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On an 8x8 table with a third of its cells hidden the bank restarts solves
    from older bases, keeps within its memory, and every bound equals the one
    solved from the last basis."""
    import governance.sdc.component_lp as lp_module

    rng = np.random.default_rng(seed)
    p = grid(rng.poisson(8, size=(8, 8)).tolist(), zeros_small=True)
    hidden = p.primary | (rng.random(p.size) < 0.3)
    system = build_system(p)
    cells = [int(c) for c in np.flatnonzero(hidden)]

    def every_bound() -> tuple[list[float], list[object]]:
        intruder = Intruder(p, system, hidden)
        bounds = [intruder.bound(c, side) for c in cells for side in (-1, +1)]
        return bounds, [lp for lp in intruder._lps.values() if lp is not None]

    _, models = every_bound()  # components under BANK_FROM cells: no bank
    assert sum(lp.restarts for lp in models) == 0  # type: ignore[attr-defined]
    monkeypatch.setattr(lp_module, "BANK_FROM", 0)
    banked, models = every_bound()
    assert sum(lp.restarts for lp in models) > 0  # type: ignore[attr-defined]
    # a bank that holds 16 bases at most sweeps, and still gives the same bounds
    width = sum(lp.cells.shape[0] + lp.rows.shape[0] for lp in models)  # type: ignore[attr-defined]
    monkeypatch.setattr(lp_module, "BANK_BYTES", 16 * width)
    swept, models = every_bound()
    assert max(len(lp._bases) for lp in models) <= 16  # type: ignore[attr-defined]
    assert sum(lp.restarts for lp in models) > 0  # type: ignore[attr-defined]
    assert np.allclose(banked, swept, equal_nan=True)
    monkeypatch.setattr(lp_module, "BASIS_BANK", False)
    last, models = every_bound()
    assert sum(lp.restarts for lp in models) == 0  # type: ignore[attr-defined]
    assert np.allclose(banked, last, equal_nan=True)


def test_audit_memo_reuses_only_an_identical_audit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A whole-pack audit of the same problem and pattern is not run twice; any
    change to a value (a hidden one included), a bound, a relation or the pattern
    audits afresh."""
    import dataclasses

    import governance.sdc.audit_memo as attack_module
    from governance.sdc.audit_memo import AuditMemo, problem_digest
    from governance.sdc.problem import Relation

    p = grid([[3, 12, 4], [25, 6, 40], [11, 13, 2]], zeros_small=True)
    hidden = p.primary.copy()
    hidden[[1, 3, 5, 9]] = True
    runs: list[int] = []
    real = audit  # what the memo module calls until patched below

    def counted(
        problem: ProtectionProblem, pattern: np.ndarray, **options: object
    ) -> object:
        runs.append(1)
        return real(problem, pattern, **options)  # type: ignore[arg-type]

    checked: list[int] = []

    def witnesses(system: object) -> list[Change]:
        checked.append(1)  # tables are checked only when the audit runs
        return []

    monkeypatch.setattr(attack_module, "audit", counted)
    memo = AuditMemo(size=2)
    first = memo.audit(p, hidden, witnesses)
    assert memo.audit(p, hidden.copy(), witnesses) is first and len(runs) == 1
    assert len(checked) == 1

    values = p.values.copy()
    values[int(np.flatnonzero(hidden)[0])] += 1  # a hidden cell's value only
    changed = [
        dataclasses.replace(p, values=values),
        dataclasses.replace(p, primary_upper=p.primary_upper + 1),
        dataclasses.replace(p, protection=p.protection * 2),
        dataclasses.replace(p, relations=p.relations[:-1]),
        dataclasses.replace(
            p, relations=(*p.relations[:-1], Relation(p.relations[-1].total, ()))
        ),
        dataclasses.replace(p, integral=False),
    ]
    key = problem_digest(p, hidden)
    for other in changed:
        assert problem_digest(other, hidden) != key
    other_pattern = hidden.copy()
    other_pattern[np.flatnonzero(~hidden)[0]] = True
    assert problem_digest(p, other_pattern) != key
    memo.audit(p, other_pattern)
    assert len(runs) == 2
    assert not first.lower.flags.writeable  # shared results cannot be changed


def _without_classes(self: object) -> None:
    """``Intruder._link`` that ties no cells: every bound from its own LP."""
    n = self.problem.size  # type: ignore[attr-defined]
    self._root = np.arange(n, dtype=np.int64)  # type: ignore[attr-defined]
    self._scale = np.ones(n)  # type: ignore[attr-defined]
    self._offset = np.zeros(n)  # type: ignore[attr-defined]
    self._members = {}  # type: ignore[attr-defined]


@settings(max_examples=40, **PATCHED)  # type: ignore[arg-type]
@PATTERNED_GRIDS
def test_cells_tied_by_a_two_unknown_row_get_the_images_of_each_other_s_bounds(
    body: list[list[int]], mask: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A row with two hidden cells makes one an affine function of the other, so
    one cell's exact bounds give the other's: the intervals are those of solving
    every cell's own LP, with no more LPs."""
    p, hidden = patterned(body, mask)
    tied, alone = audits_before_and_after(
        p, hidden, monkeypatch, Intruder, "_link", _without_classes
    )
    assert_same_intervals(tied, alone)
    assert tied.lp_solves <= alone.lp_solves


def test_a_cell_tied_to_another_needs_no_lp_of_its_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Four small cells in a 2x2 block, every other cell published: each row and
    column ties two of them (x1 = 7 - x0, x4 = 10 - x0, x5 = 3 + x0 on every table),
    so once one bound is known the others are its images, with no LP of their own.
    """
    p = grid([[3, 4, 20], [7, 6, 30]], zeros_small=True)
    hidden = p.primary.copy()
    assert np.flatnonzero(hidden).tolist() == [0, 1, 4, 5]
    system = build_system(p)

    def bounds(intruder: Intruder) -> tuple[list[float], int]:
        first = intruder.bound(0, +1)  # x0 <= 6 (else x5 = 3 + x0 > 9)
        solved = intruder.lp_solves
        rest = [intruder.bound(1, -1), intruder.bound(4, -1)]
        return [first, *rest], intruder.lp_solves - solved

    tied, extra = bounds(Intruder(p, system, hidden))
    assert tied == pytest.approx([6, 1, 4])
    assert extra == 0
    with monkeypatch.context() as patch:
        patch.setattr(Intruder, "_link", _without_classes)
        alone, extra_alone = bounds(Intruder(p, system, hidden))
    assert alone == pytest.approx(tied)
    assert extra_alone > 0
