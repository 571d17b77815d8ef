"""The on-disk shape of ``governance/data/reference.yaml``, and its consistency checks.

Owns the pydantic models that validate the reference file (frozen, ``extra="forbid"``)
and :func:`check_consistency`, which checks what a field-by-field schema cannot: unique
codes, parents that exist, the twelve NHS Wales bodies by type, and that every code an
assumption names is a known code. :mod:`governance.reference` turns the validated file
into the frozen dataclasses the rest of wresgov uses.

Must never be imported for its models by anything but :mod:`governance.reference`; the
models are an input format, not an API.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Annotated, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, PositiveInt

Status = Literal["confirmed", "memory", "unconfirmed"]
BodyType = Literal["local_health_board", "nhs_trust", "special_health_authority"]
WresGroup = Literal["White", "Ethnic minority", "Not stated"]
BroadGroup = Literal["White", "Mixed", "Asian", "Black", "Other", "Not stated"]
MedicalSubgroup = Literal[
    "Consultants", "Non-consultant career grades", "Trainee grades", "Other"
]
CaseType = Literal["Disciplinary", "Capability"]
CaseStage = Literal["Investigation", "Hearing", "Appeal", "Closed"]

Share = Annotated[float, Field(ge=0.0, le=1.0)]
Text = Annotated[str, Field(min_length=1)]

#: The bodies NHS Wales is made of, by type: 7 health boards, 3 trusts, 2 SHAs.
EXPECTED_BODY_TYPES: dict[str, int] = {
    "local_health_board": 7,
    "nhs_trust": 3,
    "special_health_authority": 2,
}

#: ESR staff group code of Medical and Dental, whose staff hold grades, not AfC bands.
MEDICAL_AND_DENTAL = "01"

T = TypeVar("T")


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class BodyItem(_Model):
    code: Text
    name: Text
    short_name: Text
    type: BodyType
    code_status: Status
    synthetic_weight: PositiveFloat
    weight_status: Status
    weight_source: Text
    code_note: str | None = None
    note: str | None = None


class Bodies(_Model):
    status: Status
    source: Text
    code_source: Text
    weight_note: str | None = None
    items: list[BodyItem]


class EthnicItem(_Model):
    code: Text
    label: Text
    broad_group: BroadGroup
    wres_group: WresGroup
    esr_display: Text
    note: str | None = None
    source: str | None = None


class ExtendedEthnicItem(_Model):
    code: Annotated[str, Field(min_length=2, max_length=2)]
    label: Text
    parent: Text
    esr_display: Text
    policy_flag: str | None = None


class ExtendedEthnic(_Model):
    status: Status
    source: Text
    status_note: str | None = None
    items: list[ExtendedEthnicItem]


class EthnicCategories(_Model):
    status: Status
    source: Text
    wres_group_source: Text
    esr_display_status: Status
    esr_display_source: Text
    items: list[EthnicItem]
    extended: ExtendedEthnic


class CensusItem(_Model):
    code: PositiveInt
    label: Text
    broad_group: BroadGroup
    wres_group: WresGroup
    maps_to_nhs_code: Text
    policy_flag: str | None = None


class Census(_Model):
    status: Status
    source: Text
    mapping_status: Status
    items: list[CensusItem]


class BandItem(_Model):
    band: Text
    job_weight: Text
    weight_status: Status


class NonAfcBand(_Model):
    code: Text
    label: Text
    status: Status
    source: Text


class AfcBands(_Model):
    status: Status
    source: Text
    note: str | None = None
    items: list[BandItem]
    non_afc: list[NonAfcBand]


class GradeItem(_Model):
    name: Text
    wres_subgroup: MedicalSubgroup
    synthetic_weight: PositiveFloat
    status: Status | None = None
    source: str | None = None


class MedicalGrades(_Model):
    status: Status
    source: Text
    wres_subgroup_status: Status
    items: list[GradeItem]


class StaffGroupItem(_Model):
    code: Annotated[str, Field(pattern=r"^[0-9]{2}$")]
    name: Text
    esr_label: Text
    clinical: bool | None
    esr_label_status: Status | None = None
    note: str | None = None


class StaffGroups(_Model):
    status: Status
    source: Text
    definitions_source: Text
    clinical_status: Status
    clinical_note: str | None = None
    items: list[StaffGroupItem]


class Assumed(_Model, Generic[T]):
    """One generator assumption: its value, how sure we are, and where it came from."""

    value: T
    status: Status
    source: Text
    note: str | None = None


class AgeBand(_Model):
    mean: PositiveFloat
    sd: PositiveFloat
    min: Annotated[int, Field(ge=16, le=100)]
    max: Annotated[int, Field(ge=16, le=100)]


class AgeValue(_Model):
    default: AgeBand
    by_staff_group: dict[str, AgeBand]
    by_medical_subgroup: dict[MedicalSubgroup, AgeBand]


class FteRange(_Model):
    min: Annotated[float, Field(gt=0.0, le=1.0)]
    max: Annotated[float, Field(gt=0.0, le=1.0)]


class JobRoleItem(_Model):
    role: Text
    occupation_code: Annotated[str, Field(pattern=r"^[A-Z0-9]{3}$")]
    weight: PositiveFloat


class RecruitmentValue(_Model):
    applicants_per_staff: PositiveFloat
    not_stated_share: Share
    minority_share_of_declared: Share
    shortlist_rate: dict[WresGroup, Share]
    appointment_rate: dict[WresGroup, Share]
    post_band_mix: dict[str, PositiveFloat]


class ErCasesValue(_Model):
    rate: dict[CaseType, dict[WresGroup, Share]]
    stage_mix: dict[CaseStage, PositiveFloat]


class TrainingValue(_Model):
    access_rate: dict[WresGroup, Share]
    courses_per_person: dict[PositiveInt, PositiveFloat]
    courses: Annotated[list[Text], Field(min_length=1)]


class BoardValue(_Model):
    min_members: PositiveInt
    max_members: PositiveInt
    executive_share: Share
    executive_voting_share: Share
    not_stated_share: Share
    minority_share_of_declared: Share


Weights = dict[str, PositiveFloat]


class Synthetic(_Model):
    total_headcount: Assumed[PositiveInt]
    not_stated_share: Assumed[Share]
    not_stated_code_mix: Assumed[Weights]
    minority_share_by_staff_group: Assumed[dict[str, Share]]
    within_minority_mix: Assumed[dict[BroadGroup, PositiveFloat]]
    ethnic_code_mix: Assumed[dict[BroadGroup, Weights]]
    staff_group_mix: Assumed[Weights]
    staff_group_mix_by_body: Assumed[dict[str, Weights]]
    band_mix_by_staff_group: Assumed[dict[str, Weights]]
    minority_band_tilt: Assumed[Weights]
    minority_medical_subgroup_tilt: Assumed[dict[MedicalSubgroup, PositiveFloat]]
    female_share_by_staff_group: Assumed[dict[str, Share]]
    age: Assumed[AgeValue]
    tenure_mean_years: Assumed[PositiveFloat]
    full_time_share: Assumed[Share]
    part_time_fte: Assumed[FteRange]
    second_assignment_share: Assumed[Share]
    contract_type_mix: Assumed[Weights]
    contract_type_mix_trainee: Assumed[Weights]
    second_assignment_contract_mix: Assumed[Weights]
    job_roles: Assumed[dict[str, Annotated[list[JobRoleItem], Field(min_length=1)]]]
    recruitment: Assumed[RecruitmentValue]
    er_cases: Assumed[ErCasesValue]
    training: Assumed[TrainingValue]
    board: Assumed[BoardValue]


class Meta(_Model):
    version: Literal[1]
    derived_from: Text


class ReferenceFile(_Model):
    """The whole of ``reference.yaml``."""

    meta: Meta
    bodies: Bodies
    ethnic_categories: EthnicCategories
    census_2021: Census
    afc_bands: AfcBands
    medical_grades: MedicalGrades
    staff_groups: StaffGroups
    synthetic: Synthetic


def _duplicates(values: Iterable[str]) -> list[str]:
    return sorted(value for value, n in Counter(values).items() if n > 1)


def _unknown(where: str, keys: Iterable[str], known: Iterable[str]) -> list[str]:
    missing = sorted(set(keys) - set(known))
    return [f"{where} names unknown codes {missing}"] if missing else []


def check_consistency(ref: ReferenceFile) -> list[str]:
    """Return every cross-reference problem in the file (empty when it is consistent)."""
    problems = _check_lists(ref)
    problems += _check_synthetic(ref)
    return problems


def _check_lists(ref: ReferenceFile) -> list[str]:
    problems: list[str] = []
    bodies = ref.bodies.items
    for what, values in (
        ("body code", [b.code for b in bodies]),
        ("body short name", [b.short_name for b in bodies]),
        ("staff group code", [g.code for g in ref.staff_groups.items]),
        ("census code", [str(c.code) for c in ref.census_2021.items]),
        ("AfC band", [b.band.casefold() for b in ref.afc_bands.items]),
        ("medical grade", [g.name.casefold() for g in ref.medical_grades.items]),
    ):
        if dups := _duplicates(values):
            problems.append(f"duplicate {what} {dups}")
    types = Counter(b.type for b in bodies)
    if dict(types) != EXPECTED_BODY_TYPES:
        problems.append(
            f"bodies must be 7 local_health_board, 3 nhs_trust and 2 "
            f"special_health_authority, found {dict(sorted(types.items()))}"
        )
    ethnic = ref.ethnic_categories
    top = {item.code: item for item in ethnic.items}
    codes = [item.code.casefold() for item in ethnic.items]
    codes += [item.code.casefold() for item in ethnic.extended.items]
    if dups := _duplicates(codes):
        problems.append(f"duplicate ethnic code {dups}")
    shown = [(i.code, i.esr_display) for i in ethnic.items]
    shown += [(i.code, i.esr_display) for i in ethnic.extended.items]
    if dups := _duplicates(display.casefold() for _, display in shown):
        problems.append(f"duplicate ethnic esr_display {dups}")
    for code, display in shown:
        if not display.startswith(f"{code} "):
            problems.append(f"ethnic code {code}: esr_display must start with it")
    for item in ethnic.items:
        expected = {"White": "White", "Not stated": "Not stated"}.get(
            item.broad_group, "Ethnic minority"
        )
        if item.wres_group != expected:
            problems.append(f"ethnic code {item.code}: WRES group must be {expected}")
    for ext in ethnic.extended.items:
        if ext.parent not in top:
            problems.append(f"extended ethnic code {ext.code}: parent does not exist")
        elif not ext.code.startswith(ext.parent):
            problems.append(f"extended ethnic code {ext.code}: must start with parent")
    for census in ref.census_2021.items:
        target = top.get(census.maps_to_nhs_code)
        if target is None:
            problems.append(f"census code {census.code}: maps to an unknown NHS code")
        elif target.wres_group != census.wres_group:
            problems.append(f"census code {census.code}: WRES group differs from map")
    bands = {b.band.casefold() for b in ref.afc_bands.items}
    bands |= {b.code.casefold() for b in ref.afc_bands.non_afc}
    if clash := sorted(bands & {g.name.casefold() for g in ref.medical_grades.items}):
        problems.append(f"medical grades clash with pay bands {clash}")
    return problems


def _check_synthetic(ref: ReferenceFile) -> list[str]:
    syn = ref.synthetic
    body_codes = [b.code for b in ref.bodies.items]
    groups = [g.code for g in ref.staff_groups.items]
    afc = [b.band for b in ref.afc_bands.items] + [
        b.code for b in ref.afc_bands.non_afc
    ]
    grades = [g.name for g in ref.medical_grades.items]
    ethnic = {i.code: i.broad_group for i in ref.ethnic_categories.items}
    ethnic |= {
        e.code: ethnic[e.parent]
        for e in ref.ethnic_categories.extended.items
        if e.parent in ethnic
    }
    problems: list[str] = []
    problems += _unknown("not_stated_code_mix", syn.not_stated_code_mix.value, ethnic)
    for code in syn.not_stated_code_mix.value:
        if ethnic.get(code, "Not stated") != "Not stated":
            problems.append(f"not_stated_code_mix: {code} is not a not-stated code")
    for broad, mix in syn.ethnic_code_mix.value.items():
        problems += _unknown(f"ethnic_code_mix.{broad}", mix, ethnic)
        if wrong := sorted(c for c in mix if ethnic.get(c, broad) != broad):
            problems.append(f"ethnic_code_mix.{broad}: {wrong} are in another group")
    needed: set[str] = {"White", *syn.within_minority_mix.value}
    if missing := sorted(needed - {str(k) for k in syn.ethnic_code_mix.value}):
        problems.append(f"ethnic_code_mix has no mix for {missing}")
    if bad := sorted(
        set(syn.within_minority_mix.value) - {"Asian", "Black", "Mixed", "Other"}
    ):
        problems.append(f"within_minority_mix: {bad} are not ethnic minority groups")
    keyed: list[tuple[str, Iterable[str]]] = [
        ("minority_share_by_staff_group", syn.minority_share_by_staff_group.value),
        ("staff_group_mix", syn.staff_group_mix.value),
        ("band_mix_by_staff_group", syn.band_mix_by_staff_group.value),
        ("female_share_by_staff_group", syn.female_share_by_staff_group.value),
        ("age.by_staff_group", syn.age.value.by_staff_group),
        ("job_roles", syn.job_roles.value),
    ]
    for name, keys in keyed:
        problems += _unknown(name, keys, groups)
    mixes = [syn.staff_group_mix.value, *syn.staff_group_mix_by_body.value.values()]
    drawn = {code for mix in mixes for code in mix}
    for name, table in (
        ("minority_share_by_staff_group", syn.minority_share_by_staff_group.value),
        ("female_share_by_staff_group", syn.female_share_by_staff_group.value),
        ("job_roles", syn.job_roles.value),
    ):
        if missing := sorted(drawn - set(table)):
            problems.append(f"{name} has no entry for staff groups {missing}")
    if missing := sorted(
        drawn - {MEDICAL_AND_DENTAL} - set(syn.band_mix_by_staff_group.value)
    ):
        problems.append(f"band_mix_by_staff_group has no entry for {missing}")
    problems += _unknown(
        "staff_group_mix_by_body", syn.staff_group_mix_by_body.value, body_codes
    )
    for body, mix in syn.staff_group_mix_by_body.value.items():
        problems += _unknown(f"staff_group_mix_by_body.{body}", mix, groups)
    for group, mix in syn.band_mix_by_staff_group.value.items():
        problems += _unknown(f"band_mix_by_staff_group.{group}", mix, afc)
    problems += _unknown("minority_band_tilt", syn.minority_band_tilt.value, afc)
    if missing := sorted(set(afc) - set(syn.minority_band_tilt.value)):
        problems.append(f"minority_band_tilt has no entry for bands {missing}")
    problems += _unknown(
        "recruitment.post_band_mix", syn.recruitment.value.post_band_mix, afc + grades
    )
    for age in (
        syn.age.value.default,
        *syn.age.value.by_staff_group.values(),
        *syn.age.value.by_medical_subgroup.values(),
    ):
        if age.min >= age.max:
            problems.append("age: every min must be below its max")
    if syn.part_time_fte.value.min > syn.part_time_fte.value.max:
        problems.append("part_time_fte: min must not exceed max")
    board = syn.board.value
    if board.min_members > board.max_members:
        problems.append("board: min_members must not exceed max_members")
    wres: set[str] = {"White", "Ethnic minority", "Not stated"}
    rec = syn.recruitment.value
    rates: list[tuple[str, Mapping[WresGroup, float]]] = [
        ("recruitment.shortlist_rate", rec.shortlist_rate),
        ("recruitment.appointment_rate", rec.appointment_rate),
        ("training.access_rate", syn.training.value.access_rate),
        *((f"er_cases.rate.{t}", r) for t, r in syn.er_cases.value.rate.items()),
    ]
    for rate_name, rate_table in rates:
        if missing := sorted(wres - set(rate_table)):
            problems.append(f"{rate_name} has no rate for {missing}")
    if set(syn.er_cases.value.rate) != {"Disciplinary", "Capability"}:
        problems.append("er_cases.rate needs Disciplinary and Capability")
    if dups := _duplicates(syn.training.value.courses):
        problems.append(f"training.courses has duplicates {dups}")
    return problems
