"""The synthetic generator's assumptions, as frozen values built from the reference file.

Owns :class:`SyntheticAssumptions`: every figure the synthetic ESR extract generator
draws from (headcount, body weights, ethnic mix by staff group, band mix, grade mix,
recruitment, employee-relations and training rates, board make-up), each wrapped in an
:class:`Assumption` that says how sure we are (``confirmed``, ``memory``,
``unconfirmed``) and where the figure came from.

Must never: import the generator (``synthetic`` depends on this, never the reverse),
or be used by the governance pipeline to decide anything about real data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Generic, TypeVar

from governance.reference_schema import (
    AgeBand,
    Assumed,
    BroadGroup,
    CaseStage,
    CaseType,
    MedicalSubgroup,
    ReferenceFile,
    Status,
    WresGroup,
)

T = TypeVar("T")
U = TypeVar("U")
K = TypeVar("K")
K2 = TypeVar("K2")
V = TypeVar("V")


@dataclass(frozen=True)
class Assumption(Generic[T]):
    """A value the generator uses, with its status and source."""

    value: T
    status: Status
    source: str
    note: str | None = None


@dataclass(frozen=True)
class AgeProfile:
    """Age in years at the snapshot: normal(mean, sd) clipped to [min, max]."""

    mean: float
    sd: float
    min: int
    max: int


@dataclass(frozen=True)
class AgeAssumptions:
    default: AgeProfile
    by_staff_group: Mapping[str, AgeProfile]
    by_medical_subgroup: Mapping[MedicalSubgroup, AgeProfile]


@dataclass(frozen=True)
class FteRange:
    min: float
    max: float


@dataclass(frozen=True)
class JobRole:
    role: str
    occupation_code: str
    weight: float


@dataclass(frozen=True)
class RecruitmentAssumptions:
    applicants_per_staff: float
    not_stated_share: float
    minority_share_of_declared: float
    shortlist_rate: Mapping[WresGroup, float]
    appointment_rate: Mapping[WresGroup, float]
    """Share of shortlisted applicants appointed (WRES indicator 2)."""
    post_band_mix: Mapping[str, float]


@dataclass(frozen=True)
class ErCaseAssumptions:
    rate: Mapping[CaseType, Mapping[WresGroup, float]]
    """Share of staff in post entering a formal process in the year."""
    stage_mix: Mapping[CaseStage, float]


@dataclass(frozen=True)
class TrainingAssumptions:
    access_rate: Mapping[WresGroup, float]
    courses_per_person: Mapping[int, float]
    courses: tuple[str, ...]


@dataclass(frozen=True)
class BoardAssumptions:
    min_members: int
    max_members: int
    executive_share: float
    executive_voting_share: float
    not_stated_share: float
    minority_share_of_declared: float


@dataclass(frozen=True)
class SyntheticAssumptions:
    """Everything the synthetic generator needs; mixes are weights (not normalised)."""

    total_headcount: Assumption[int]
    org_weights: Assumption[Mapping[str, float]]
    """Body code to share of headcount (sums to 1)."""
    not_stated_share: Assumption[float]
    not_stated_code_mix: Assumption[Mapping[str, float]]
    minority_share_by_staff_group: Assumption[Mapping[str, float]]
    """Staff group code to ethnic minority share of staff with a declared ethnicity."""
    within_minority_mix: Assumption[Mapping[BroadGroup, float]]
    ethnic_code_mix: Assumption[Mapping[BroadGroup, Mapping[str, float]]]
    """Broad group to ethnic code weights (including extended codes)."""
    staff_group_mix: Assumption[Mapping[str, float]]
    staff_group_mix_by_body: Assumption[Mapping[str, Mapping[str, float]]]
    band_mix_by_staff_group: Assumption[Mapping[str, Mapping[str, float]]]
    minority_band_tilt: Assumption[Mapping[str, float]]
    medical_grade_mix: Assumption[Mapping[str, float]]
    minority_medical_subgroup_tilt: Assumption[Mapping[MedicalSubgroup, float]]
    female_share_by_staff_group: Assumption[Mapping[str, float]]
    age: Assumption[AgeAssumptions]
    tenure_mean_years: Assumption[float]
    full_time_share: Assumption[float]
    part_time_fte: Assumption[FteRange]
    second_assignment_share: Assumption[float]
    contract_type_mix: Assumption[Mapping[str, float]]
    contract_type_mix_trainee: Assumption[Mapping[str, float]]
    second_assignment_contract_mix: Assumption[Mapping[str, float]]
    job_roles: Assumption[Mapping[str, tuple[JobRole, ...]]]
    recruitment: Assumption[RecruitmentAssumptions]
    er_cases: Assumption[ErCaseAssumptions]
    training: Assumption[TrainingAssumptions]
    board: Assumption[BoardAssumptions]

    def staff_group_mix_for(self, body_code: str) -> Mapping[str, float]:
        """The staff group weights for a body (its own mix, else the national one)."""
        return self.staff_group_mix_by_body.value.get(
            body_code, self.staff_group_mix.value
        )


def _frozen(mapping: Mapping[K, V]) -> Mapping[K, V]:
    return MappingProxyType(dict(mapping))


def _nested(mapping: Mapping[K, dict[K2, V]]) -> Mapping[K, Mapping[K2, V]]:
    return MappingProxyType({key: _frozen(inner) for key, inner in mapping.items()})


def _wrap(assumed: Assumed[U], value: T) -> Assumption[T]:
    return Assumption(value, assumed.status, assumed.source, assumed.note)


def _age(band: AgeBand) -> AgeProfile:
    return AgeProfile(band.mean, band.sd, band.min, band.max)


def build_assumptions(ref: ReferenceFile) -> SyntheticAssumptions:
    """Turn the validated ``synthetic`` section (and body and grade weights) into values."""
    syn = ref.synthetic
    total = sum(b.synthetic_weight for b in ref.bodies.items)
    age = syn.age.value
    rec = syn.recruitment.value
    er = syn.er_cases.value
    training = syn.training.value
    board = syn.board.value
    return SyntheticAssumptions(
        total_headcount=_wrap(syn.total_headcount, syn.total_headcount.value),
        org_weights=Assumption(
            _frozen({b.code: b.synthetic_weight / total for b in ref.bodies.items}),
            "unconfirmed",
            "bodies[].synthetic_weight normalised; see each body's weight_source",
        ),
        not_stated_share=_wrap(syn.not_stated_share, syn.not_stated_share.value),
        not_stated_code_mix=_wrap(
            syn.not_stated_code_mix, _frozen(syn.not_stated_code_mix.value)
        ),
        minority_share_by_staff_group=_wrap(
            syn.minority_share_by_staff_group,
            _frozen(syn.minority_share_by_staff_group.value),
        ),
        within_minority_mix=_wrap(
            syn.within_minority_mix, _frozen(syn.within_minority_mix.value)
        ),
        ethnic_code_mix=_wrap(syn.ethnic_code_mix, _nested(syn.ethnic_code_mix.value)),
        staff_group_mix=_wrap(syn.staff_group_mix, _frozen(syn.staff_group_mix.value)),
        staff_group_mix_by_body=_wrap(
            syn.staff_group_mix_by_body, _nested(syn.staff_group_mix_by_body.value)
        ),
        band_mix_by_staff_group=_wrap(
            syn.band_mix_by_staff_group, _nested(syn.band_mix_by_staff_group.value)
        ),
        minority_band_tilt=_wrap(
            syn.minority_band_tilt, _frozen(syn.minority_band_tilt.value)
        ),
        medical_grade_mix=Assumption(
            _frozen({g.name: g.synthetic_weight for g in ref.medical_grades.items}),
            "unconfirmed",
            "medical_grades[].synthetic_weight: StatsWales FTE by grade (30 Sept 2017, "
            "confirmed) used as a headcount mix; the Specialist weight is assumed",
        ),
        minority_medical_subgroup_tilt=_wrap(
            syn.minority_medical_subgroup_tilt,
            _frozen(syn.minority_medical_subgroup_tilt.value),
        ),
        female_share_by_staff_group=_wrap(
            syn.female_share_by_staff_group,
            _frozen(syn.female_share_by_staff_group.value),
        ),
        age=_wrap(
            syn.age,
            AgeAssumptions(
                default=_age(age.default),
                by_staff_group=_frozen(
                    {k: _age(v) for k, v in age.by_staff_group.items()}
                ),
                by_medical_subgroup=_frozen(
                    {k: _age(v) for k, v in age.by_medical_subgroup.items()}
                ),
            ),
        ),
        tenure_mean_years=_wrap(syn.tenure_mean_years, syn.tenure_mean_years.value),
        full_time_share=_wrap(syn.full_time_share, syn.full_time_share.value),
        part_time_fte=_wrap(
            syn.part_time_fte,
            FteRange(syn.part_time_fte.value.min, syn.part_time_fte.value.max),
        ),
        second_assignment_share=_wrap(
            syn.second_assignment_share, syn.second_assignment_share.value
        ),
        contract_type_mix=_wrap(
            syn.contract_type_mix, _frozen(syn.contract_type_mix.value)
        ),
        contract_type_mix_trainee=_wrap(
            syn.contract_type_mix_trainee, _frozen(syn.contract_type_mix_trainee.value)
        ),
        second_assignment_contract_mix=_wrap(
            syn.second_assignment_contract_mix,
            _frozen(syn.second_assignment_contract_mix.value),
        ),
        job_roles=_wrap(
            syn.job_roles,
            _frozen(
                {
                    group: tuple(
                        JobRole(r.role, r.occupation_code, r.weight) for r in roles
                    )
                    for group, roles in syn.job_roles.value.items()
                }
            ),
        ),
        recruitment=_wrap(
            syn.recruitment,
            RecruitmentAssumptions(
                applicants_per_staff=rec.applicants_per_staff,
                not_stated_share=rec.not_stated_share,
                minority_share_of_declared=rec.minority_share_of_declared,
                shortlist_rate=_frozen(rec.shortlist_rate),
                appointment_rate=_frozen(rec.appointment_rate),
                post_band_mix=_frozen(rec.post_band_mix),
            ),
        ),
        er_cases=_wrap(
            syn.er_cases, ErCaseAssumptions(_nested(er.rate), _frozen(er.stage_mix))
        ),
        training=_wrap(
            syn.training,
            TrainingAssumptions(
                access_rate=_frozen(training.access_rate),
                courses_per_person=_frozen(training.courses_per_person),
                courses=tuple(training.courses),
            ),
        ),
        board=_wrap(
            syn.board,
            BoardAssumptions(
                min_members=board.min_members,
                max_members=board.max_members,
                executive_share=board.executive_share,
                executive_voting_share=board.executive_voting_share,
                not_stated_share=board.not_stated_share,
                minority_share_of_declared=board.minority_share_of_declared,
            ),
        ),
    )
