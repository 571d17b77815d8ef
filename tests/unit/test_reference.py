"""Reference data: counts, groups, tolerant parsing, and refusal of a broken file."""

from __future__ import annotations

import copy
import dataclasses
from collections import Counter
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml

from governance.errors import ConfigError
from governance.reference import (
    Reference,
    load_reference,
    parse_reference,
    read_reference,
)

TOP_LEVEL_CODES = [*"ABCDEFGHJKLMNPRS", "Z", "99", "X"]


@pytest.fixture(scope="module")
def ref() -> Reference:
    return load_reference()


@pytest.fixture(scope="module")
def raw_text() -> str:
    data = resources.files("governance").joinpath("data", "reference.yaml")
    return data.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def raw_data(raw_text: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.load(raw_text, Loader=yaml.CSafeLoader)
    return data


def _dump(data: dict[str, Any]) -> str:
    return yaml.dump(data, Dumper=yaml.CSafeDumper)


# --- contents ----------------------------------------------------------------------


def test_twelve_bodies_by_type(ref: Reference) -> None:
    assert [b.code for b in ref.bodies] == [
        *(f"7A{i}" for i in range(1, 8)),
        "RQF",
        "RT4",
        "RYT",
        "HEIW",
        "DHCW",
    ]
    assert Counter(b.type for b in ref.bodies) == {
        "local_health_board": 7,
        "nhs_trust": 3,
        "special_health_authority": 2,
    }
    assert {b.code for b in ref.bodies if b.code_status == "unconfirmed"} == {
        "HEIW",
        "DHCW",
    }
    assert sum(b.synthetic_weight for b in ref.bodies) == pytest.approx(1.0)
    assert all(b.synthetic_weight > 0 for b in ref.bodies)
    assert ref.body("7A3").short_name == "SBUHB"
    assert ref.body(" heiw ").type == "special_health_authority"


def test_unknown_body_raises_key_error(ref: Reference) -> None:
    with pytest.raises(KeyError):
        ref.body("7A8")


def test_ethnic_categories(ref: Reference) -> None:
    top = [c for c in ref.ethnic_categories if c.parent is None]
    extended = [c for c in ref.ethnic_categories if c.parent is not None]
    assert [c.code for c in top] == TOP_LEVEL_CODES
    assert len(extended) == 51
    assert all(len(c.code) == 2 and c.code.startswith(c.parent or "") for c in extended)
    assert Counter(c.wres_group for c in top) == {
        "White": 3,
        "Ethnic minority": 13,
        "Not stated": 3,
    }
    for cat in extended:
        parent = ref.ethnic(cat.parent or "")
        assert (cat.broad_group, cat.wres_group) == (
            parent.broad_group,
            parent.wres_group,
        )
    assert ref.ethnic("A").esr_display == "A White - British"
    assert ref.ethnic("CC").esr_display == "CC White - Welsh"
    assert ref.ethnic("Z").esr_display == "Z Not Stated"
    assert ref.ethnic("99").esr_display == "99 Not Known"
    assert ref.ethnic("CN").wres_group == "White"  # WRES counts GRT staff as White
    assert ref.ethnic("SC").broad_group == "Other"
    with pytest.raises(KeyError):
        ref.ethnic("Q")


def test_census_2021_maps_to_nhs_codes(ref: Reference) -> None:
    assert [c.code for c in ref.census_2021] == list(range(1, 20))
    for census in ref.census_2021:
        assert ref.ethnic(census.maps_to_nhs_code).wres_group == census.wres_group
    assert {c.maps_to_nhs_code for c in ref.census_2021 if "Roma" in c.label} == {"C"}


def test_bands_grades_and_staff_groups(ref: Reference) -> None:
    afc = ("1", "2", "3", "4", "5", "6", "7", "8a", "8b", "8c", "8d", "9")
    assert ref.afc_bands == afc
    assert ref.pay_bands == (*afc, "VSM")
    subgroups = {g.name: g.wres_subgroup for g in ref.medical_grades}
    assert subgroups["Consultant"] == "Consultants"
    assert subgroups["Specialist"] == "Non-consultant career grades"
    assert subgroups["Foundation House Officer 1"] == "Trainee grades"
    assert set(subgroups.values()) == {
        "Consultants",
        "Non-consultant career grades",
        "Trainee grades",
        "Other",
    }
    assert [g.code for g in ref.staff_groups] == [f"{i:02d}" for i in range(1, 11)]
    non_clinical = {g.name for g in ref.staff_groups if g.clinical is False}
    assert non_clinical == {"Administrative and Clerical", "Estates and Ancillary"}
    assert ref.staff_group("10").clinical is None
    assert ref.staff_group("05").esr_label == "Add Prof Scientific and Technic"
    with pytest.raises(KeyError):
        ref.staff_group("1")  # the code is two digits; parse_staff_group is tolerant


def test_synthetic_assumptions_carry_status(ref: Reference) -> None:
    syn = ref.synthetic
    assert syn.total_headcount.value == 112_105
    assert syn.total_headcount.status == "confirmed"
    assert syn.not_stated_share.value == pytest.approx(0.07)
    assert syn.minority_share_by_staff_group.value["01"] == pytest.approx(0.35)
    assert syn.org_weights.value["7A1"] == ref.body("7A1").synthetic_weight
    assert set(syn.medical_grade_mix.value) == {g.name for g in ref.medical_grades}
    assert syn.staff_group_mix_for("RT4") != syn.staff_group_mix_for("7A1")
    rec = syn.recruitment.value
    appointment_rl = (
        rec.appointment_rate["White"] / rec.appointment_rate["Ethnic minority"]
    )
    assert appointment_rl == pytest.approx(1.5)
    for field in dataclasses.fields(syn):
        assumption = getattr(syn, field.name)
        assert assumption.status in {"confirmed", "memory", "unconfirmed"}, field.name
        assert assumption.source, field.name


def test_reference_is_frozen_and_cached(ref: Reference) -> None:
    assert load_reference() is ref
    assert hash(ref) == hash(load_reference())
    with pytest.raises(dataclasses.FrozenInstanceError):
        ref.afc_bands = ()  # type: ignore[misc]  # the point: frozen refuses it
    with pytest.raises(TypeError):
        ref.synthetic.staff_group_mix.value["01"] = 1.0  # type: ignore[index]


# --- tolerant parsing --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("A", "A"),
        ("a", "A"),
        ("CC", "CC"),
        ("cc", "CC"),
        ("99", "99"),
        ("A White - British", "A"),
        ("  a   WHITE -  british ", "A"),
        ("CC White - Welsh", "CC"),
        ("Z Not Stated", "Z"),
        ("Z Not stated", "Z"),
        ("Z Declined", "Z"),  # a known code decides; label spelling is tolerated
        ("99 Not Known", "99"),
        ("C3 White - Other white, white unspecified", "C3"),
        ("A: White British", "A"),
        ("Welsh", "CC"),  # an unambiguous bare label
        ("H Asian or Asian British - Indian", "H"),
    ],
)
def test_parse_ethnic_origin_accepts(ref: Reference, text: str, code: str) -> None:
    found = ref.parse_ethnic_origin(text)
    assert found is not None
    assert found.code == code


@pytest.mark.parametrize(
    "text", ["", "   ", "Q", "I", "QQ White - Other", "A1", "White", "Not"]
)
def test_parse_ethnic_origin_rejects(ref: Reference, text: str) -> None:
    assert ref.parse_ethnic_origin(text) is None


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("01", "01"),
        ("1", "01"),
        ("Medical and Dental", "01"),
        ("MEDICAL  AND DENTAL", "01"),
        ("Add Prof Scientific and Technic", "05"),
        ("additional professional scientific and technical", "05"),
        ("08 Administrative and Clerical", "08"),
        ("10", "10"),
    ],
)
def test_parse_staff_group(ref: Reference, text: str, code: str) -> None:
    group = ref.parse_staff_group(text)
    assert group is not None
    assert group.code == code


@pytest.mark.parametrize("text", ["", "11", "0", "Doctors", "Medical"])
def test_parse_staff_group_rejects(ref: Reference, text: str) -> None:
    assert ref.parse_staff_group(text) is None


@pytest.mark.parametrize(
    ("text", "band"),
    [
        ("Band 5", "5"),
        ("5", "5"),
        ("05", "5"),
        ("AfC Band 5", "5"),
        ("Agenda for Change Band 6", "6"),
        ("band 8A", "8a"),
        ("Band 8 a", "8a"),
        ("8a", "8a"),
        ("8D", "8d"),
        ("Band 9", "9"),
        ("VSM", "VSM"),
        ("vsm", "VSM"),
        ("Very Senior Manager", "VSM"),
        ("Consultant", "Consultant"),
        ("CONSULTANT", "Consultant"),
        ("specialty  doctor", "Specialty Doctor"),
        ("Specialist", "Specialist"),
    ],
)
def test_parse_pay_band(ref: Reference, text: str, band: str) -> None:
    assert ref.parse_pay_band(text) == band


@pytest.mark.parametrize(
    "text", ["", "Band 10", "10", "8e", "Band", "band consultant", "Grade 5", "B5"]
)
def test_parse_pay_band_rejects(ref: Reference, text: str) -> None:
    assert ref.parse_pay_band(text) is None


def test_is_medical_grade(ref: Reference) -> None:
    assert ref.is_medical_grade("Consultant")
    assert ref.is_medical_grade("foundation house officer 1")
    assert not ref.is_medical_grade("5")
    assert not ref.is_medical_grade("VSM")


# --- validation of a broken copy ---------------------------------------------------

Mutation = Callable[[dict[str, Any]], None]


def _items(data: dict[str, Any], section: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = data[section]["items"]
    return items


def _duplicate_body(data: dict[str, Any]) -> None:
    _items(data, "bodies")[1]["code"] = "7A1"


def _extra_body(data: dict[str, Any]) -> None:
    extra = copy.deepcopy(_items(data, "bodies")[0])
    extra.update(code="7A8", short_name="XXUHB")
    _items(data, "bodies").append(extra)


def _wrong_type(data: dict[str, Any]) -> None:
    _items(data, "bodies")[7]["type"] = "local_health_board"


def _negative_weight(data: dict[str, Any]) -> None:
    _items(data, "bodies")[0]["synthetic_weight"] = -5


def _orphan_extended(data: dict[str, Any]) -> None:
    data["ethnic_categories"]["extended"]["items"][0]["parent"] = "Q"


def _duplicate_ethnic(data: dict[str, Any]) -> None:
    data["ethnic_categories"]["extended"]["items"][0]["code"] = "CC"


def _bad_display(data: dict[str, Any]) -> None:
    _items(data["ethnic_categories"], "extended")[0]["esr_display"] = "White - Welsh"


def _minority_white(data: dict[str, Any]) -> None:
    _items(data, "ethnic_categories")[0]["wres_group"] = "Ethnic minority"


def _unknown_key(data: dict[str, Any]) -> None:
    _items(data, "staff_groups")[0]["colour"] = "blue"


def _unknown_group_in_mix(data: dict[str, Any]) -> None:
    data["synthetic"]["staff_group_mix"]["value"]["42"] = 0.1


def _share_above_one(data: dict[str, Any]) -> None:
    data["synthetic"]["not_stated_share"]["value"] = 1.5


def _bad_status(data: dict[str, Any]) -> None:
    data["synthetic"]["not_stated_share"]["status"] = "probably"


def _census_unknown_code(data: dict[str, Any]) -> None:
    _items(data, "census_2021")[0]["maps_to_nhs_code"] = "Q"


def _grade_clashes_with_band(data: dict[str, Any]) -> None:
    _items(data, "medical_grades")[0]["name"] = "vsm"


def _wrong_code_in_mix(data: dict[str, Any]) -> None:
    data["synthetic"]["ethnic_code_mix"]["value"]["White"]["H"] = 0.1


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (_duplicate_body, "duplicate body code"),
        (_extra_body, "bodies must be 7 local_health_board"),
        (_wrong_type, "bodies must be 7 local_health_board"),
        (_negative_weight, "bodies.items.0.synthetic_weight"),
        (_orphan_extended, "parent does not exist"),
        (_duplicate_ethnic, "duplicate ethnic code"),
        (_bad_display, "esr_display must start with it"),
        (_minority_white, "WRES group must be White"),
        (_unknown_key, "staff_groups.items.0.colour"),
        (_unknown_group_in_mix, "staff_group_mix names unknown codes"),
        (_share_above_one, "synthetic.not_stated_share.value"),
        (_bad_status, "synthetic.not_stated_share.status"),
        (_census_unknown_code, "maps to an unknown NHS code"),
        (_grade_clashes_with_band, "medical grades clash with pay bands"),
        (_wrong_code_in_mix, "are in another group"),
    ],
)
def test_broken_copy_is_refused(
    raw_data: dict[str, Any], mutate: Mutation, expected: str
) -> None:
    data = copy.deepcopy(raw_data)
    mutate(data)
    with pytest.raises(ConfigError) as caught:
        parse_reference(_dump(data), "broken.yaml")
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("reference data broken.yaml is invalid: ")
    assert expected in message


def test_unmodified_round_trip_is_accepted(raw_data: dict[str, Any]) -> None:
    rebuilt = parse_reference(_dump(raw_data))
    assert rebuilt.bodies == load_reference().bodies


def test_not_yaml_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"not valid YAML at line \d+$"):
        parse_reference("meta:\n  version: [1\n", "broken.yaml")


def test_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"cannot be read \(FileNotFoundError\)"):
        read_reference(tmp_path / "absent.yaml")


def test_read_reference_from_a_copy(tmp_path: Path, raw_text: str) -> None:
    copy_path = tmp_path / "reference.yaml"
    copy_path.write_text(raw_text, encoding="utf-8")
    assert read_reference(copy_path).pay_bands == load_reference().pay_bands
