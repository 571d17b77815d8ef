"""Staff in post: draw people in vectorised chunks and format them as ESR staff rows.

Owns the staff extract: who works where (staff group, ethnicity, band or grade, sex,
age, start date, FTE, contract, job role), their fictitious names and identifiers,
and the second assignments some people hold (same employee number, assignment number
suffixed ``-2``, usually a bank contract), so headcount and assignment counts differ.

Each chunk is drawn column-wise with numpy and turned into rows in the column order of
:mod:`governance.extract_format`; the :class:`People` it returns carries only what the
employee-relations and training extracts need to link to the same people.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from governance.extract_format import COLUMNS
from synthetic.names import NamePools
from synthetic.plan import MINORITY, NOT_STATED, WHITE, IdScheme, Plan

Row = tuple[str, ...]

STAFF_FIELDS: tuple[str, ...] = tuple(column.name for column in COLUMNS["staff"])
_ASSIGNMENT = STAFF_FIELDS.index("assignment_number")
_FTE = STAFF_FIELDS.index("fte")
_CONTRACT = STAFF_FIELDS.index("contract_type")
_START = STAFF_FIELDS.index("start_date")

#: People drawn per chunk: large enough for numpy to pay off, small enough that a
#: million-row extract streams in a few megabytes.
CHUNK = 50_000

_DAYS_PER_YEAR = 365.2425
_FTE_TEXT = [f"{hundredths / 100:.2f}" for hundredths in range(151)]
_FEMALE_TITLES = ("Mrs", "Ms", "Miss")
_FEMALE_TITLE_P = np.array([0.40, 0.35, 0.25])
_SECOND_FTE = (0.1, 0.5)


@dataclass(frozen=True)
class People:
    """What other extracts need about people in post (primary assignments only)."""

    employee: np.ndarray
    """Employee numbers (int64)."""
    wres: np.ndarray
    """WRES group index: 0 White, 1 Ethnic minority, 2 Not stated."""
    start: np.ndarray
    """Organisation start date as a day ordinal."""

    @staticmethod
    def concat(parts: list[People]) -> People:
        if not parts:
            empty = np.zeros(0, dtype=np.int64)
            return People(empty, empty.astype(np.int8), empty)
        return People(
            np.concatenate([p.employee for p in parts]),
            np.concatenate([p.wres for p in parts]),
            np.concatenate([p.start for p in parts]),
        )


def _choose_per_group(
    rng: np.random.Generator,
    keys: np.ndarray,
    count: int,
    distributions: dict[int, np.ndarray],
) -> np.ndarray:
    """For each key value k, draw from ``distributions[k]`` for the rows with key k."""
    out = np.zeros(len(keys), dtype=np.int64)
    for key, p in distributions.items():
        mask = keys == key
        size = int(mask.sum())
        if size:
            out[mask] = rng.choice(count, size=size, p=p)
    return out


def draw_staff(
    plan: Plan,
    pools: NamePools,
    ids: IdScheme,
    rng: np.random.Generator,
    org: str,
    first: int,
    count: int,
) -> tuple[People, list[Row]]:
    """Draw people ``first .. first + count - 1`` of body ``org`` and their rows."""
    syn = plan.reference.synthetic
    snapshot = plan.snapshot.toordinal()
    n_groups = len(plan.groups)

    group = rng.choice(n_groups, size=count, p=plan.group_p[org])
    not_stated = rng.random(count) < syn.not_stated_share.value
    minority = ~not_stated & (rng.random(count) < plan.minority_share[group])
    wres = np.where(not_stated, NOT_STATED, np.where(minority, MINORITY, WHITE))
    wres = wres.astype(np.int8)
    ethnic = _choose_per_group(
        rng, wres, len(plan.ethnic_codes), dict(enumerate(plan.ethnic_p))
    )
    cell = group * 3 + wres  # one band distribution per (staff group, WRES group)
    band = _choose_per_group(
        rng,
        cell,
        len(plan.bands),
        {g * 3 + w: plan.band_p[g][w] for g in range(n_groups) for w in range(3)},
    )
    female = rng.random(count) < plan.female_share[group]

    ages = plan.ages
    age = np.clip(
        rng.normal(ages.mean[group, band], ages.sd[group, band]),
        ages.low[group, band],
        ages.high[group, band] + 0.999,
    )
    birth = snapshot - np.floor(age * _DAYS_PER_YEAR).astype(np.int64)
    # Nobody started younger than their age profile's minimum (18, or 23 for doctors
    # in training), so the start date is always after the 16th birthday ingest checks.
    working_years = age - ages.low[group, band]
    tenure = np.minimum(
        rng.exponential(syn.tenure_mean_years.value, count), working_years
    )
    start = snapshot - np.floor(np.maximum(tenure, 0) * _DAYS_PER_YEAR).astype(np.int64)

    part_time = syn.part_time_fte.value
    full_time = rng.random(count) < syn.full_time_share.value
    hundredths = np.where(
        full_time,
        100,
        np.round(rng.uniform(part_time.min, part_time.max, count) * 100),
    ).astype(np.int64)
    contract = rng.choice(len(plan.contracts), size=count, p=plan.contract_p)
    trainee = plan.trainee[band]
    contract[trainee] = rng.choice(
        len(plan.contracts), size=int(trainee.sum()), p=plan.trainee_contract_p
    )

    role = np.empty(count, dtype=object)
    occupation = np.empty(count, dtype=object)
    for g, (names, codes, p) in enumerate(plan.roles):
        mask = group == g
        picks = rng.choice(len(names), size=int(mask.sum()), p=p)
        role[mask] = np.array(names, dtype=object)[picks]
        occupation[mask] = np.array(codes, dtype=object)[picks]

    medical = group == plan.medical  # a doctor's job role is their grade
    role[medical] = np.array(plan.band_display, dtype=object)[band[medical]]

    origin_u = rng.random(count)[:, None]
    origin = np.minimum(
        (origin_u >= plan.origin_cdf[ethnic]).sum(axis=1), plan.origin_count - 1
    )
    forename_u, surname_u = rng.random(count), rng.random(count)
    female_names = pools.pick("female", origin, forename_u)
    male_names = pools.pick("male", origin, forename_u)
    forename = [
        f if is_female else m
        for f, m, is_female in zip(
            female_names, male_names, female.tolist(), strict=True
        )
    ]
    surname = pools.pick("surname", origin, surname_u)
    female_title = rng.choice(len(_FEMALE_TITLES), size=count, p=_FEMALE_TITLE_P)
    title = [
        "Dr" if g == plan.medical else (_FEMALE_TITLES[t] if is_female else "Mr")
        for g, t, is_female in zip(
            group.tolist(), female_title.tolist(), female.tolist(), strict=True
        )
    ]
    employee = ids.numbers(first, count)
    employee_text = [str(e) for e in employee.tolist()]
    ni = ids.ni_numbers(first, count, rng.integers(0, 4, size=count))

    columns: dict[str, list[str]] = {
        "employee_number": employee_text,
        "assignment_number": employee_text,
        "ni_number": ni,
        "title": title,
        "forename": forename,
        "surname": surname,
        "date_of_birth": plan.dates.format(birth),
        "sex": ["Female" if f else "Male" for f in female.tolist()],
        "ethnic_origin": [plan.ethnic_display[i] for i in ethnic.tolist()],
        "organisation_code": [org] * count,
        "staff_group": [plan.group_label[i] for i in group.tolist()],
        "job_role": role.tolist(),
        "occupation_code": occupation.tolist(),
        "pay_band": [plan.band_display[i] for i in band.tolist()],
        "fte": [_FTE_TEXT[h] for h in hundredths.tolist()],
        "contract_type": [plan.contracts[i] for i in contract.tolist()],
        "start_date": plan.dates.format(start),
    }
    rows: list[Row] = list(zip(*(columns[name] for name in STAFF_FIELDS), strict=True))
    rows = _add_second_assignments(plan, rng, rows, start, snapshot)
    return People(employee, wres, start), rows


def _add_second_assignments(
    plan: Plan,
    rng: np.random.Generator,
    rows: list[Row],
    start: np.ndarray,
    snapshot: int,
) -> list[Row]:
    """Give some people a second assignment row, right after their first."""
    share = plan.reference.synthetic.second_assignment_share.value
    holders = np.flatnonzero(rng.random(len(rows)) < share)
    if not len(holders):
        return rows
    k = len(holders)
    fte = np.round(rng.uniform(*_SECOND_FTE, k) * 100).astype(np.int64)
    contract = rng.choice(len(plan.contracts), size=k, p=plan.second_contract_p)
    span = snapshot - start[holders] + 1
    second_start = start[holders] + np.floor(rng.random(k) * span).astype(np.int64)
    extra: dict[int, Row] = {}
    for i, h, c, s in zip(
        holders.tolist(),
        fte.tolist(),
        contract.tolist(),
        plan.dates.format(second_start),
        strict=True,
    ):
        values = list(rows[i])
        values[_ASSIGNMENT] = f"{values[_ASSIGNMENT]}-2"
        values[_FTE] = _FTE_TEXT[h]
        values[_CONTRACT] = plan.contracts[c]
        values[_START] = s
        extra[i] = tuple(values)
    merged: list[Row] = []
    for i, row in enumerate(rows):
        merged.append(row)
        second = extra.get(i)
        if second is not None:
            merged.append(second)
    return merged
