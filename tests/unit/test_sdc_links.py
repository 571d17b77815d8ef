"""Links across tables, zeros rules per table, and the engine's bounded effort.

A band table of staff on AfC pay adds up, row by row, from a staff-group table: the
two are one linked set with those sums as links, so an intruder's subtraction of
one from the other is part of the model the methods protect against.
"""

from __future__ import annotations

import numpy as np
import pytest

from governance.errors import DisclosureError, TableError
from governance.sdc import attack
from governance.sdc.attack import audit
from governance.sdc.clear import build_problem
from governance.sdc.linked import Link, LinkedSet
from governance.sdc.policy import DisclosurePolicy, policy_from_mapping
from governance.sdc.primary import Reason, find_primary
from governance.sdc.problem import ProtectionProblem
from governance.sdc.suppress import protect
from governance.sdc.table import Dimension, InputCell, Table

BODY = Dimension("body", "Wales", {"Wales": ["A", "B", "C"]})
GROUP = Dimension("staff_group", "All", {"All": ["03", "08", "09"]})
FLAG = Dimension("clinical", "All", {"All": ["clinical", "non-clinical"]})
BAND = Dimension("pay_band", "All", {"All": ["3", "5", "8a"]})

PIN = (("pay_scale", "AfC"),)


def table(name: str, dims: list[Dimension], cells: dict[tuple[str, ...], int]) -> Table:
    return Table.from_cells(
        name, dims, [InputCell(k, float(v)) for k, v in cells.items()]
    )


def groups(counts: dict[str, tuple[int, int, int]]) -> Table:
    """Staff by body and staff group: ``{body: (03, 08, 09)}``."""
    cells: dict[tuple[str, ...], int] = {
        (body, group): n
        for body, row in counts.items()
        for group, n in zip(GROUP.leaves, row, strict=True)
    }
    return table("groups", [BODY, GROUP], cells)


def bands(counts: dict[tuple[str, str], tuple[int, int, int]]) -> Table:
    """Staff on AfC pay by body, clinical flag and band: ``{(body, flag): bands}``."""
    cells: dict[tuple[str, ...], int] = {
        (body, flag, band): n
        for (body, flag), row in counts.items()
        for band, n in zip(BAND.leaves, row, strict=True)
    }
    return table("bands", [BODY, FLAG, BAND], cells)


def links(bodies: list[str]) -> list[Link]:
    """Each body's clinical row is group 03; its non-clinical row 08 and 09."""
    out = []
    for body in bodies:
        out.append(
            Link(
                tuple(sorted((("body", body), ("clinical", "clinical"), *PIN))),
                ((("body", body), ("staff_group", "03")),),
            )
        )
        out.append(
            Link(
                tuple(sorted((("body", body), ("clinical", "non-clinical"), *PIN))),
                tuple((("body", body), ("staff_group", g)) for g in ("08", "09")),
            )
        )
    return out


STAFF = {"A": (40, 25, 14), "B": (31, 22, 15), "C": (18, 0, 0)}
AFC = {
    ("A", "clinical"): (12, 20, 8),
    ("A", "non-clinical"): (30, 6, 3),
    ("B", "clinical"): (11, 13, 7),
    ("B", "non-clinical"): (25, 9, 3),
    ("C", "clinical"): (4, 12, 2),
    ("C", "non-clinical"): (0, 0, 0),
}


def linked(afc: dict[tuple[str, str], tuple[int, int, int]] = AFC) -> LinkedSet:
    return LinkedSet(
        [groups(STAFF), bands(afc)],
        fixed={"bands": dict(PIN)},
        links=links(["A", "B", "C"]),
    )


def rules(**primary: object) -> DisclosurePolicy:
    data = {
        "id": "links",
        "version": 1,
        "disclosure": {"primary": {"threshold": {"min_count": 10}, **primary}},
    }
    return policy_from_mapping(data, source="test").disclosure


def test_a_link_is_a_relation_between_cells_of_two_tables() -> None:
    s = linked()
    total = s.index_of({"body": "A", "clinical": "non-clinical", "pay_scale": "AfC"})
    parts = {s.index_of({"body": "A", "staff_group": g}) for g in ("08", "09")}
    assert any(r.total == total and set(r.children) == parts for r in s.relations())
    # the band table's grand total is not the staff total: the pin keeps it apart
    assert s.index_of({"pay_scale": "AfC"}) != s.index_of({})
    for relation in s.relations():
        assert s.counts[relation.total] == s.counts[list(relation.children)].sum()


def test_links_are_checked() -> None:
    wrong = dict(AFC)
    wrong[("A", "clinical")] = (12, 20, 9)  # 41 on AfC pay, 40 in group 03
    with pytest.raises(TableError, match=r"\(body=A, clinical=clinical, pay_scale"):
        linked(wrong)
    with pytest.raises(TableError, match="not in the set"):
        LinkedSet(
            [groups(STAFF)],
            links=[Link((("body", "A"),), ((("body", "Z"),),))],
        )
    with pytest.raises(TableError, match="distinct parts"):
        LinkedSet([groups(STAFF)], links=[Link((("body", "A"),), ((("body", "A"),),))])


def test_zeros_follow_their_own_table_s_rule() -> None:
    s = linked()
    policy = rules(zeros="publish", zeros_by_table={"bands": "small"})
    primary = find_primary(s, policy)
    band_zero = s.index_of(
        {"body": "A", "clinical": "clinical", "pay_band": "3", "pay_scale": "AfC"}
    )
    assert s.counts[band_zero] != 0  # a non-zero for contrast
    zero_b = s.index_of(
        {"body": "C", "clinical": "clinical", "pay_band": "8a", "pay_scale": "AfC"}
    )
    # 2 staff: small in any table; its label means 0..9 in the bands table
    assert primary.primary[zero_b] and primary.lower[zero_b] == 0.0
    # a small count of the groups table keeps the 1..9 label
    small_group = s.index_of({"body": "C", "staff_group": "08"})
    assert s.counts[small_group] == 0 and not primary.primary[small_group]
    # the same rules with the table not named: zeros are published everywhere
    plain = find_primary(s, rules(zeros="publish"))
    assert plain.lower[zero_b] == 1.0


def test_a_zero_other_tables_give_away_is_published() -> None:
    s = linked()
    primary = find_primary(s, rules(zeros="publish", zeros_by_table={"bands": "small"}))
    # C has nobody in groups 08 and 09 (published zeros), so its non-clinical AfC
    # row and every band of it are zero for anyone to work out
    for band in BAND.codes:
        cell = s.index_of(
            {"body": "C", "clinical": "non-clinical", "pay_band": band, "pay_scale": "AfC"}
        )  # fmt: skip
        assert s.counts[cell] == 0 and not primary.primary[cell]
    # a zero nothing gives away is a small count in the bands table
    other = table(
        "bands",
        [BODY, FLAG, BAND],
        {("A", "clinical", "3"): 0, ("A", "clinical", "5"): 40},
    )
    alone = LinkedSet([other])
    lone = find_primary(alone, rules(zeros_by_table={"bands": "small"}))
    zero = alone.index_of({"body": "A", "clinical": "clinical", "pay_band": "3"})
    assert lone.reason[zero] == Reason.ZERO


def test_a_shared_cell_follows_the_most_protective_rule() -> None:
    ethnic = Dimension("ethnic", "All", {"All": ["W", "M"]})
    band = Dimension("band", "All", {"All": ["5", "6"]})
    a = table("a", [ethnic], {("W",): 30, ("M",): 0})
    b = table("b", [ethnic, band], {("W", "5"): 20, ("W", "6"): 10})
    s = LinkedSet([a, b])
    shared = s.index_of({"ethnic": "M"})  # a's cell, b's band total
    in_b = s.index_of({"ethnic": "M", "band": "5"})
    primary = find_primary(s, rules(zeros="publish", zeros_by_table={"b": "small"}))
    assert primary.primary[shared] and primary.primary[in_b]
    assert primary.lower[shared] == 0.0
    # with b's zeros published, its zero parts give the shared zero away
    primary = find_primary(s, rules(zeros="publish", zeros_by_table={"a": "small"}))
    assert not primary.primary[shared] and not primary.primary[in_b]


def problem_of(s: LinkedSet, policy: DisclosurePolicy) -> ProtectionProblem:
    return build_problem(s, policy, find_primary(s, policy))


def test_protection_covers_the_links() -> None:
    s = linked()
    policy = rules(zeros="publish", zeros_by_table={"bands": "small"})
    problem = problem_of(s, policy)
    result = protect(problem, "fast")
    report = audit(problem, result.hidden)
    assert report.safe, [s.describe(i) for i in report.unsafe]
    # the links are rows of the model the method and the audit share
    assert (
        len(problem.relations)
        == len(s.relations())
        > len(
            LinkedSet(
                [groups(STAFF), bands(AFC)], fixed={"bands": dict(PIN)}
            ).relations()
        )
    )


def test_a_pruning_budget_leaves_more_hidden_never_an_unsafe_cell() -> None:
    rng = np.random.default_rng(7)
    rows = rng.poisson(6, size=(6, 5)).tolist()
    body = Dimension("r", "T", {"T": [f"r{i}" for i in range(6)]})
    col = Dimension("c", "T", {"T": [f"c{j}" for j in range(5)]})
    cells: dict[tuple[str, ...], int] = {
        (f"r{i}", f"c{j}"): int(rows[i][j]) + (30 if (i + j) % 3 == 0 else 0)
        for i in range(6)
        for j in range(5)
    }
    s = LinkedSet([table("t", [body, col], cells)])
    problem = problem_of(s, rules())
    full = protect(problem, "fast", prune_lps=None)
    bounded = protect(problem, "fast", prune_lps=0)
    again = protect(problem, "fast", prune_lps=0)
    assert np.array_equal(bounded.hidden, again.hidden)  # counted, not timed
    for result in (full, bounded):
        assert audit(problem, result.hidden).safe
    assert int(bounded.hidden.sum()) >= int(problem.primary.sum())


def test_the_audit_gives_the_same_intervals_on_several_threads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(attack, "PARALLEL_FROM", 1)
    s = linked()
    policy = rules(zeros="publish", zeros_by_table={"bands": "small"})
    problem = problem_of(s, policy)
    hidden = protect(problem, "fast").hidden
    one = audit(problem, hidden, shares=1)
    two = audit(problem, hidden, shares=2)
    assert one.unsafe == two.unsafe == ()
    assert np.array_equal(one.lower, two.lower, equal_nan=True)
    assert np.array_equal(one.upper, two.upper, equal_nan=True)
    assert audit(problem, hidden, shares=2).lp_solves == two.lp_solves


def test_a_cell_no_pattern_can_protect_is_refused_at_once() -> None:
    # nine bodies with 1 each and a Wales total of 9: with zeros published each
    # `<10` is at least 1, so every body cell is exactly 1 whatever is hidden
    nine = Dimension("body", "Wales", {"Wales": [f"b{i}" for i in range(9)]})
    flag = Dimension("band", "All", {"All": ["9", "8a"]})
    cells: dict[tuple[str, ...], int] = {(f"b{i}", "9"): 1 for i in range(9)}
    cells |= {(f"b{i}", "8a"): 40 + i for i in range(9)}
    s = LinkedSet([table("t", [nine, flag], cells)])
    with pytest.raises(DisclosureError, match="cannot be protected"):
        protect(problem_of(s, rules(zeros="publish")), "fast")
    # treating zeros as small lets each be 0..9, and the table clears
    problem = problem_of(s, rules(zeros="small"))
    assert audit(problem, protect(problem, "fast").hidden).safe
