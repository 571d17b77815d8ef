"""Least-cost moves: tables the intruder cannot rule out, and the cells they open.

A move is only useful if it is honest: applied to the true table it keeps every
relation, keeps every hidden cell within its label's bounds, moves no published cell
except those it names as opened (and only cells that may be hidden), and once those
are hidden the exact audit agrees that the cell reaches as far as the move says.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from governance.sdc import moves as moves_module
from governance.sdc.attack import audit
from governance.sdc.highs import Model
from governance.sdc.linear import build_system
from governance.sdc.moves import OPEN_COST, Move, Mover
from governance.sdc.problem import ProtectionProblem
from tests.unit.test_sdc_attack import grid


def _check_move(
    p: ProtectionProblem, hidden: np.ndarray, cell: int, amount: float
) -> bool:
    """Apply the move for ``cell``; assert it is honest. False when there is none."""
    system = build_system(p)
    move = Mover(p, system, hidden).move(cell, amount)
    if move is None:
        # Not even with every cell that may be hidden hidden can it move that far.
        everything = hidden | p.usable_candidates()
        result = audit(p, everything, system=system)
        reach = result.upper[cell] if amount > 0 else result.lower[cell]
        assert (reach - p.values[cell]) * np.sign(amount) < abs(amount) - 1e-9
        return False
    table = p.values.copy()
    table[move.change.cells] += move.change.delta
    assert np.allclose(system.activity(table), system.activity(p.values))
    assert np.isclose(table[cell], p.values[cell] + amount)
    opened = np.zeros(p.size, dtype=bool)
    opened[move.opened] = True
    assert not np.any(opened & hidden)
    assert np.all(p.usable_candidates()[move.opened])
    moved = np.zeros(p.size, dtype=bool)
    moved[move.change.cells] = True
    assert not np.any(moved & ~hidden & ~opened)
    low, high = p.hidden_bounds(hidden | opened)
    assert np.all(table >= low - 1e-9) and np.all(table <= high + 1e-9)
    result = audit(p, hidden | opened, system=system)
    reach = result.upper[cell] if amount > 0 else result.lower[cell]
    assert (reach - p.values[cell]) * np.sign(amount) >= abs(amount) - 1e-9
    return True


def test_a_lone_small_cell_opens_the_cheapest_rectangle() -> None:
    p = grid([[4, 20, 30], [25, 12, 40]])
    cell = 0  # the 4: alone in its row and column, so pinned
    assert _check_move(p, p.primary.copy(), cell, 3.0)
    move = Mover(p, build_system(p), p.primary.copy()).move(cell, 3.0)
    assert move is not None
    # a cell of its row, one of its column and the one opposite: a 2 x 2 rectangle
    # (which one is a tie; the same run always picks the same)
    assert move.opened.shape[0] == 3


def test_cells_already_hidden_move_at_no_opening() -> None:
    p = grid([[4, 20, 30], [25, 12, 40]])
    hidden = p.primary.copy()
    hidden[[1, 4, 5]] = True
    move = Mover(p, build_system(p), hidden).move(0, 3.0)
    assert move is not None and move.opened.shape[0] == 0


def test_no_move_past_the_label_or_without_room() -> None:
    p = grid([[4, 20, 30], [25, 12, 40]])
    mover = Mover(p, build_system(p), p.primary.copy())
    assert mover.move(0, 6.0) is None  # 4 + 6 is past "<10"
    assert mover.move(1, 1.0) is None  # a published cell is not moved


def test_a_pattern_change_only_changes_bounds() -> None:
    p = grid([[4, 20, 30], [25, 12, 40]])
    system = build_system(p)
    mover = Mover(p, system, p.primary.copy())
    first = mover.move(0, 3.0)
    hidden = p.primary.copy()
    hidden[[1, 4, 5]] = True
    mover.sync(hidden)
    again = mover.move(0, 3.0)
    mover.sync(p.primary.copy())
    third = mover.move(0, 3.0)
    assert first is not None and again is not None and third is not None
    assert again.opened.shape[0] == 0
    assert first.opened.shape[0] == third.opened.shape[0] == 3


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    st.lists(
        st.lists(st.integers(min_value=0, max_value=40), min_size=3, max_size=4),
        min_size=2,
        max_size=3,
    ).filter(lambda rows: len({len(r) for r in rows}) == 1),
    st.integers(min_value=0, max_value=10_000),
    st.sampled_from([-3.0, -1.0, 1.0, 2.0, 3.0]),
)
def test_every_move_is_a_table_the_audit_agrees_with(
    body: list[list[int]], pick: int, amount: float
) -> None:
    p = grid(body, zeros_small=True)  # type: ignore[arg-type]
    small = np.flatnonzero(p.primary)
    if small.shape[0] == 0:
        return
    cell = int(small[pick % small.shape[0]])
    _check_move(p, p.primary.copy(), cell, amount)


def _cost(p: ProtectionProblem, hidden: np.ndarray, move: Move) -> float:
    """What the move model minimises: a unit per unit a hidden cell moves, and
    ``OPEN_COST`` times the suppression cost per unit a published one does."""
    cells, delta = move.change.cells, move.change.delta
    price = np.where(hidden[cells], 1.0, OPEN_COST * np.maximum(p.cost[cells], 1e-3))
    return float(np.sum(price * np.abs(delta)))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_moves_in_turn_on_one_model_are_least_cost_whatever_the_start(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Moves made one after another on one model, each from the slack basis or
    each from the last move's basis, cost what the same move costs on a model of
    its own, and keep every relation."""
    rng = np.random.default_rng(seed)
    p = grid(rng.poisson(7, size=(6, 6)).tolist(), zeros_small=True)
    hidden = p.primary.copy()
    system = build_system(p)
    cells = [int(c) for c in np.flatnonzero(hidden)][:12]
    alone = [Mover(p, system, hidden).move(c, 3.0) for c in cells]

    def in_turn() -> list[Move | None]:
        mover = Mover(p, system, hidden)
        return [mover.move(c, 3.0) for c in cells]

    starts: list[int] = []
    slack_start = Model.set_slack_basis

    def counted(self: Model) -> None:
        starts.append(1)
        slack_start(self)

    monkeypatch.setattr(Model, "set_slack_basis", counted)
    from_slack = in_turn()
    slack_starts = len(starts)
    assert slack_starts >= 3
    monkeypatch.setattr(moves_module, "SLACK_START", False)
    from_last = in_turn()
    assert len(starts) == slack_starts  # each from the last move's basis
    assert sum(m is not None for m in alone) >= 3
    for one, slack, last in zip(alone, from_slack, from_last, strict=True):
        assert (one is None) == (slack is None) == (last is None)
        if one is None or slack is None or last is None:
            continue
        assert _cost(p, hidden, slack) == pytest.approx(_cost(p, hidden, one))
        assert _cost(p, hidden, last) == pytest.approx(_cost(p, hidden, one))
        table = p.values.copy()
        table[slack.change.cells] += slack.change.delta
        assert np.allclose(system.activity(table), system.activity(p.values))
