"""Derived values: rounding, relative likelihoods, suppression and attacker facts."""

from __future__ import annotations

import math

import numpy as np
import pytest

from governance.sdc.derived import (
    Deriver,
    Ratio,
    RelativeLikelihood,
    percentages_of,
    ref,
    relative_likelihood,
    rounded,
)
from governance.sdc.linked import LinkedSet
from governance.sdc.policy import load_policy
from governance.sdc.table import Dimension, InputCell, Table

OUTCOME = Dimension("outcome", "All", {"All": ["yes", "no"]})
ETHNIC = Dimension("ethnic_group", "All", {"All": ["White", "Minority"]})


def linked(
    yes_white: int, yes_minority: int, no_white: int, no_minority: int
) -> LinkedSet:
    cells = {
        ("yes", "White"): yes_white,
        ("yes", "Minority"): yes_minority,
        ("no", "White"): no_white,
        ("no", "Minority"): no_minority,
    }
    table = Table.from_cells(
        "t", [OUTCOME, ETHNIC], [InputCell(k, float(v)) for k, v in cells.items()]
    )
    return LinkedSet([table])


def likelihood() -> RelativeLikelihood:
    return RelativeLikelihood(
        "rl",
        events_a=ref({"outcome": "yes", "ethnic_group": "White"}),
        population_a=ref({"ethnic_group": "White"}),
        events_b=ref({"outcome": "yes", "ethnic_group": "Minority"}),
        population_b=ref({"ethnic_group": "Minority", "outcome": "All"}),
    )


@pytest.mark.parametrize(
    ("a", "big_a", "b", "big_b", "shown"),
    [
        (
            4699,
            10000,
            1465,
            10000,
            "3.21",
        ),  # The Christie, indicator 2: 46.99 % / 14.65 %
        (12, 1000, 7, 1000, "1.71"),  # KMPT, indicator 3: 1.2 % / 0.7 %
    ],
)
def test_relative_likelihood_reproduces_published_examples(
    a: int, big_a: int, b: int, big_b: int, shown: str
) -> None:
    estimate, low, high = relative_likelihood(a, big_a, b, big_b, 0.95)
    assert str(rounded(estimate, 2)) == shown
    assert low < estimate < high


def test_log_method_interval() -> None:
    estimate, low, high = relative_likelihood(47, 100, 15, 100, 0.95)
    se = math.sqrt(1 / 47 - 1 / 100 + 1 / 15 - 1 / 100)
    assert low == pytest.approx(estimate * math.exp(-1.959964 * se), rel=1e-6)
    assert high == pytest.approx(estimate * math.exp(1.959964 * se), rel=1e-6)
    assert math.log(estimate) == pytest.approx((math.log(low) + math.log(high)) / 2)


def test_rounding_is_half_away_from_zero_on_exact_decimals() -> None:
    assert str(rounded(12.25, 1)) == "12.3"
    assert str(rounded(2.675, 2)) == "2.68"
    assert str(rounded(-0.5, 0)) == "-1"


def test_published_and_suppressed_values() -> None:
    data = linked(47, 15, 53, 85)
    policy = load_policy("wres-wales").disclosure
    rate = Ratio(
        "rate",
        ref({"outcome": "yes", "ethnic_group": "Minority"}),
        ref({"ethnic_group": "Minority"}),
        kind="rate",
    )
    deriver = Deriver(data, policy, [likelihood(), rate])
    nothing = np.zeros(data.size, dtype=bool)
    rl, per_1000 = deriver.values(nothing)
    assert (rl.status, rl.display, rl.interval_display) == (
        "published",
        "3.13",
        "1.88 to 5.22",
    )
    assert (per_1000.status, per_1000.display) == ("published", "150.0")
    hidden = nothing.copy()
    hidden[data.index_of({"outcome": "yes", "ethnic_group": "Minority"})] = True
    rl, per_1000 = deriver.values(hidden)
    assert (rl.status, rl.display, rl.value) == ("suppressed", "[c]", None)
    assert (per_1000.status, per_1000.display) == ("suppressed", "[c]")


def minority_share() -> Ratio:
    return Ratio(
        "share",
        ref({"outcome": "yes", "ethnic_group": "Minority"}),
        ref({"ethnic_group": "Minority"}),
    )


def test_zero_inputs_are_not_computable() -> None:
    data = linked(47, 0, 53, 0)
    policy = load_policy("wres-wales").disclosure
    share = minority_share()
    rl, pct = Deriver(data, policy, [likelihood(), share]).values(
        np.zeros(data.size, dtype=bool)
    )
    assert (rl.status, rl.display) == ("not_computable", "[z]")
    assert (pct.status, pct.display) == ("not_computable", "[z]")


def test_a_hidden_zero_denominator_is_suppressed_not_shown_as_zero() -> None:
    # Under a policy that hides zeros, `[z]` over a hidden denominator would tell
    # the reader that the hidden cell is 0.
    data = linked(47, 0, 53, 0)
    policy = load_policy("wres-wales").disclosure
    share = minority_share()
    hidden = np.zeros(data.size, dtype=bool)
    for codes in (
        {"ethnic_group": "Minority"},
        {"outcome": "yes", "ethnic_group": "Minority"},
    ):
        hidden[data.index_of(codes)] = True
    rl, pct = Deriver(data, policy, [likelihood(), share]).values(hidden)
    assert (rl.status, rl.display) == ("suppressed", "[c]")
    assert (pct.status, pct.display) == ("suppressed", "[c]")


def test_facts_hold_for_the_truth_and_bound_a_hidden_numerator() -> None:
    data = linked(47, 15, 53, 85)
    policy = load_policy("wres-wales").disclosure
    table = data.tables[0]
    ratios = percentages_of(table, "ethnic_group")
    deriver = Deriver(data, policy, ratios)
    values = data.values
    for hidden in (None, np.zeros(data.size, dtype=bool)):
        facts = deriver.facts(ratios, hidden)
        assert facts
        for fact in facts:
            total = sum(
                c * values[i]
                for i, c in zip(fact.cells, fact.coefficients, strict=True)
            )
            assert fact.lower <= total <= fact.upper
    # with the denominator published, the numerator is pinned to within the rounding
    shown = np.zeros(data.size, dtype=bool)
    one = next(
        r
        for r in ratios
        if dict(r.numerator) == {"outcome": "yes", "ethnic_group": "White"}
    )
    (fact,) = deriver.facts([one], shown)
    assert fact.cells == (data.index_of(dict(one.numerator)),)
    assert fact.lower == pytest.approx(0.7575 * 62, abs=1e-6)  # 47 of 62 is 75.8 %
    assert fact.upper == pytest.approx(0.7585 * 62, abs=1e-6)


def test_percentages_of_a_dimension_cover_every_non_total_cell() -> None:
    table = linked(47, 15, 53, 85).tables[0]
    ratios = percentages_of(table, "outcome")
    assert len(ratios) == 2 * 3
    assert all(r.column == ("t", "percent_outcome") for r in ratios)
    first = ratios[0]
    assert dict(first.numerator) == {"outcome": "yes", "ethnic_group": "All"}
    assert dict(first.denominator) == {"outcome": "All", "ethnic_group": "All"}


def test_derived_names_must_be_distinct() -> None:
    data = linked(47, 15, 53, 85)
    policy = load_policy("wres-wales").disclosure
    with pytest.raises(ValueError, match="distinct names"):
        Deriver(data, policy, [likelihood(), likelihood()])
