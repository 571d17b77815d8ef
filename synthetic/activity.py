"""The year's activity: recruitment, employee-relations cases, training and the board.

Owns the extracts besides staff in post, and the gaps between groups that give
realistic WRES figures. Outcome counts are drawn per body and WRES group as
``rate x group size`` (randomly rounded, so small bodies stay unbiased), then given to
people chosen at random: relative likelihoods land close to the assumed ones
(appointment from shortlisting about 1.5, entering a disciplinary process about 1.2,
accessing training about 1.14) with sampling noise only from rounding.

Employee-relations and training rows use the employee numbers of people in the staff
extract, so the three extracts link. Dates fall in the reporting year (1 April of the
year before the period to 31 March of the period), never before the person started.
"""

from __future__ import annotations

import numpy as np

from governance.extract_format import COLUMNS
from synthetic.plan import (
    MINORITY,
    NOT_STATED,
    WHITE,
    WRES_GROUPS,
    IdScheme,
    Plan,
    normalised,
    randomised_round,
)
from synthetic.staff import People, Row


def _order(kind: str, columns: dict[str, list[str]]) -> list[Row]:
    names = [column.name for column in COLUMNS[kind]]  # type: ignore[index]  # kind is a Kind
    return list(zip(*(columns[name] for name in names), strict=True))


def _wres_groups(
    rng: np.random.Generator, count: int, not_stated_share: float, minority_share: float
) -> np.ndarray:
    not_stated = rng.random(count) < not_stated_share
    minority = ~not_stated & (rng.random(count) < minority_share)
    return np.where(not_stated, NOT_STATED, np.where(minority, MINORITY, WHITE))


def _ethnic_text(plan: Plan, rng: np.random.Generator, wres: np.ndarray) -> list[str]:
    codes = np.zeros(len(wres), dtype=np.int64)
    for group in (WHITE, MINORITY, NOT_STATED):
        mask = wres == group
        codes[mask] = rng.choice(
            len(plan.ethnic_codes), size=int(mask.sum()), p=plan.ethnic_p[group]
        )
    return [plan.ethnic_display[i] for i in codes.tolist()]


def _pick(rng: np.random.Generator, candidates: np.ndarray, rate: float) -> np.ndarray:
    """Choose about ``rate`` of the candidates, without replacement."""
    count = min(randomised_round(rng, len(candidates) * rate), len(candidates))
    chosen: np.ndarray = rng.choice(candidates, size=count, replace=False)
    return chosen


def recruitment(
    plan: Plan, rng: np.random.Generator, ids: IdScheme, org: str, headcount: int
) -> list[Row]:
    """Applicants over the year: ethnicity, post band, shortlisted, appointed."""
    rec = plan.reference.synthetic.recruitment.value
    count = round(headcount * rec.applicants_per_staff)
    wres = _wres_groups(
        rng, count, rec.not_stated_share, rec.minority_share_of_declared
    )
    shortlisted = np.zeros(count, dtype=bool)
    appointed = np.zeros(count, dtype=bool)
    for group, name in enumerate(WRES_GROUPS):
        chosen = _pick(rng, np.flatnonzero(wres == group), rec.shortlist_rate[name])
        shortlisted[chosen] = True
        appointed[_pick(rng, chosen, rec.appointment_rate[name])] = True
    bands = tuple(rec.post_band_mix)
    band = rng.choice(len(bands), size=count, p=normalised(rec.post_band_mix, bands))
    display = {b: t for b, t in zip(plan.bands, plan.band_display, strict=True)}
    return _order(
        "recruitment",
        {
            "applicant_id": [f"A{n}" for n in ids.numbers(0, count).tolist()],
            "organisation_code": [org] * count,
            "ethnic_origin": _ethnic_text(plan, rng, wres),
            "post_band": [display[bands[i]] for i in band.tolist()],
            "shortlisted": ["Y" if s else "N" for s in shortlisted.tolist()],
            "appointed": ["Y" if a else "N" for a in appointed.tolist()],
        },
    )


def _dates_in_year(
    plan: Plan, rng: np.random.Generator, started: np.ndarray
) -> np.ndarray:
    """Uniform day ordinals in the reporting year, not before each person started."""
    low = np.maximum(started, plan.year_start.toordinal())
    span = plan.snapshot.toordinal() - low + 1
    days: np.ndarray = low + np.floor(rng.random(len(started)) * span).astype(np.int64)
    return days


def er_cases(
    plan: Plan, rng: np.random.Generator, org: str, people: People
) -> list[Row]:
    """Formal disciplinary and capability cases opened in the year (one per type)."""
    er = plan.reference.synthetic.er_cases.value
    stages = tuple(er.stage_mix)
    stage_p = normalised(er.stage_mix, stages)
    person: list[np.ndarray] = []
    case_type: list[str] = []
    for kind, rates in er.rate.items():
        for group, name in enumerate(WRES_GROUPS):
            chosen = _pick(rng, np.flatnonzero(people.wres == group), rates[name])
            person.append(chosen)
            case_type += [kind] * len(chosen)
    who = np.concatenate(person) if person else np.zeros(0, dtype=np.int64)
    when = _dates_in_year(plan, rng, people.start[who])
    stage = rng.choice(len(stages), size=len(who), p=stage_p)
    order = np.lexsort((people.employee[who], when)).tolist()
    employee = [str(e) for e in people.employee[who].tolist()]
    dates = plan.dates.format(when)
    return _order(
        "er-cases",
        {
            "employee_number": [employee[i] for i in order],
            "organisation_code": [org] * len(order),
            "case_type": [case_type[i] for i in order],
            "stage": [stages[s] for s in stage[order].tolist()],
            "start_date": [dates[i] for i in order],
        },
    )


def training(
    plan: Plan, rng: np.random.Generator, org: str, people: People
) -> list[Row]:
    """Non-mandatory training and CPD: one row per course a person completed."""
    tr = plan.reference.synthetic.training.value
    courses = tr.courses
    chosen = np.concatenate(
        [
            _pick(rng, np.flatnonzero(people.wres == group), tr.access_rate[name])
            for group, name in enumerate(WRES_GROUPS)
        ]
    )
    sizes = np.array(list(tr.courses_per_person), dtype=np.int64)
    weights = np.array(list(tr.courses_per_person.values()))
    per_person = np.minimum(
        sizes[rng.choice(len(sizes), size=len(chosen), p=weights / weights.sum())],
        len(courses),
    )
    # Distinct courses per person: the first k of a random permutation of courses,
    # so no one has the same course twice (ingest treats that as a duplicate row).
    ranking = np.argsort(rng.random((len(chosen), len(courses))), axis=1)
    taken = np.arange(len(courses))[None, :] < per_person[:, None]
    who = np.repeat(chosen, per_person)
    course = ranking[taken]
    when = _dates_in_year(plan, rng, people.start[who])
    order = np.lexsort((course, people.employee[who], when)).tolist()
    employee = [str(e) for e in people.employee[who].tolist()]
    dates = plan.dates.format(when)
    return _order(
        "training",
        {
            "employee_number": [employee[i] for i in order],
            "organisation_code": [org] * len(order),
            "course": [courses[c] for c in course[order].tolist()],
            "date": [dates[i] for i in order],
        },
    )


def board(plan: Plan, rng: np.random.Generator, org: str) -> list[Row]:
    """Board members: the chair, the chief executive, then independent and executive."""
    bd = plan.reference.synthetic.board.value
    count = int(rng.integers(bd.min_members, bd.max_members + 1))
    executive = rng.random(count) < bd.executive_share
    executive[:2] = (False, True)  # the chair is independent; the chief executive not
    voting = ~executive | (rng.random(count) < bd.executive_voting_share)
    voting[:2] = True
    wres = _wres_groups(rng, count, bd.not_stated_share, bd.minority_share_of_declared)
    return _order(
        "board",
        {
            "organisation_code": [org] * count,
            "voting": ["Y" if v else "N" for v in voting.tolist()],
            "executive": ["Y" if e else "N" for e in executive.tolist()],
            "ethnic_origin": _ethnic_text(plan, rng, wres),
        },
    )
