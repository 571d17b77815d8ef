"""Packs: linked sets of several populations, derived values across them, and the
whole-pack audit that knows what joins them."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from governance.errors import DisclosureError, TableError
from governance.sdc.clear import apply
from governance.sdc.evidence import evidence_of, evidence_text
from governance.sdc.linked import LinkedSet
from governance.sdc.pack import (
    ClearedPack,
    Component,
    CrossLikelihood,
    CrossRate,
    PackCell,
    PackEvidence,
    Subset,
    apply_pack,
    hidden_mask,
)
from governance.sdc.policy import load_policy
from governance.sdc.table import Dimension, InputCell, Table

POLICY = load_policy("wres-wales")
BODY = Dimension("body", "Wales", {"Wales": ["A", "B", "C"]})
GROUP = Dimension("group", "All", {"All": ["White", "EM", "NS"]})
SUB = Dimension("sub", "All", {"All": ["S1", "S2"]})


def table(name: str, counts: dict[tuple[str, ...], int], *dims: Dimension) -> Table:
    cells = [InputCell(codes, float(n)) for codes, n in counts.items()]
    return Table.from_cells(name, list(dims or (BODY, GROUP)), cells)


def grid(values: list[list[int]]) -> dict[tuple[str, ...], int]:
    return {
        (body, group): values[b][g]
        for b, body in enumerate(BODY.leaves)
        for g, group in enumerate(GROUP.leaves)
    }


STAFF = grid([[400, 60, 30], [300, 45, 25], [200, 8, 20]])
CASES = grid([[20, 12, 3], [15, 10, 12], [11, 0, 11]])


def cell(table_name: str, body: str, group: str) -> PackCell:
    pairs = [("body", body), ("group", group)]
    return PackCell(
        table_name,
        tuple(sorted((d, c) for d, c in pairs if c not in {"Wales", "All"})),
    )


def likelihoods() -> list[CrossRate | CrossLikelihood]:
    out: list[CrossRate | CrossLikelihood] = []
    for body in ("Wales", *BODY.leaves):
        out.append(CrossRate(f"rate/EM/{body}", *(cell(t, body, "EM") for t in "ES")))
        out.append(
            CrossLikelihood(
                f"rl/{body}",
                cell("E", body, "EM"),
                cell("S", body, "EM"),
                cell("E", body, "White"),
                cell("S", body, "White"),
            )
        )
    return out


def two_populations(
    staff: dict[tuple[str, ...], int], cases: dict[tuple[str, ...], int]
) -> list[Component]:
    return [
        Component(LinkedSet([table("S", staff)])),
        Component(LinkedSet([table("E", cases)])),
    ]


def full_pack() -> ClearedPack:
    return apply_pack(
        two_populations(STAFF, CASES),
        POLICY,
        cross=likelihoods(),
        subsets=[Subset("E", "S")],
        method="fast",
    )


def test_a_pack_clears_each_population_and_derives_across_them() -> None:
    pack = full_pack()
    assert [t.name for t in pack.tables] == ["S", "E"]
    assert len(pack.sets) == 2
    shown = {d.name: d for d in pack.derived}
    # body C: 8 ethnic minority staff -> <10, so its rate and likelihood are hidden
    assert pack.table("S").cell("C", "EM").display == "<10"
    assert (shown["rate/EM/C"].display, shown["rate/EM/C"].status) == (
        "[c]",
        "suppressed",
    )
    assert shown["rl/C"].display == "[c]"
    # where all four counts are published, so is the likelihood, with its interval
    open_bodies = [
        body
        for body in ("Wales", *BODY.leaves)
        if all(
            pack.table(t).cell(body, g).status == "published"
            for t in "ES"
            for g in ("EM", "White")
        )
    ]
    assert "Wales" in open_bodies and "C" not in open_bodies
    for body in ("Wales", *BODY.leaves):
        assert (shown[f"rl/{body}"].status == "published") == (body in open_bodies)
    # Wales: (12 + 10 + 0) / (60 + 45 + 8) over (20 + 15 + 11) / (400 + 300 + 200)
    assert shown["rl/Wales"].display == "3.81"
    assert shown["rl/Wales"].interval_display is not None
    assert shown["rate/EM/Wales"].display == "19.5"
    ev = pack.evidence
    assert isinstance(ev, PackEvidence) and ev.unsafe == ()
    assert ev.subset_facts == 16  # every cell of E, totals included
    assert ev.cells == 32 and ev.primary == sum(s.evidence.primary for s in pack.sets)


def test_no_derived_value_is_published_over_a_hidden_count() -> None:
    pack = apply_pack(
        two_populations(STAFF, CASES), POLICY, cross=likelihoods(), method="fast"
    )
    for spec in likelihoods():
        refs = (
            [spec.events, spec.population]
            if isinstance(spec, CrossRate)
            else [spec.events_a, spec.population_a, spec.events_b, spec.population_b]
        )
        statuses = [
            pack.table(r.table)
            .cell(
                *(
                    dict(r.cell).get(d, t)
                    for d, t in (("body", "Wales"), ("group", "All"))
                )
            )
            .status
            for r in refs
        ]
        value = next(d for d in pack.derived if d.name == spec.name)
        if any(s != "published" for s in statuses):
            assert value.status in {"suppressed", "not_computable"}
            assert value.value is None


def test_zero_denominators_and_zero_rates_are_not_computable() -> None:
    staff = grid([[400, 0, 30], [300, 45, 25], [200, 40, 20]])
    cases = grid([[20, 0, 3], [0, 0, 0], [11, 12, 1]])
    pack = apply_pack(
        two_populations(staff, cases), POLICY, cross=likelihoods(), method="fast"
    )
    shown = {d.name: d for d in pack.derived}
    assert shown["rate/EM/A"].display == "[z]"  # nobody in the group
    assert shown["rl/B"].display == "[z]"  # no events in either group
    assert shown["rate/EM/B"].display == "0.0"


def test_the_whole_pack_audit_uses_what_joins_the_populations() -> None:
    # Alone, W hides b (3) with a as complement: b lies in 1..9. But E is a subset
    # of W, and E publishes a = 57: then b = 60 - W(a) <= 3, narrower than 3 wide.
    dim = Dimension("g", "All", {"All": ["a", "b"]})
    whole = table("W", {("a",): 57, ("b",): 3}, dim)
    part = table("E", {("a",): 57, ("b",): 0}, dim)
    components = [Component(LinkedSet([whole])), Component(LinkedSet([part]))]
    alone = apply_pack(components, POLICY, method="fast")
    assert alone.table("W").cell("b").display == "<10"
    assert alone.table("E").cell("a").display == "57"
    with pytest.raises(DisclosureError, match="whole-pack audit found 1 cells"):
        apply_pack(components, POLICY, subsets=[Subset("E", "W")], method="fast")


def test_the_evidence_states_the_whole_pack_intruder_s_intervals() -> None:
    # Alone, W hides b (5) and a (20) under a published total of 25: b in 1..9 and
    # a in 16..24. E is a subset of W and publishes a = 18, so a >= 18 and b <= 7.
    dim = Dimension("g", "All", {"All": ["a", "b"]})
    whole = table("W", {("a",): 20, ("b",): 5}, dim)
    part = table("E", {("a",): 18, ("b",): 0}, dim)
    components = [Component(LinkedSet([whole])), Component(LinkedSet([part]))]

    def intervals(pack: ClearedPack) -> dict[str, tuple[float, float]]:
        return {
            h.cell["g"]: (h.lower, h.upper)
            for h in pack.sets[0].evidence.hidden
            if "g" in h.cell
        }

    alone = apply_pack(components, POLICY, method="fast")
    assert intervals(alone) == {"a": (16, 24), "b": (1, 9)}
    linked = apply_pack(components, POLICY, subsets=[Subset("E", "W")], method="fast")
    assert intervals(linked) == {"a": (18, 24), "b": (1, 7)}
    assert linked.sets[0].digest == alone.sets[0].digest  # nothing published changed


def test_the_pack_audit_takes_each_set_s_tables_and_changes_no_interval(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each set's tables, checked against the pack's links and subsets, spare the
    whole-pack audit LPs; the intervals are those of an audit from scratch."""
    import governance.sdc.pack as pack_module
    from governance.sdc.audit_memo import AuditMemo
    from governance.sdc.pool import feasible

    kept: list[int] = []
    real = feasible  # what the pack module calls until patched below

    def counted(*args: object) -> object:
        tables = real(*args)  # type: ignore[arg-type]
        kept.append(len(tables))
        return tables

    def cleared() -> ClearedPack:
        monkeypatch.setattr(pack_module, "_AUDITS", AuditMemo())  # no earlier result
        return apply_pack(
            two_populations(STAFF, CASES), POLICY, subsets=[Subset("E", "S")],
            method="fast",
        )  # fmt: skip

    monkeypatch.setattr(pack_module, "feasible", counted)
    with_tables = cleared()
    assert kept and kept[0] > 0
    monkeypatch.setattr(pack_module, "feasible", lambda *args: [])
    scratch = cleared()
    assert with_tables.digest == scratch.digest
    for ours, theirs in zip(with_tables.sets, scratch.sets, strict=True):
        assert ours.evidence.hidden == theirs.evidence.hidden  # cells and intervals
    assert with_tables.evidence.lp_solves <= scratch.evidence.lp_solves


def test_a_given_pattern_is_audited_not_trusted() -> None:
    components = two_populations(STAFF, CASES)
    first = apply_pack(components, POLICY, method="fast")
    masks = [
        hidden_mask(c.linked, s.tables)
        for c, s in zip(components, first.sets, strict=True)
    ]
    again = apply_pack(components, POLICY, method="fast", patterns=masks)
    assert again.digest == first.digest
    assert all(s.evidence.method_used == "given pattern" for s in again.sets)
    # only the primary cells: body C's <10 lies open to subtraction from the totals
    bare = [np.zeros_like(m) for m in masks]
    with pytest.raises(DisclosureError):
        apply_pack(components, POLICY, method="fast", patterns=bare)
    with pytest.raises(TableError, match="one pattern"):
        apply_pack(components, POLICY, patterns=masks[:1])


def test_packs_are_refused_when_malformed() -> None:
    with pytest.raises(TableError, match="at least one"):
        apply_pack([], POLICY)
    same = Component(LinkedSet([table("S", STAFF)]))
    with pytest.raises(TableError, match="in two linked sets"):
        apply_pack([same, same], POLICY)
    other = Component(
        LinkedSet(
            [
                table(
                    "X",
                    {(b, s): 20 for b in BODY.leaves for s in SUB.leaves},
                    BODY,
                    SUB,
                )
            ]
        )
    )
    with pytest.raises(TableError, match="is not in both"):
        apply_pack([same, other], POLICY, subsets=[Subset("S", "X")], method="fast")
    with pytest.raises(TableError, match="no table 'Q'"):
        apply_pack([same], POLICY, subsets=[Subset("Q", "S")], method="fast")
    # one audit stands in for every set's own: it must read every set's labels alike
    fte = Table.from_cells(
        "F",
        [BODY],
        [InputCell((b,), 12.0, 11.5, (1.0, 1.0)) for b in BODY.leaves],
        measure="fte",
    )
    with pytest.raises(TableError, match="all be counts or all magnitudes"):
        apply_pack([same, Component(LinkedSet([fte]))], POLICY, method="fast")
    with pytest.raises(TypeError, match="only be built by apply_pack"):
        ClearedPack(sets=(), cross=(), evidence=None, token=object())  # type: ignore[arg-type]


def test_the_evidence_never_holds_a_hidden_value() -> None:
    pack = full_pack()
    text = evidence_text(pack)
    data = json.loads(text)
    assert data["format"] == "wresgov-pack-evidence/1"
    assert data["whole_pack_audit"]["safe"] is True
    assert data == evidence_of(pack)
    assert [s["tables"][0]["name"] for s in data["linked_sets"]] == ["S", "E"]
    hidden_values = {
        str(n) for counts in (STAFF, CASES) for n in counts.values() if 0 < n < 10
    }
    shown = {d["display"] for d in data["cross_derived"]}
    assert not hidden_values & shown
    single = apply(LinkedSet([table("S", STAFF)]), POLICY)
    assert json.loads(evidence_text(single))["format"] == "wresgov-evidence/1"


def test_fixed_codes_link_a_restricted_table_to_its_population() -> None:
    group = Dimension("staff_group", "All", {"All": ["01", "02"]})
    by_group = table(
        "G",
        {
            (b, sg, g): n
            for b in BODY.leaves
            for sg, n0 in (("01", 20), ("02", 40))
            for g, n in zip(GROUP.leaves, (n0, n0 // 2, 5), strict=True)
        },
        BODY,
        group,
        GROUP,
    )
    medical = table(
        "M",
        {
            (b, s, g): n
            for b in BODY.leaves
            for s, split in (("S1", (12, 6, 3)), ("S2", (8, 4, 2)))
            for g, n in zip(GROUP.leaves, split, strict=True)
        },
        BODY,
        SUB,
        GROUP,
    )
    linked = LinkedSet([by_group, medical], fixed={"M": {"staff_group": "01"}})
    # M's totals are G's staff group 01 cells: one variable each
    m = linked.table("M")
    where = tuple(
        d.index(c) for d, c in zip(m.dimensions, ("A", "All", "EM"), strict=True)
    )
    assert linked.index_of({"body": "A", "staff_group": "01", "group": "EM"}) == int(
        linked.positions["M"][where]
    )
    assert linked.key({"staff_group": "01", "sub": "All"}) == (("staff_group", "01"),)
    wrong = table(
        "M",
        {(b, s, g): 1 for b in BODY.leaves for s in SUB.leaves for g in GROUP.leaves},
        BODY,
        SUB,
        GROUP,
    )
    with pytest.raises(TableError, match="differs from the same cell"):
        LinkedSet([by_group, wrong], fixed={"M": {"staff_group": "01"}})
    with pytest.raises(TableError, match="cannot be fixed"):
        LinkedSet([by_group], fixed={"G": {"staff_group": "01"}})
    with pytest.raises(TableError, match="is its total"):
        LinkedSet([by_group, medical], fixed={"M": {"staff_group": "All"}})
    with pytest.raises(TableError, match="not in the set"):
        LinkedSet([by_group], fixed={"Z": {"staff_group": "01"}})
    alone = LinkedSet([medical], fixed={"M": {"staff_group": "01"}})
    assert alone.key({"staff_group": "01"}) == (("staff_group", "01"),)
    with pytest.raises(TableError, match="no dimension"):
        alone.key({"staff_group": "02"})


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.integers(0, 60), min_size=9, max_size=9),
    st.lists(st.integers(0, 1), min_size=9, max_size=9),
)
def test_derived_values_across_sets_inherit_every_suppression(
    staff_counts: list[int], drawn: list[int]
) -> None:
    staff = {k: n + 10 for k, n in zip(STAFF, staff_counts, strict=True)}
    # cases at most the staff count: some small, some zero, some published
    cases = {
        k: min(staff[k], (n * 7) % 25) if d else 0
        for (k, n), d in zip(zip(STAFF, staff_counts, strict=True), drawn, strict=True)
    }
    try:
        pack = apply_pack(
            two_populations(staff, cases),
            POLICY,
            cross=likelihoods(),
            subsets=[Subset("E", "S")],
            method="fast",
        )
    except DisclosureError:
        return  # refused whole: nothing published
    for value in pack.derived:
        refs = _refs(value.name)
        if refs is None:
            continue
        hidden = any(
            pack.table(t).cell(body, group).status != "published"
            for t, body, group in refs
        )
        if hidden:
            assert value.value is None and value.status != "published"


def _refs(name: str) -> list[tuple[str, str, str]] | None:
    parts = name.split("/")
    if parts[0] == "rate":
        return [("E", parts[2], "EM"), ("S", parts[2], "EM")]
    if parts[0] == "rl":
        return [(t, parts[1], g) for t in "ES" for g in ("EM", "White")]
    return None
