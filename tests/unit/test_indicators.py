"""The indicator catalogue, table specs, relative likelihoods and known answers.

Every indicator is computed on one small hand-built dataset (two bodies: the health
board 7A1 and the trust RYT) written as literal counts below; each expected value is
worked out by hand in the comment beside it.
"""

from __future__ import annotations

import importlib.resources
import math
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from governance.errors import ConfigError, TableError
from governance.indicator_values import CountTable, Figures, compute, group_codes
from governance.indicators import (
    CATALOGUE_FILE_NAME,
    LikelihoodRequest,
    PercentRequest,
    RateRequest,
    RelativeLikelihoodMethod,
    derived_requests,
    likelihood_name,
    load_catalogue,
    parse_catalogue,
    rate_name,
)
from governance.likelihood import (
    percentage,
    percentage_point_difference,
    rate_ratio,
    relative_likelihood,
    round_half_up,
)
from governance.reference import load_reference
from governance.sdc.derived import relative_likelihood as engine_relative_likelihood
from governance.tablespec import (
    DIMENSIONS,
    MEASURE_SOURCE,
    TableSpec,
    dimension_codes,
    dimension_hierarchy,
)

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE_TEXT = (ROOT / "governance" / "data" / CATALOGUE_FILE_NAME).read_text()
BODIES = ["7A1", "RYT"]


def r2(value: float | None) -> Decimal:
    assert value is not None
    return round_half_up(value, 2)


def approx(value: float | None, expected: float) -> bool:
    return value is not None and math.isclose(value, expected, abs_tol=5e-6)


# --- relative likelihood: the published formula and the worked examples -------------


def test_worked_example_indicator_2_the_christie() -> None:
    # White 46.99 % appointed from shortlisting, BAME 14.65 %: 46.99 / 14.65 = 3.2075
    assert round_half_up(rate_ratio(46.99, 14.65), 2) == Decimal("3.21")
    # the same rates as counts: 4699 of 10000 and 1465 of 10000
    assert r2(relative_likelihood(4699, 10000, 1465, 10000).value) == Decimal("3.21")


def test_worked_example_indicator_3_kmpt() -> None:
    # BAME 1.2 % entered the disciplinary process, White 0.7 %: 1.2 / 0.7 = 1.714
    assert round_half_up(rate_ratio(1.2, 0.7), 2) == Decimal("1.71")
    assert r2(relative_likelihood(12, 1000, 7, 1000).value) == Decimal("1.71")


def test_katz_log_interval_by_hand() -> None:
    # 40 of 100 against 20 of 100: RL = 0.4 / 0.2 = 2
    # SE(ln RL) = sqrt(1/40 - 1/100 + 1/20 - 1/100) = sqrt(0.055) = 0.234521
    # z = 1.959964; z * SE = 0.459651; 2 * exp(-0.459651) = 1.263006,
    # 2 * exp(0.459651) = 3.167047
    rl = relative_likelihood(40, 100, 20, 100)
    assert rl.computable and rl.value == 2.0
    assert approx(rl.lower, 1.263006) and approx(rl.upper, 3.167047)
    assert rl.rounded() == (Decimal("2.00"), Decimal("1.26"), Decimal("3.17"))
    assert rl.rate_a == 0.4 and rl.rate_b == 0.2


def test_interval_widens_with_confidence() -> None:
    narrow = relative_likelihood(40, 100, 20, 100, confidence=0.9)
    wide = relative_likelihood(40, 100, 20, 100, confidence=0.99)
    assert narrow.lower is not None and wide.lower is not None
    assert wide.lower < narrow.lower < 2.0
    assert narrow.confidence == 0.9


@pytest.mark.parametrize(
    ("counts", "why"),
    [
        ((0, 0, 5, 50), "no people in a group"),
        ((5, 50, 0, 0), "no people in a group"),
        ((0, 50, 5, 50), "no events in a group"),
        ((5, 50, 0, 50), "no events in a group"),
    ],
)
def test_zeros_are_not_computable_never_a_division_by_zero(
    counts: tuple[int, int, int, int], why: str
) -> None:
    rl = relative_likelihood(*counts)
    assert not rl.computable and rl.not_computable == why
    assert rl.value is None and rl.lower is None and rl.upper is None
    with pytest.raises(ValueError, match=why):
        rl.rounded()


def test_everyone_having_the_event_gives_a_point_interval() -> None:
    rl = relative_likelihood(10, 10, 20, 20)
    assert (rl.value, rl.lower, rl.upper) == (1.0, 1.0, 1.0)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((-1, 10, 1, 10), "at least 0"),
        ((11, 10, 1, 10), "more events than people"),
        ((1, 10, 1, -10), "at least 0"),
    ],
)
def test_impossible_counts_raise(args: tuple[int, int, int, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        relative_likelihood(*args)


@pytest.mark.parametrize("confidence", [0.0, 1.0, 1.5])
def test_confidence_must_be_a_probability(confidence: float) -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        relative_likelihood(1, 10, 1, 10, confidence=confidence)


@pytest.mark.parametrize(
    "counts", [(80, 400, 20, 200), (4, 200, 8, 800), (590, 1180, 105, 220)]
)
def test_agrees_with_the_disclosure_engine(counts: tuple[int, int, int, int]) -> None:
    ours = relative_likelihood(*counts)
    a, n1, c, n2 = (float(x) for x in counts)
    theirs = engine_relative_likelihood(a, n1, c, n2, 0.95)
    assert ours.value is not None and ours.lower is not None and ours.upper is not None
    assert (ours.value, ours.lower, ours.upper) == pytest.approx(theirs, rel=1e-12)


def test_rate_ratio_refuses_a_zero_or_negative_rate() -> None:
    with pytest.raises(ValueError, match="does not exist"):
        rate_ratio(5, 0)
    with pytest.raises(ValueError, match="at least 0"):
        rate_ratio(-1, 2)
    assert rate_ratio(Decimal(3), Decimal(4)) == Decimal("0.75")


def test_percentage_and_percentage_points() -> None:
    assert percentage(3, 8) == 37.5
    assert percentage(0, 0) is None
    with pytest.raises(ValueError, match="larger than the whole"):
        percentage(9, 8)
    with pytest.raises(ValueError, match="at least 0"):
        percentage(-1, 8)
    # published 16.7 % of the board against 19.0 % of the workforce: -2.3 points
    assert percentage_point_difference(Decimal("16.7"), Decimal("19.0")) == Decimal(
        "-2.3"
    )
    assert percentage_point_difference(16.5, 12.25) == Decimal("4.25")


def test_rounding_is_half_away_from_zero() -> None:
    assert round_half_up(2.675, 2) == Decimal("2.68")  # float 2.675 is 2.67499...
    assert round_half_up(Decimal("2.665"), 2) == Decimal("2.67")
    assert round_half_up(-0.125, 2) == Decimal("-0.13")


# --- table specifications -------------------------------------------------------------


def spec(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": "t",
        "source": "staff",
        "measure": "headcount",
        "dimensions": ["body", "ethnic_broad"],
    }
    return base | changes


def test_table_spec_is_frozen_hashable_and_round_trips() -> None:
    t = TableSpec.model_validate(spec(filters={"pay_band": ["5", "VSM"]}))
    assert t.filters == {"pay_band": ("5", "VSM")}
    assert TableSpec.model_validate_json(t.model_dump_json()) == t
    assert hash(t) == hash(TableSpec.model_validate(t.model_dump()))
    with pytest.raises(ValidationError):
        t.name = "u"  # type: ignore[misc]  # frozen: the assignment must be refused
    with pytest.raises(TypeError):
        t.filters["pay_band"] = ("6",)  # type: ignore[index]  # read-only view
    assert t.codes("pay_band") == ("5", "VSM")
    assert len(t.codes("body")) == 12


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"measure": "board_voting"}, "counted from 'board'"),
        ({"dimensions": ["body", "body"]}, "named twice"),
        ({"dimensions": ["body", "wres_group", "ethnic_broad"]}, "not both"),
        ({"source": "board", "measure": "board_voting", "dimensions": ["pay_band"]},
         "has no 'pay_band'"),
        ({"filters": {"pay_band": ["10"]}}, "unknown code '10'"),
        ({"filters": {"pay_band": []}}, "allows no code"),
        ({"filters": {"clinical": ["clinical", "clinical"]}}, "repeats a code"),
        ({"filters": {"body": ["XYZ"]}}, "unknown code 'XYZ'"),
        ({"dimensions": []}, "at least 1"),
        ({"name": "Bad Name"}, "pattern"),
        ({"colour": "red"}, "Extra inputs"),
        ({"measure": "fte"}, "Input should be"),
    ],
)  # fmt: skip
def test_table_spec_refuses_inconsistent_specs(
    changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        TableSpec.model_validate(spec(**changes))


def test_every_measure_has_a_source_and_codes_are_the_agreed_vocabularies() -> None:
    ref = load_reference()
    assert set(MEASURE_SOURCE) == {
        "headcount",
        "applicants_shortlisted",
        "applicants_appointed",
        "people_entering_disciplinary",
        "people_entering_capability",
        "people_accessing_training",
        "board_voting",
        "board_executive",
    }
    assert dimension_codes("pay_band", ref) == (
        *("1", "2", "3", "4", "5", "6", "7"),
        *("8a", "8b", "8c", "8d", "9", "VSM"),
    )
    assert dimension_codes("wres_group", ref) == (
        "White",
        "Ethnic minority",
        "Not stated",
    )
    assert dimension_codes("ethnic_broad", ref) == (
        "White", "Mixed", "Asian", "Black", "Other", "Not stated"
    )  # fmt: skip
    assert dimension_codes("clinical", ref) == ("clinical", "non-clinical")
    assert dimension_codes("staff_group", ref)[:2] == ("01", "02")
    assert dimension_codes("medical_subgroup", ref) == (
        "Consultants", "Non-consultant career grades", "Trainee grades", "Other"
    )  # fmt: skip
    assert dimension_codes("body", ref) == tuple(b.code for b in ref.bodies)
    assert set(DIMENSIONS) == {
        "body", "wres_group", "ethnic_broad", "pay_band", "clinical", "staff_group",
        "medical_subgroup",
    }  # fmt: skip


def test_hierarchies_nest_bodies_in_types_and_minorities_in_ethnic_minority() -> None:
    ref = load_reference()
    total, tree = dimension_hierarchy("ethnic_broad", ref)
    assert total == "All"
    assert tree == {
        "All": ["White", "Ethnic minority", "Not stated"],
        "Ethnic minority": ["Mixed", "Asian", "Black", "Other"],
    }
    total, tree = dimension_hierarchy("body", ref)
    assert total == "Wales"
    assert tree["Wales"] == [
        "local_health_board",
        "nhs_trust",
        "special_health_authority",
    ]
    assert tree["nhs_trust"] == ["RQF", "RT4", "RYT"]
    assert dimension_hierarchy("body", ref, ("7A1",))[1] == {
        "Wales": ["local_health_board"],
        "local_health_board": ["7A1"],
    }
    assert dimension_hierarchy("ethnic_broad", ref, ("White", "Not stated"))[1] == {
        "All": ["White", "Not stated"]
    }
    assert dimension_hierarchy("pay_band", ref, ("5", "6")) == (
        "All",
        {"All": ["5", "6"]},
    )
    assert group_codes("ethnic_broad", "Ethnic minority") == {
        "Mixed", "Asian", "Black", "Other"
    }  # fmt: skip
    assert group_codes("wres_group", "Ethnic minority") == {"Ethnic minority"}


# --- the catalogue ----------------------------------------------------------------------


def test_catalogue_lists_every_indicator_the_issue_asks_for() -> None:
    catalogue = load_catalogue()
    assert [i.id for i in catalogue.indicators] == [
        "workforce",
        "afc-bands",
        "medical-subgroups",
        "appointment-from-shortlisting",
        "disciplinary",
        "capability",
        "training-cpd",
        "board",
        "completeness",
    ]
    england = {i.id: i.wres_england for i in catalogue.indicators}
    assert england["appointment-from-shortlisting"] == 2
    assert england["disciplinary"] == 3
    assert england["training-cpd"] == 4
    assert england["board"] == 9
    assert england["capability"] is None and england["completeness"] is None
    bases = {i.id: i.basis for i in catalogue.indicators}
    assert bases["capability"] == bases["completeness"] == "wales-working-set"
    for indicator in catalogue.indicators:
        statuses = {c.status for c in indicator.provenance}
        assert statuses <= {"confirmed", "memory", "unconfirmed"}
        assert catalogue.tables_for(indicator.id)


def test_catalogue_table_specs_are_the_agreed_contract() -> None:
    catalogue = load_catalogue()
    got = {
        t.name: (t.source, t.measure, t.dimensions, dict(t.filters))
        for t in catalogue.tables
    }
    bands = ("1", "2", "3", "4", "5", "6", "7", "8a", "8b", "8c", "8d", "9", "VSM")
    assert got == {
        "staff_ethnicity": ("staff", "headcount", ("body", "ethnic_broad"), {}),
        "staff_band_ethnicity": (
            "staff",
            "headcount",
            ("body", "clinical", "pay_band", "wres_group"),
            {"pay_band": bands, "clinical": ("clinical", "non-clinical")},
        ),
        "staff_medical_ethnicity": (
            "staff",
            "headcount",
            ("body", "medical_subgroup", "ethnic_broad"),
            {"staff_group": ("01",)},
        ),
        "staff_group_ethnicity": (
            "staff", "headcount", ("body", "staff_group", "ethnic_broad"), {}
        ),
        "recruitment_shortlisted": (
            "recruitment", "applicants_shortlisted", ("body", "wres_group"), {}
        ),
        "recruitment_appointed": (
            "recruitment", "applicants_appointed", ("body", "wres_group"), {}
        ),
        "disciplinary_entered": (
            "er-cases", "people_entering_disciplinary", ("body", "ethnic_broad"), {}
        ),
        "capability_entered": (
            "er-cases", "people_entering_capability", ("body", "ethnic_broad"), {}
        ),
        "training_accessed": (
            "training", "people_accessing_training", ("body", "ethnic_broad"), {}
        ),
        "board_voting": ("board", "board_voting", ("body", "wres_group"), {}),
        "board_executive": ("board", "board_executive", ("body", "wres_group"), {}),
    }  # fmt: skip
    assert catalogue.sources("disciplinary") == ("er-cases", "staff")
    assert catalogue.percent_column("board_voting") == "percent_wres_group"
    with pytest.raises(KeyError):
        catalogue.percent_column("recruitment_appointed")
    with pytest.raises(KeyError):
        catalogue.table("nope")
    with pytest.raises(KeyError):
        catalogue.indicator("nope")


def test_relative_likelihoods_never_use_not_stated() -> None:
    for indicator in load_catalogue().indicators:
        method = indicator.method
        if isinstance(method, RelativeLikelihoodMethod):
            assert {method.group_a, method.group_b} == {"White", "Ethnic minority"}


def test_derived_requests_name_every_rate_and_likelihood() -> None:
    catalogue = load_catalogue()
    requests = derived_requests(catalogue, ["Wales", "7A1"])
    percents = [r for r in requests if isinstance(r, PercentRequest)]
    rates = [r for r in requests if isinstance(r, RateRequest)]
    rls = [r for r in requests if isinstance(r, LikelihoodRequest)]
    assert len(percents) == 6 and len(rates) == 4 * 2 * 2 and len(rls) == 4 * 2
    names = {r.name for r in rates} | {r.name for r in rls}
    assert len(names) == len(rates) + len(rls)
    rl = next(r for r in rls if r.name == likelihood_name("disciplinary", "7A1"))
    assert rl.name == "disciplinary/rl/7A1"
    # ethnic minority staff (group A) over White staff (group B)
    assert rl.events_a.table == "disciplinary_entered"
    assert rl.events_a.codes == (("body", "7A1"), ("ethnic_broad", "Ethnic minority"))
    assert rl.population_b.table == "staff_ethnicity"
    assert rl.population_b.codes == (("body", "7A1"), ("ethnic_broad", "White"))
    rate = next(
        r for r in rates if r.name == rate_name("training-cpd", "White", "Wales")
    )
    assert rate.name == "training-cpd/rate/White/Wales"
    assert rate.events.table == "training_accessed"


def mutate(edit: Any) -> str:
    data = yaml.safe_load(CATALOGUE_TEXT)
    edit(data)
    return yaml.safe_dump(data, sort_keys=False)


def set_method(indicator_id: str, **changes: Any) -> Any:
    def edit(data: dict[str, Any]) -> None:
        for indicator in data["indicators"]:
            if indicator["id"] == indicator_id:
                indicator["method"].update(changes)

    return edit


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.update(colour="red"), "colour: Extra inputs"),
        (lambda d: d["indicators"].append(d["indicators"][0]), "defined twice"),
        (lambda d: d["tables"].append(d["tables"][0]), "table 'staff_ethnicity' is defined twice"),
        (set_method("workforce", table="nope"), "unknown table 'nope'"),
        (lambda d: d["tables"][0].update(dimensions=["ethnic_broad", "body"]), "first dimension"),
        (set_method("disciplinary", population="recruitment_shortlisted"),
         "cannot be counted over applicants_shortlisted"),
        (set_method("disciplinary", group_b="Ethnic minority"), "must differ"),
        (set_method("disciplinary", group_b="Not stated"), "group_b"),
        (set_method("afc-bands", categories=["ethnic_broad"]), "non-ethnicity"),
        (set_method("board", memberships=[
            {"table": "board_voting", "label": "v"},
            {"table": "board_executive", "label": "e"},
            {"table": "staff_ethnicity", "label": "x"},
        ]), "'staff_ethnicity' does not count board members"),
        (lambda d: d["percentages"].pop(), "percentages must list 'board_executive'"),
        (lambda d: d["percentages"].append({"table": "board_voting", "along": "pay_band"}),
         "is not a table's"),
        (lambda d: d["indicators"].pop(), "is used by no indicator"),
        (lambda d: d["indicators"][0].update(wres_england=10), "less than or equal to 9"),
    ],
)  # fmt: skip
def test_a_broken_catalogue_is_refused_with_one_line(edit: Any, message: str) -> None:
    with pytest.raises(ConfigError, match="indicator catalogue") as caught:
        parse_catalogue(mutate(edit))
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_catalogue_checks_events_and_population_share_dimensions_and_filters() -> None:
    def regroup(data: dict[str, Any]) -> None:
        for table in data["tables"]:
            if table["name"] == "disciplinary_entered":
                table["dimensions"] = ["body", "wres_group"]

    with pytest.raises(ConfigError, match="same dimensions"):
        parse_catalogue(mutate(regroup))

    def refilter(data: dict[str, Any]) -> None:
        for table in data["tables"]:
            if table["name"] == "disciplinary_entered":
                table["filters"] = {"staff_group": ["01"]}

    with pytest.raises(ConfigError, match="same filters"):
        parse_catalogue(mutate(refilter))


def test_catalogue_yaml_errors_name_the_line() -> None:
    with pytest.raises(ConfigError, match=r"not valid YAML at line \d+$"):
        parse_catalogue("version: 1\ntables: [\n")


def test_every_indicator_is_documented() -> None:
    docs = (ROOT / "docs" / "indicators.md").read_text(encoding="utf-8")
    headings = set(re.findall(r"^### .*`([a-z-]+)`", docs, flags=re.MULTILINE))
    assert headings == {i.id for i in load_catalogue().indicators}
    for table in load_catalogue().tables:
        assert f"`{table.name}`" in docs


# --- known answers for every indicator -------------------------------------------------

STAFF: CountTable = {
    # 7A1: White 800, ethnic minority 10 + 120 + 40 + 30 = 200, not stated 50; 1050
    ("7A1", "White"): 800,
    ("7A1", "Mixed"): 10,
    ("7A1", "Asian"): 120,
    ("7A1", "Black"): 40,
    ("7A1", "Other"): 30,
    ("7A1", "Not stated"): 50,
    # RYT: White 380, ethnic minority 2 + 10 + 5 + 3 = 20, not stated 0; 400
    ("RYT", "White"): 380,
    ("RYT", "Mixed"): 2,
    ("RYT", "Asian"): 10,
    ("RYT", "Black"): 5,
    ("RYT", "Other"): 3,
}
COUNTS: dict[str, CountTable] = {
    "staff_ethnicity": STAFF,
    "staff_band_ethnicity": {  # WRES groups: Asian 30 + Black 10 are 40 minority
        ("7A1", "clinical", "5", "White"): 100,
        ("7A1", "clinical", "5", "Ethnic minority"): 40,
        ("7A1", "clinical", "5", "Not stated"): 10,
        ("7A1", "non-clinical", "5", "White"): 45,
        ("7A1", "non-clinical", "5", "Ethnic minority"): 5,
        ("7A1", "clinical", "VSM", "White"): 4,
        ("RYT", "clinical", "5", "White"): 20,
        ("RYT", "clinical", "5", "Ethnic minority"): 5,
    },
    "staff_medical_ethnicity": {
        ("7A1", "Consultants", "White"): 30,
        ("7A1", "Consultants", "Asian"): 20,
        ("7A1", "Trainee grades", "White"): 10,
        ("7A1", "Trainee grades", "Black"): 10,
        ("7A1", "Trainee grades", "Not stated"): 5,
        ("RYT", "Consultants", "White"): 1,
    },
    "staff_group_ethnicity": {
        ("7A1", "03", "White"): 300,
        ("7A1", "03", "Asian"): 60,
        ("7A1", "03", "Not stated"): 40,
        ("7A1", "08", "White"): 190,
        ("7A1", "08", "Not stated"): 10,
        ("RYT", "08", "White"): 100,
    },
    "recruitment_shortlisted": {
        ("7A1", "White"): 400,
        ("7A1", "Ethnic minority"): 200,
        ("7A1", "Not stated"): 50,
        ("RYT", "White"): 100,
        ("RYT", "Ethnic minority"): 50,
    },
    "recruitment_appointed": {
        ("7A1", "White"): 80,
        ("7A1", "Ethnic minority"): 20,
        ("7A1", "Not stated"): 10,
        ("RYT", "White"): 10,
    },
    "disciplinary_entered": {
        ("7A1", "White"): 8,
        ("7A1", "Asian"): 3,
        ("7A1", "Black"): 1,
        ("7A1", "Not stated"): 2,
        ("RYT", "Other"): 1,
    },
    "capability_entered": {
        ("7A1", "White"): 16,
        ("7A1", "Mixed"): 2,
        ("7A1", "Asian"): 2,
    },
    "training_accessed": {
        ("7A1", "White"): 400,
        ("7A1", "Asian"): 60,
        ("7A1", "Black"): 20,
        ("7A1", "Other"): 10,
        ("7A1", "Mixed"): 10,
        ("7A1", "Not stated"): 5,
        ("RYT", "White"): 190,
        ("RYT", "Asian"): 5,
    },
    "board_voting": {
        ("7A1", "White"): 10,
        ("7A1", "Ethnic minority"): 2,
        ("RYT", "White"): 9,
        ("RYT", "Ethnic minority"): 1,
    },
    "board_executive": {
        ("7A1", "White"): 5,
        ("7A1", "Ethnic minority"): 1,
        ("RYT", "White"): 4,
    },
}


def figures(indicator_id: str) -> Figures:
    return compute(load_catalogue(), indicator_id, COUNTS, bodies=BODIES)


def test_known_answers_workforce() -> None:
    f = figures("workforce")
    eb = "ethnic_broad"
    # 7A1: 200 / 1050 = 19.047619 %; White 800 / 1050 = 76.190476 %
    assert approx(
        f.get("share", body="7A1", **{eb: "Ethnic minority"}).value, 19.047619
    )
    assert approx(f.get("share", body="7A1", **{eb: "White"}).value, 76.190476)
    # RYT: 20 / 400 = 5 %; nobody not stated: 0 %
    assert approx(f.get("share", body="RYT", **{eb: "Ethnic minority"}).value, 5.0)
    assert approx(f.get("share", body="RYT", **{eb: "Not stated"}).value, 0.0)
    # Wales: 220 / 1450 = 15.172414 %; not stated 50 / 1450 = 3.448276 %
    assert approx(
        f.get("share", body="Wales", **{eb: "Ethnic minority"}).value, 15.172414
    )
    assert approx(f.get("share", body="Wales", **{eb: "Not stated"}).value, 3.448276)
    # broad groups are counted too: Asian 120 + 10 = 130 in Wales
    assert f.get("count", body="Wales", **{eb: "Asian"}).value == 130


def test_known_answers_afc_bands() -> None:
    f = figures("afc-bands")
    em = {"wres_group": "Ethnic minority"}
    # 7A1 clinical band 5: 100 + 30 + 10 + 10 = 150; minority 30 + 10 = 40: 26.666667 %
    cell = {"body": "7A1", "clinical": "clinical", "pay_band": "5"}
    assert approx(f.get("share", **cell, **em).value, 26.666667)
    assert approx(f.get("share", **cell, wres_group="Not stated").value, 6.666667)
    # 7A1 non-clinical band 5: 5 of 50 = 10 %
    cell = {"body": "7A1", "clinical": "non-clinical", "pay_band": "5"}
    assert approx(f.get("share", **cell, **em).value, 10.0)
    # 7A1 clinical VSM: 4 White, no minority: 0 %
    cell = {"body": "7A1", "clinical": "clinical", "pay_band": "VSM"}
    assert approx(f.get("share", **cell, **em).value, 0.0)
    # RYT clinical band 5: 5 of 25 = 20 %
    cell = {"body": "RYT", "clinical": "clinical", "pay_band": "5"}
    assert approx(f.get("share", **cell, **em).value, 20.0)
    # Wales clinical band 5: minority 40 + 5 = 45 of 150 + 25 = 175: 25.714286 %
    cell = {"body": "Wales", "clinical": "clinical", "pay_band": "5"}
    assert approx(f.get("share", **cell, **em).value, 25.714286)
    # Wales band 5, clinical and non-clinical: 50 of 225 = 22.222222 %
    cell = {"body": "Wales", "clinical": "All", "pay_band": "5"}
    assert approx(f.get("share", **cell, **em).value, 22.222222)
    # a band nobody is in has no share
    cell = {"body": "Wales", "clinical": "All", "pay_band": "9"}
    empty = f.get("share", **cell, **em)
    assert empty.value is None and empty.not_computable == "no people in the row"
    # compared with the whole workforce: 220 / 1450 = 15.172414 %
    whole = {"ethnic_broad": "Ethnic minority"}  # the comparator's own groups
    assert approx(f.get("workforce_share", body="Wales", **whole).value, 15.172414)


def test_known_answers_medical_subgroups() -> None:
    f = figures("medical-subgroups")
    em = {"ethnic_broad": "Ethnic minority"}
    # 7A1 consultants: 20 of 50 = 40 %; trainees: 10 of 25 = 40 %, not stated 5/25 = 20 %
    assert approx(
        f.get("share", body="7A1", medical_subgroup="Consultants", **em).value, 40.0
    )
    trainees = {"body": "7A1", "medical_subgroup": "Trainee grades"}
    assert approx(f.get("share", **trainees, **em).value, 40.0)
    assert approx(f.get("share", **trainees, ethnic_broad="Not stated").value, 20.0)
    # Wales consultants: 20 of 51 = 39.215686 %
    assert approx(
        f.get("share", body="Wales", medical_subgroup="Consultants", **em).value,
        39.215686,
    )
    # RYT's one consultant is White: 0 %
    assert approx(
        f.get("share", body="RYT", medical_subgroup="Consultants", **em).value, 0.0
    )
    # White doctors in Wales: 30 + 10 + 1 = 41
    assert (
        f.get("count", body="Wales", medical_subgroup="All", ethnic_broad="White").value
        == 41
    )


def test_known_answers_appointment_from_shortlisting() -> None:
    f = figures("appointment-from-shortlisting")
    # 7A1: White 80 / 400 = 20 %, minority 20 / 200 = 10 %: RL = 2.00
    # SE = sqrt(1/80 - 1/400 + 1/20 - 1/200) = sqrt(0.055) = 0.234521: 1.263006 to 3.167047
    rl = f.get("relative_likelihood", body="7A1")
    assert (
        approx(rl.value, 2.0)
        and approx(rl.lower, 1.263006)
        and approx(rl.upper, 3.167047)
    )
    assert approx(f.get("rate", body="7A1", wres_group="White").value, 20.0)
    # Not stated applicants (50 shortlisted, 10 appointed) are in neither group
    assert f.get("count", body="7A1", wres_group="White", of="population").value == 400
    # RYT: no minority applicant appointed (0 of 50): not computable, never infinite
    ryt = f.get("relative_likelihood", body="RYT")
    assert ryt.value is None and ryt.not_computable == "no events in a group"
    assert approx(f.get("rate", body="RYT", wres_group="Ethnic minority").value, 0.0)
    # Wales: White 90 / 500 = 18 %, minority 20 / 250 = 8 %: RL = 2.25
    # SE = sqrt(1/90 - 1/500 + 1/20 - 1/250) = 0.234758: 1.420223 to 3.564581
    wales = f.get("relative_likelihood", body="Wales")
    assert approx(wales.value, 2.25)
    assert approx(wales.lower, 1.420223) and approx(wales.upper, 3.564581)


def test_known_answers_disciplinary() -> None:
    f = figures("disciplinary")
    # 7A1: minority (3 + 1) / 200 = 2 %, White 8 / 800 = 1 %: RL = 2.00
    # SE = sqrt(1/4 - 1/200 + 1/8 - 1/800) = 0.607248: 0.608331 to 6.575372
    rl = f.get("relative_likelihood", body="7A1")
    assert (
        approx(rl.value, 2.0)
        and approx(rl.lower, 0.608331)
        and approx(rl.upper, 6.575372)
    )
    # RYT: no White staff entered: not computable
    assert (
        f.get("relative_likelihood", body="RYT").not_computable
        == "no events in a group"
    )
    # Wales: minority 5 / 220 over White 8 / 1180 = 5900 / 1760 = 3.352273
    assert approx(f.get("relative_likelihood", body="Wales").value, 3.352273)
    assert approx(
        f.get("rate", body="Wales", ethnic_broad="Ethnic minority").value, 2.272727
    )


def test_known_answers_capability() -> None:
    f = figures("capability")
    # 7A1: minority 4 / 200 = 2 %, White 16 / 800 = 2 %: RL = 1.00
    assert approx(f.get("relative_likelihood", body="7A1").value, 1.0)
    # RYT: no cases at all
    assert (
        f.get("relative_likelihood", body="RYT").not_computable
        == "no events in a group"
    )
    # Wales: 4 / 220 over 16 / 1180 = 4720 / 3520 = 1.340909; CI 0.452571 to 3.972938
    wales = f.get("relative_likelihood", body="Wales")
    assert approx(wales.value, 1.340909)
    assert approx(wales.lower, 0.452571) and approx(wales.upper, 3.972938)


def test_known_answers_training() -> None:
    f = figures("training-cpd")
    # 7A1: White 400 / 800 = 50 %, minority 100 / 200 = 50 %: RL = 1.00
    assert approx(f.get("relative_likelihood", body="7A1").value, 1.0)
    # RYT: White 190 / 380 = 50 %, minority 5 / 20 = 25 %: RL = 2.00
    assert approx(f.get("relative_likelihood", body="RYT").value, 2.0)
    # Wales: 590 / 1180 = 50 % over 105 / 220 = 47.727273 %: RL = 1.047619
    # SE = sqrt(1/590 - 1/1180 + 1/105 - 1/220) = 0.076327: 0.902056 to 1.216671
    wales = f.get("relative_likelihood", body="Wales")
    assert approx(wales.value, 1.047619)
    assert approx(wales.lower, 0.902056) and approx(wales.upper, 1.216671)
    assert approx(
        f.get("rate", body="Wales", ethnic_broad="Ethnic minority").value, 47.727273
    )


def test_known_answers_board() -> None:
    f = figures("board")
    wg = "wres_group"
    voting, executive = (
        ("membership", "board_voting"),
        ("membership", "board_executive"),
    )
    # 7A1 voting: 2 of 12 = 16.666667 %; workforce 19.047619 %: -2.380952 points
    cell = {"body": "7A1", voting[0]: voting[1], wg: "Ethnic minority"}
    assert approx(f.get("share", **cell).value, 16.666667)
    assert approx(f.get("pp_difference", **cell).value, -2.380952)
    # 7A1 voting White: 83.333333 - 76.190476 = 7.142857 points
    cell = {"body": "7A1", voting[0]: voting[1], wg: "White"}
    assert approx(f.get("pp_difference", **cell).value, 7.142857)
    # Not stated has its own row: 0 of 12 against 4.761905 % of staff
    cell = {"body": "7A1", voting[0]: voting[1], wg: "Not stated"}
    assert approx(f.get("pp_difference", **cell).value, -4.761905)
    # RYT voting: 1 of 10 = 10 % against 5 %: +5 points
    cell = {"body": "RYT", voting[0]: voting[1], wg: "Ethnic minority"}
    assert approx(f.get("pp_difference", **cell).value, 5.0)
    # Wales voting: 3 of 22 = 13.636364 % against 15.172414 %: -1.536050 points
    cell = {"body": "Wales", voting[0]: voting[1], wg: "Ethnic minority"}
    assert approx(f.get("pp_difference", **cell).value, -1.536050)
    # executive: RYT 0 of 4 = 0 % against 5 %: -5 points; Wales 1 of 10 = 10 %: -5.172414
    cell = {"body": "RYT", executive[0]: executive[1], wg: "Ethnic minority"}
    assert approx(f.get("pp_difference", **cell).value, -5.0)
    cell = {"body": "Wales", executive[0]: executive[1], wg: "Ethnic minority"}
    assert approx(f.get("pp_difference", **cell).value, -5.172414)
    assert approx(
        f.get("workforce_share", body="RYT", ethnic_broad="White").value, 95.0
    )


def test_known_answers_completeness() -> None:
    f = figures("completeness")
    # 7A1 nursing (03): 40 of 400 = 10 %; admin (08): 10 of 200 = 5 %
    assert approx(f.get("not_stated_share", body="7A1", staff_group="03").value, 10.0)
    assert approx(f.get("not_stated_share", body="7A1", staff_group="08").value, 5.0)
    # 7A1 all groups: 50 of 600 = 8.333333 %; Wales: 50 of 700 = 7.142857 %
    assert approx(
        f.get("not_stated_share", body="7A1", staff_group="All").value, 8.333333
    )
    assert approx(
        f.get("not_stated_share", body="Wales", staff_group="All").value, 7.142857
    )
    # Wales admin: 10 of 300 = 3.333333 %
    assert approx(
        f.get("not_stated_share", body="Wales", staff_group="08").value, 3.333333
    )
    # nobody in medical at 7A1: not computable
    assert f.get("not_stated_share", body="7A1", staff_group="01").value is None
    assert (
        f.get("count", body="Wales", staff_group="All", ethnic_broad="Not stated").value
        == 50
    )


def test_a_scope_is_its_bodies() -> None:
    # the health boards' scope in this dataset is 7A1 alone
    f = compute(
        load_catalogue(),
        "disciplinary",
        COUNTS,
        bodies=["7A1"],
        scope="local_health_board",
    )
    assert approx(f.get("relative_likelihood", body="local_health_board").value, 2.0)
    with pytest.raises(KeyError):
        f.get("relative_likelihood", body="RYT")


def test_counts_are_checked_before_use() -> None:
    catalogue = load_catalogue()
    with pytest.raises(
        TableError, match="counts of table 'staff_ethnicity' are missing"
    ):
        compute(catalogue, "workforce", {}, bodies=BODIES)
    bad: dict[str, CountTable] = {"staff_ethnicity": {("7A1", "Purple"): 3}}
    with pytest.raises(
        TableError, match="code 'Purple' is not a leaf of 'ethnic_broad'"
    ):
        compute(catalogue, "workforce", bad, bodies=BODIES)
    bad = {"staff_ethnicity": {("7A1",): 3}}
    with pytest.raises(TableError, match="one code per dimension"):
        compute(catalogue, "workforce", bad, bodies=BODIES)
    bad = {"staff_ethnicity": {("7A1", "White"): -3}}
    with pytest.raises(TableError, match="negative"):
        compute(catalogue, "workforce", bad, bodies=BODIES)
    # a band outside the spec's filter is not a leaf of the table
    bad = {
        **COUNTS,
        "staff_band_ethnicity": {("7A1", "clinical", "Consultant", "White"): 1},
    }
    with pytest.raises(TableError, match="'Consultant' is not a leaf of 'pay_band'"):
        compute(catalogue, "afc-bands", bad, bodies=BODIES)
    # more people entering a process than there are staff: the tables disagree
    bad = {**COUNTS, "disciplinary_entered": {("RYT", "White"): 381}}
    with pytest.raises(ValueError, match="more events than people"):
        compute(catalogue, "disciplinary", bad, bodies=BODIES)
    with pytest.raises(KeyError):
        compute(catalogue, "nope", COUNTS, bodies=BODIES)


def test_catalogue_refuses_methods_over_the_wrong_tables() -> None:
    def workforce_over(table: dict[str, Any]) -> Any:
        def edit(data: dict[str, Any]) -> None:
            data["tables"].append(table)
            if "wres_group" in table["dimensions"]:
                pc = {"table": table["name"], "along": "wres_group"}
                data["percentages"].append(pc)
            for indicator in data["indicators"]:
                if indicator["id"] == "workforce":
                    indicator["method"]["comparator"] = table["name"]
                    indicator["method"]["table"] = "staff_band_ethnicity"
                    indicator["method"]["categories"] = ["pay_band"]

        return edit

    recruits = {
        "name": "recruits",
        "source": "recruitment",
        "measure": "applicants_shortlisted",
        "dimensions": ["body", "wres_group"],
    }
    with pytest.raises(ConfigError, match="'recruits' must count headcount"):
        parse_catalogue(mutate(workforce_over(recruits)))
    by_band = {
        "name": "by_band",
        "source": "staff",
        "measure": "headcount",
        "dimensions": ["body", "pay_band"],
    }
    with pytest.raises(ConfigError, match="'by_band' has no ethnicity dimension"):
        parse_catalogue(mutate(workforce_over(by_band)))


def test_representation_by_wres_group_has_no_broad_rows() -> None:
    def flat(data: dict[str, Any]) -> None:
        data["tables"] = [data["tables"][0] | {"dimensions": ["body", "wres_group"]}]
        data["percentages"] = [{"table": "staff_ethnicity", "along": "wres_group"}]
        data["indicators"] = [i for i in data["indicators"] if i["id"] == "workforce"]

    catalogue = parse_catalogue(mutate(flat))
    counts: dict[str, CountTable] = {
        "staff_ethnicity": {("7A1", "White"): 9, ("7A1", "Ethnic minority"): 3}
    }
    f = compute(catalogue, "workforce", counts, bodies=["7A1"])
    # 3 of 12 = 25 %
    assert approx(f.get("share", body="7A1", wres_group="Ethnic minority").value, 25.0)
    assert all(dict(x.cell).get("wres_group") != "Asian" for x in f)


def test_a_missing_catalogue_file_is_a_config_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(importlib.resources, "files", lambda _package: tmp_path)
    with pytest.raises(ConfigError, match="cannot be read"):
        load_catalogue.__wrapped__()
