"""Each ESR extract kind's fields and how its validated rows become records.

Part of the personal-data zone (see ``governance.validate``): the field specs
of staff, recruitment, employee-relations cases, training and board extracts,
the cross-field rules that need a whole row (a medical grade needs the Medical
and Dental staff group; nobody starts work before 16; nobody is appointed
without being shortlisted) and the record columns each kind stores, with its
identifiers pseudonymised. Problems name the row and field, never the value.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import date
from operator import attrgetter, sub
from typing import TYPE_CHECKING, Annotated, Any, Final, Literal

from pydantic import Field, StringConstraints

from governance.extract_format import Kind
from governance.validate_fields import (
    Builder,
    Columns,
    FieldSpec,
    Problem,
    RowContext,
    date_between,
    keep_rows,
    one_of,
    parse_date,
)

if TYPE_CHECKING:
    from governance.validate import RowValidator

NHS_FOUNDED: Final = date(1948, 7, 5)
MIN_AGE: Final = 16
MAX_AGE: Final = 100

_SEX: Final = {
    "m": "M", "male": "M",
    "f": "F", "female": "F",
    "u": "U", "unknown": "U", "not known": "U", "not specified": "U",
    "i": "I", "indeterminate": "I",
}  # fmt: skip
_CONTRACT: Final = {
    "permanent": "Permanent",
    "fixed term temp": "Fixed Term Temp",
    "fixed term temporary": "Fixed Term Temp",
    "fixed term": "Fixed Term Temp",
    "locum": "Locum",
    "bank": "Bank",
    "honorary": "Honorary",
}
_FLAG: Final = {"y": "Y", "yes": "Y", "true": "Y", "1": "Y",
                "n": "N", "no": "N", "false": "N", "0": "N"}  # fmt: skip
_CASE_TYPE: Final = {"disciplinary": "disciplinary", "capability": "capability"}
_STAGES: Final = ("Informal", "Investigation", "Hearing", "Appeal", "Closed")
WRONG_BAND: Final = (
    "does not match the staff group "
    "(medical and dental grades are for Medical and Dental staff only)"
)
AGE_BANDS: Final = (
    (16, "16-19"), (20, "20-24"), (25, "25-29"), (30, "30-34"), (35, "35-39"),
    (40, "40-44"), (45, "45-49"), (50, "50-54"), (55, "55-59"), (60, "60-64"),
    (65, "65+"),
)  # fmt: skip

_IDENTIFIER: Final = r"[A-Z0-9][A-Z0-9/\-]{0,29}"
Identifier = Annotated[
    str,
    StringConstraints(strip_whitespace=True, to_upper=True, pattern=f"^{_IDENTIFIER}$"),
]
NiNumber = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        pattern=r"^([A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?[0-9]{2} ?[0-9]{2} ?[0-9]{2} ?[A-D])?$",
    ),
]
_NI_WRITTEN_CLOSE: Final = r"([A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z][0-9]{6}[A-D])?"


def _every_line(value: str) -> re.Pattern[str]:
    """Matches a column joined by line breaks when every value matches ``value``."""
    return re.compile(f"{value}(?:\n{value})*")


Fte = Annotated[float, Field(gt=0, le=1.5, allow_inf_nan=False)]
Occupation = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, to_upper=True, pattern=r"^([A-Z0-9]{3})?$"
    ),
]


def _text(limit: int) -> Any:
    return Annotated[str, StringConstraints(strip_whitespace=True, max_length=limit)]


def _required_text(limit: int) -> Any:
    return Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=limit)
    ]


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


def _from_table(table: dict[str, str]) -> Callable[[str], str]:
    return lambda raw: table.get(_fold(raw), raw)


def _identifier(name: str) -> FieldSpec:
    return FieldSpec(
        name,
        Identifier,
        "is not a valid identifier",
        memoised=False,
        final=_every_line(_IDENTIFIER),
    )


def _flag(name: str) -> FieldSpec:
    return FieldSpec(
        name, Literal["Y", "N"], "is not Y or N", translate=_from_table(_FLAG)
    )


_YEAR: Final = attrgetter("year")


def _month(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def _age(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _age_band(birth: date, on: date) -> str:
    age = _age(birth, on)
    band = AGE_BANDS[0][1]
    for lower, label in AGE_BANDS:
        if age >= lower:
            band = label
    return band


def _staff(v: RowValidator, ctx: RowContext) -> tuple[list[FieldSpec], Builder]:
    reference, snapshot = ctx.reference, ctx.snapshot
    earliest_birth = date(snapshot.year - MAX_AGE, snapshot.month, snapshot.day)
    latest_birth = date(snapshot.year - MIN_AGE, snapshot.month, snapshot.day)
    subgroups = {grade.name: grade.wres_subgroup for grade in reference.medical_grades}
    clinical = {group.code: group.clinical for group in reference.staff_groups}
    broad_of, wres_of = v.ethnic_groups()
    age_bands: dict[date, str] = {}

    def staff_group(raw: str) -> str:
        group = reference.parse_staff_group(raw)
        return raw if group is None else group.code

    specs = [
        _identifier("employee_number"),
        _identifier("assignment_number"),
        FieldSpec(
            "ni_number",
            NiNumber,
            "is not a valid National Insurance number",
            translate=str.upper,
            memoised=False,
            final=_every_line(_NI_WRITTEN_CLOSE),
        ),
        FieldSpec(
            "date_of_birth",
            date_between(earliest_birth, latest_birth),
            "is not a real date (DD/MM/YYYY or YYYY-MM-DD)",
            f"gives an age outside {MIN_AGE}-{MAX_AGE} at 31 March",
            translate=parse_date,
        ),
        FieldSpec(
            "sex",
            Literal["M", "F", "U", "I"],
            "is not Male, Female, Unknown or Indeterminate",
            translate=_from_table(_SEX),
        ),
        v.ethnic_spec(),
        v.org_spec(),
        FieldSpec(
            "staff_group",
            one_of([group.code for group in reference.staff_groups]),
            "is not an ESR staff group",
            translate=staff_group,
        ),
        FieldSpec("job_role", _text(80), "is longer than 80 characters"),
        FieldSpec("occupation_code", Occupation, "is not a three-character code"),
        v.band_spec("pay_band"),
        FieldSpec(
            "fte",
            Fte,
            "is not a number",
            "must be greater than 0 and at most 1.5",
        ),
        FieldSpec(
            "contract_type",
            one_of(sorted(set(_CONTRACT.values()))),
            "is not Permanent, Fixed Term Temp, Locum, Bank or Honorary",
            translate=_from_table(_CONTRACT),
        ),
        FieldSpec(
            "start_date",
            date_between(NHS_FOUNDED, snapshot),
            "is not a real date (DD/MM/YYYY or YYYY-MM-DD)",
            "is after 31 March of the period or before the NHS began",
            translate=parse_date,
        ),
    ]
    medical = set(subgroups)
    employee_pseudonyms = v.pseudonym_function("employee")
    assignment_pseudonyms = v.pseudonym_function("assignment")
    ni_pseudonyms = v.pseudonym_function("ni")

    def build(rows: list[int], columns: Columns) -> tuple[Columns, list[Problem]]:
        birth, group, band, start = columns[3], columns[7], columns[10], columns[13]
        wrong_band: list[int] = []
        if list(map(medical.__contains__, band)) != list(map("01".__eq__, group)):
            wrong_band = [
                position
                for position, (grade, code) in enumerate(zip(band, group, strict=True))
                if (grade in medical) != (code == "01")
            ]
        too_young: list[int] = []
        start_years: Sequence[int] = list(map(_YEAR, start))
        if min(map(sub, start_years, map(_YEAR, birth))) <= MIN_AGE:
            too_young = [
                position
                for position, (born, began) in enumerate(zip(birth, start, strict=True))
                if began.year - born.year <= MIN_AGE and _age(born, began) < MIN_AGE
            ]
        problems: list[Problem] = [
            (rows[position], "pay_band", WRONG_BAND) for position in wrong_band
        ] + [
            (rows[position], "start_date", f"is before the person was {MIN_AGE}")
            for position in too_young
        ]
        if problems:
            rows, columns = keep_rows(
                rows, [*columns, start_years], {*wrong_band, *too_young}
            )
            start_years = columns.pop()
            if not rows:
                return [], problems
        (employee, assignment, ni, birth, sex, ethnic, _org, group, job_role,
         occupation, band, fte, contract, _start) = columns  # fmt: skip
        try:
            bands = list(map(age_bands.__getitem__, birth))
        except KeyError:
            bands = [
                age_bands.get(day)
                or age_bands.setdefault(day, _age_band(day, snapshot))
                for day in birth
            ]
        records: Columns = [
            rows,
            employee_pseudonyms(employee),
            assignment_pseudonyms(assignment),
            _ni_pseudonyms(ni_pseudonyms, ni),
            sex,
            ethnic,
            list(map(broad_of.__getitem__, ethnic)),
            list(map(wres_of.__getitem__, ethnic)),
            bands,
            group,
            list(map(clinical.__getitem__, group)),
            [text or None for text in job_role],
            [code or None for code in occupation],
            band,
            list(map(subgroups.get, band)),
            fte,
            contract,
            start_years,
        ]
        return records, problems

    return specs, build


def _ni_pseudonyms(
    pseudonyms: Callable[[Sequence[str]], list[str]], ni: Sequence[str]
) -> list[str | None]:
    """Pseudonyms of a validated NI column (spaces removed); ``None`` where blank."""
    if " " in "\n".join(ni):
        ni = [number.replace(" ", "") for number in ni]
    if "" not in ni:
        return list(pseudonyms(ni))
    given = iter(pseudonyms([number for number in ni if number]))
    return [next(given) if number else None for number in ni]


def _recruitment(v: RowValidator, ctx: RowContext) -> tuple[list[FieldSpec], Builder]:
    broad_of, wres_of = v.ethnic_groups()
    specs = [
        _identifier("applicant_id"),
        v.org_spec(),
        v.ethnic_spec(),
        v.band_spec("post_band"),
        _flag("shortlisted"),
        _flag("appointed"),
    ]
    applicant_pseudonyms = v.pseudonym_function("applicant")

    def build(rows: list[int], columns: Columns) -> tuple[Columns, list[Problem]]:
        unshortlisted = [
            position
            for position, (listed, appointed) in enumerate(
                zip(columns[4], columns[5], strict=True)
            )
            if appointed == "Y" and listed == "N"
        ]
        problems: list[Problem] = [
            (rows[position], "appointed", "is Y but the applicant was not shortlisted")
            for position in unshortlisted
        ]
        if problems:
            rows, columns = keep_rows(rows, columns, set(unshortlisted))
            if not rows:
                return [], problems
        applicant, _org, ethnic, band, shortlisted, appointed = columns
        records: Columns = [
            rows,
            applicant_pseudonyms(applicant),
            ethnic,
            list(map(broad_of.__getitem__, ethnic)),
            list(map(wres_of.__getitem__, ethnic)),
            band,
            [flag == "Y" for flag in shortlisted],
            [flag == "Y" for flag in appointed],
        ]
        return records, problems

    return specs, build


def _er_cases(v: RowValidator, ctx: RowContext) -> tuple[list[FieldSpec], Builder]:
    specs = [
        _identifier("employee_number"),
        v.org_spec(),
        FieldSpec(
            "case_type",
            Literal["disciplinary", "capability"],
            "is not Disciplinary or Capability",
            translate=_from_table(_CASE_TYPE),
        ),
        FieldSpec(
            "stage",
            one_of(list(_STAGES)),
            "is not Informal, Investigation, Hearing, Appeal or Closed",
            translate=_from_table({stage.lower(): stage for stage in _STAGES}),
        ),
        v.in_year_spec("start_date"),
    ]
    employee_pseudonyms = v.pseudonym_function("employee")

    def build(rows: list[int], columns: Columns) -> tuple[Columns, list[Problem]]:
        employee, _org, case_type, stage, start = columns
        records: Columns = [
            rows,
            employee_pseudonyms(employee),
            case_type,
            stage,
            list(map(_month, start)),
        ]
        return records, []

    return specs, build


def _training(v: RowValidator, ctx: RowContext) -> tuple[list[FieldSpec], Builder]:
    specs = [
        _identifier("employee_number"),
        v.org_spec(),
        FieldSpec("course", _required_text(120), "is longer than 120 characters"),
        v.in_year_spec("date"),
    ]
    employee_pseudonyms = v.pseudonym_function("employee")

    def build(rows: list[int], columns: Columns) -> tuple[Columns, list[Problem]]:
        employee, _org, course, when = columns
        records: Columns = [
            rows,
            employee_pseudonyms(employee),
            course,
            list(map(_month, when)),
        ]
        return records, []

    return specs, build


def _board(v: RowValidator, ctx: RowContext) -> tuple[list[FieldSpec], Builder]:
    broad_of, wres_of = v.ethnic_groups()
    specs = [v.org_spec(), _flag("voting"), _flag("executive"), v.ethnic_spec()]

    def build(rows: list[int], columns: Columns) -> tuple[Columns, list[Problem]]:
        _org, voting, executive, ethnic = columns
        records: Columns = [
            rows,
            [flag == "Y" for flag in voting],
            [flag == "Y" for flag in executive],
            ethnic,
            list(map(broad_of.__getitem__, ethnic)),
            list(map(wres_of.__getitem__, ethnic)),
        ]
        return records, []

    return specs, build


KINDS: dict[
    Kind, Callable[[RowValidator, RowContext], tuple[list[FieldSpec], Builder]]
] = {
    "staff": _staff,
    "recruitment": _recruitment,
    "er-cases": _er_cases,
    "training": _training,
    "board": _board,
}

#: Columns whose values together identify a duplicate row within one extract.
DUPLICATE_KEYS: dict[Kind, tuple[str, ...]] = {
    "staff": ("assignment",),
    "recruitment": ("applicant", "post_band"),
    "er-cases": ("person", "case_type", "start_month"),
    "training": ("person", "course", "month"),
    "board": (),
}
