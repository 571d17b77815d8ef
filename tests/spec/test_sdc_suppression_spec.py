"""Disclosure rules as tables: input counts in, cleared output out.

Each spec uses ``cost: value`` unless it says otherwise, so that the cheapest safe
pattern is unique and the expected table is exact; the comments give the intruder's
reasoning that makes the pattern safe and the alternatives dearer. The policy is
``wres-wales`` (threshold 10, protection width 3) with the overrides shown.
"""

from __future__ import annotations

from governance.sdc.derived import Ratio, RelativeLikelihood, ref
from tests.spec.sdc_spec import SpecRunner, merge

VALUE = {"secondary": {"cost": "value"}}


def test_one_small_cell_in_a_row_with_a_published_total(spec: SpecRunner) -> None:
    # Hiding 4 alone: 59 - 25 - 30 gives it back. The cheapest safe rectangle is
    # Sales G1, Ops G1, Ops G2 (25 + 12 + 15); the intruder then knows only that
    # the hidden count is 2 to 9, since every [c] is at least 10.
    spec(
        counts="""
                  | G1 | G2 | G3
            Sales | 25 |  4 | 30
            Ops   | 12 | 15 | 18
        """,
        cleared="""
                  | G1  | G2  | G3 | Total
            Sales | [c] | <10 | 30 | 59
            Ops   | [c] | [c] | 18 | 45
            Total | 37  | 19  | 48 | 104
        """,
        policy=VALUE,
    )


def test_two_small_cells_in_one_row_protect_each_other(spec: SpecRunner) -> None:
    # In the Sales row the two small cells hide each other (their sum, 7, leaves each
    # in 1..6); each column still needs a complement, the Ops cells below them.
    spec(
        counts="""
                  | G1 | G2 | G3
            Sales | 25 |  4 |  3
            Ops   | 12 | 15 | 18
        """,
        cleared="""
                  | G1 | G2  | G3  | Total
            Sales | 25 | <10 | <10 | 32
            Ops   | 12 | [c] | [c] | 45
            Total | 37 | 19  | 21  | 77
        """,
        policy=VALUE,
    )


def test_a_small_cell_whose_only_complement_is_in_a_margin(spec: SpecRunner) -> None:
    # Column A is 4 + 0, so its total is small too. The zero is published (it cannot
    # carry [c], which means at least 10), so the small total can only be protected
    # by another cell of the Total row: a margin. Total C (42) with X C (30) is the
    # cheapest; Total B would need X B and cost more.
    spec(
        counts="""
              | A | B  | C
            X | 4 | 25 | 30
            Y | 0 | 40 | 12
        """,
        cleared="""
                  | A   | B  | C   | Total
            X     | <10 | 25 | [c] | 59
            Y     | 0   | 40 | 12  | 52
            Total | <10 | 65 | [c] | 111
        """,
        policy=VALUE,
    )


BODY_STRUCTURE = """
dimensions:
  - name: body
    total: Wales
    hierarchy:
      Wales: [LHB, Trust]
      LHB: [7A1, 7A2, 7A3]
      Trust: [RQF, RT4]
  - name: ethnic_group
    total: All
    hierarchy:
      All: [White, Minority]
"""


def test_a_health_board_within_all_wales(spec: SpecRunner) -> None:
    # 7A2's small count is protected within the LHB subtotal (7A3, 22, is the
    # cheapest partner in the LHB column) and within its own row; hiding the LHB
    # subtotal instead would need the Wales total too, which costs more.
    spec(
        counts="""
            body / ethnic_group | White | Minority
            7A1                 | 120   | 14
            7A2                 | 95    | 6
            7A3                 | 80    | 22
            RQF                 | 60    | 11
            RT4                 | 40    | 12
        """,
        cleared="""
            body / ethnic_group | White | Minority | All
            Wales               | 395   | 65       | 460
            LHB                 | 295   | 42       | 337
            7A1                 | 120   | 14       | 134
            7A2                 | [c]   | <10      | 101
            7A3                 | [c]   | [c]      | 102
            Trust               | 100   | 23       | 123
            RQF                 | 60    | 11       | 71
            RT4                 | 40    | 12       | 52
        """,
        structure=BODY_STRUCTURE,
        policy=VALUE,
    )


def test_a_linked_pair_of_tables_sharing_a_margin(spec: SpecRunner) -> None:
    # Body C has 8 staff: every cell of its row is small in both tables, and its
    # total is one cell shared by both. Its complement B (41) is shared too, so B's
    # row must be protected in both tables at once.
    result = spec.linked(
        tables={
            "by_ethnic": """
                body / ethnic_group | White | Minority
                A                   | 40    | 12
                B                   | 30    | 11
                C                   | 5     | 3
            """,
            "by_band": """
                body / band | low | high
                A           | 30  | 22
                B           | 25  | 16
                C           | 6   | 2
            """,
        },
        cleared={
            "by_ethnic": """
                body / ethnic_group | White | Minority | Total
                A                   | 40    | 12       | 52
                B                   | [c]   | [c]      | [c]
                C                   | <10   | <10      | <10
                Total               | 75    | 26       | 101
            """,
            "by_band": """
                body / band | low | high | Total
                A           | 30  | 22   | 52
                B           | [c] | [c]  | [c]
                C           | <10 | <10  | <10
                Total       | 61  | 40   | 101
            """,
        },
        policy=VALUE,
    )
    shared = [h for h in result.evidence.hidden if h.cell == {"body": "B"}]
    assert len(shared) == 1
    assert shared[0].tables == ("by_ethnic", "by_band")


ZERO_COUNTS = """
      | A  | B  | C
    X | 0  | 11 | 22
    Y | 30 | 16 | 25
"""


def test_zeros_published(spec: SpecRunner) -> None:
    spec(
        counts=ZERO_COUNTS,
        cleared="""
                  | A  | B  | C  | Total
            X     | 0  | 11 | 22 | 33
            Y     | 30 | 16 | 25 | 71
            Total | 30 | 27 | 47 | 104
        """,
        policy=VALUE | {"primary": {"zeros": "publish"}},
    )


def test_zeros_suppressed_are_only_kept_from_being_pinned(spec: SpecRunner) -> None:
    # The zero shows <10 (0..9 to a reader). Through the B rectangle the intruder
    # learns it is 0 or 1: not pinned, which is all `suppress` asks.
    spec(
        counts=ZERO_COUNTS,
        cleared="""
                  | A   | B   | C  | Total
            X     | <10 | [c] | 22 | 33
            Y     | [c] | [c] | 25 | 71
            Total | 30  | 27  | 47 | 104
        """,
        policy=VALUE | {"primary": {"zeros": "suppress"}},
    )


def test_zeros_treated_as_small_get_full_protection(spec: SpecRunner) -> None:
    # As a small count the zero needs an interval at least 3 wide, which the B
    # rectangle (0..1) does not give; the C rectangle gives 0..9.
    spec(
        counts=ZERO_COUNTS,
        cleared="""
                  | A   | B  | C   | Total
            X     | <10 | 11 | [c] | 33
            Y     | [c] | 16 | [c] | 71
            Total | 30  | 27 | 47  | 104
        """,
        policy=VALUE | {"primary": {"zeros": "small"}},
    )


def test_percentages_only_over_published_cells(spec: SpecRunner) -> None:
    spec(
        counts="""
                  | G1 | G2 | G3
            Sales | 25 |  4 | 30
            Ops   | 12 | 15 | 18
        """,
        cleared="""
                  | G1  | G2  | G3 | Total
            Sales | [c] | <10 | 30 | 59
            Ops   | [c] | [c] | 18 | 45
            Total | 37  | 19  | 48 | 104
        """,
        policy=VALUE,
        percent_of=["col"],
        percents={
            "percent_col": """
                      | G1   | G2   | G3   | Total
                Sales | [c]  | [c]  | 50.8 |
                Ops   | [c]  | [c]  | 40.0 |
                Total | 35.6 | 18.3 | 46.2 |
            """
        },
    )


APPOINTMENTS = """
    outcome / ethnic_group | White | Minority
    appointed              | 47    | {minority}
    not_appointed          | 53    | 85
"""


def _likelihood() -> RelativeLikelihood:
    return RelativeLikelihood(
        "appointed_white_vs_minority",
        events_a=ref({"outcome": "appointed", "ethnic_group": "White"}),
        population_a=ref({"ethnic_group": "White"}),
        events_b=ref({"outcome": "appointed", "ethnic_group": "Minority"}),
        population_b=ref({"ethnic_group": "Minority"}),
    )


def _rate() -> Ratio:
    return Ratio(
        "appointed_per_1000_minority",
        numerator=ref({"outcome": "appointed", "ethnic_group": "Minority"}),
        denominator=ref({"ethnic_group": "Minority"}),
        kind="rate",
    )


def test_relative_likelihood_and_rate_over_published_counts(spec: SpecRunner) -> None:
    result = spec(
        counts=APPOINTMENTS.format(minority=15),
        cleared="""
            outcome / ethnic_group | White | Minority | Total
            appointed              | 47    | 15       | 62
            not_appointed          | 53    | 85       | 138
            Total                  | 100   | 100      | 200
        """,
        derived=[_likelihood(), _rate()],
    )
    likelihood, rate = result.derived
    assert (likelihood.status, likelihood.display) == ("published", "3.13")
    assert likelihood.interval_display == "1.88 to 5.22"
    assert (rate.status, rate.display) == ("published", "150.0")


def test_ratios_over_a_hidden_count_are_hidden(spec: SpecRunner) -> None:
    result = spec(
        counts=APPOINTMENTS.format(minority=6),
        cleared="""
            outcome / ethnic_group | White | Minority | Total
            appointed              | [c]   | <10      | 53
            not_appointed          | [c]   | [c]      | 138
            Total                  | 100   | 91       | 191
        """,
        policy=VALUE,
        derived=[_likelihood(), _rate()],
    )
    assert [(d.status, d.display) for d in result.derived] == [
        ("suppressed", "[c]"),
        ("suppressed", "[c]"),
    ]


def test_percentages_published_over_hidden_counts_enter_the_audit(
    spec: SpecRunner,
) -> None:
    # With inherit_suppression off, every percentage is published, hidden cells'
    # too. Over large totals and with no decimals they are loose, but not harmless:
    # "1" % of 554 and the 45 % and 33 % beside it narrow the small count from 1..9 to
    # 4..7. The method chose complements knowing that, and 4..7 is still 3 wide.
    result = spec(
        counts="""
                  | G1  | G2  | G3
            Sales | 250 |   4 | 300
            Ops   | 120 | 150 | 180
        """,
        cleared="""
                  | G1  | G2  | G3  | Total
            Sales | [c] | <10 | 300 | 554
            Ops   | [c] | [c] | 180 | 450
            Total | 370 | 154 | 480 | 1004
        """,
        policy=VALUE
        | {"derived": {"inherit_suppression": False, "percentages": {"decimals": 0}}},
        percent_of=["col"],
        percents={
            "percent_col": """
                      | G1 | G2 | G3 | Total
                Sales | 45 | 1  | 54 |
                Ops   | 27 | 33 | 40 |
                Total | 37 | 15 | 48 |
            """
        },
    )
    (small,) = [h for h in result.evidence.hidden if h.status == "primary"]
    assert (small.lower, small.upper) == (4, 7)


MAGNITUDE_POLICY = VALUE | {
    "primary": {"threshold": {"min_count": 3}},
    "labels": {"primary": "<3"},
    "secondary": {"cost": "value", "protection_level": {"count": 1}},
}


def test_dominance_on_a_magnitude_table(spec: SpecRunner) -> None:
    # X B is 9.0 FTE of which one person holds 8.0 (89 % > 85 %): primary, shown
    # [c] (it is not small). Y A has two contributors: below the threshold of 3.
    spec.magnitudes(
        contributions="""
              | A                  | B           | C
            X | 1.0+1.0+1.0+1.0    | 8.0+0.5+0.5 | 1.0+1.0+1.0
            Y | 2.0+1.5            | 1.0+1.0+2.0 | 1.0+1.0+1.0+1.0
        """,
        cleared="""
                  | A     | B     | C    | Total
            X     | [c]   | [c]   | 3.00 | 16.00
            Y     | <3    | [c]   | 4.00 | 11.50
            Total | 7.50  | 13.00 | 7.00 | 27.50
        """,
        policy=MAGNITUDE_POLICY,
    )


def test_p_percent_on_a_magnitude_table(spec: SpecRunner) -> None:
    # A: 5.0 + 4.0 + 0.2; the runner-up knows the largest to within 0.2 of 5.0, less
    # than 10 %: primary. B (6.0) is the cheapest complement.
    spec.magnitudes(
        contributions="""
              | count
            A | 5.0+4.0+0.2
            B | 2.0+2.0+2.0
            C | 3.0+3.0+1.0
        """,
        cleared="""
                  | count
            A     | [c]
            B     | [c]
            C     | 7.00
            Total | 22.20
        """,
        policy=merge(MAGNITUDE_POLICY, {"primary": {"dominance": None}}),
    )
