"""Row validation for ESR extracts: pydantic schemas built from the reference data.

Part of the personal-data zone: a row arrives with direct identifiers and leaves as a
pseudonymised record (``governance.models`` field order) or as a list of problems
naming fields, never values.

Validation runs column by column, a batch at a time, cheap enough for well over
100,000 rows a second:

1. *Translate*: free-text codes (``A White - British``, ``band 8A``, ``Male``) and
   dates (``DD/MM/YYYY``, ``YYYY-MM-DD``, ESR's ``DD-MON-YYYY``) are normalised;
   untranslatable text is passed on unchanged.
2. *Validate*: a pydantic ``TypeAdapter`` checks each value in pydantic-core: codes
   against ``Literal`` sets built from the reference data, dates and FTE against
   their ranges, identifiers against their patterns.

An extract repeats a few hundred distinct values in most columns, so those columns
are translated and validated once per distinct raw text and the outcome (the value,
or the problem) is memoised; a column of such a batch is then one dictionary lookup
per row. Identifiers, which rarely repeat, are validated a whole column at a time:
one regular expression over the column joined by line breaks when every value is
already in final form (``FieldSpec.final``), pydantic otherwise.

Cross-field rules (a medical grade needs the Medical and Dental staff group; nobody
starts work before 16; nobody is appointed without being shortlisted) run last.
The reporting year for a period ``P`` runs from 1 April ``P-1`` to 31 March ``P``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import compress, repeat
from operator import attrgetter, is_, sub
from typing import Annotated, Any, Final, Literal

from pydantic import Field, StringConstraints, TypeAdapter, ValidationError

from governance.extract_format import Kind
from governance.pseudonymise import Namespace, Pseudonymiser
from governance.reference import Reference

NHS_FOUNDED: Final = date(1948, 7, 5)
MIN_AGE: Final = 16
MAX_AGE: Final = 100
MAX_MEMO: Final = 50_000  # bound the translation caches on hostile input

_MONTHS: Final = {
    name: number
    for number, name in enumerate(
        (
            "JAN",
            "FEB",
            "MAR",
            "APR",
            "MAY",
            "JUN",
            "JUL",
            "AUG",
            "SEP",
            "OCT",
            "NOV",
            "DEC",
        ),
        start=1,
    )
}
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
_RANGE_ERRORS: Final = frozenset(
    {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}
)


def _text(limit: int) -> Any:
    return Annotated[str, StringConstraints(strip_whitespace=True, max_length=limit)]


def _required_text(limit: int) -> Any:
    return Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=limit)
    ]


def _one_of(values: list[str]) -> Any:
    return Literal[tuple(values)]


def _date_between(low: date, high: date) -> Any:
    return Annotated[date, Field(ge=low, le=high, strict=True)]


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


def parse_date(raw: str) -> date | str:
    """Parse an extract date; return the text unchanged when it is not one."""
    text = raw.strip().split(" ", 1)[0].split("T", 1)[0]
    try:
        if "/" in text:
            day, month, year = text.split("/")
            return date(int(year), int(month), int(day))
        parts = text.split("-")
        if len(parts) == 3 and len(parts[0]) == 4:
            return date(int(parts[0]), int(parts[1]), int(parts[2]))
        if len(parts) == 3 and parts[1].upper() in _MONTHS:
            return date(int(parts[2]), _MONTHS[parts[1].upper()], int(parts[0]))
    except ValueError:
        pass
    return raw


def _from_table(table: dict[str, str]) -> Callable[[str], str]:
    return lambda raw: table.get(_fold(raw), raw)


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: Any
    problem: str | Callable[[str], str]
    """What is wrong when the value is not blank but invalid (never the value)."""
    range_problem: str | None = None
    """What is wrong when a number or date is out of range."""
    translate: Callable[[str], Any] | None = None
    memoised: bool = True
    """Validate each distinct raw text once; off for fields whose values rarely
    repeat (identifiers), which are validated a whole column at a time instead."""
    final: re.Pattern[str] | None = None
    """For a field not memoised: a column joined by line breaks matches this only if
    every value is already what validation returns (no space to strip, upper case,
    valid), so such a column is taken as it is without asking pydantic."""


@dataclass(frozen=True)
class RowContext:
    """What validation needs besides the row: reference, body, reporting year."""

    reference: Reference
    org: str
    period: int

    @property
    def snapshot(self) -> date:
        return date(self.period, 3, 31)

    @property
    def year_start(self) -> date:
        return date(self.period - 1, 4, 1)


Problem = tuple[int, str, str]
"""(data row, field, what is wrong): never the value."""
Columns = list[Sequence[Any]]
"""A batch column by column: raw or validated values, or a record field each."""
Builder = Callable[[list[int], Columns], tuple[Columns, list[Problem]]]
"""Validated columns to record columns (``RECORD_FIELDS`` order), and problems."""


def keep_rows(
    rows: list[int], columns: Columns, bad: set[int]
) -> tuple[list[int], Columns]:
    """Drop the rows at positions ``bad`` from the row numbers and every column."""
    mask = [position not in bad for position in range(len(rows))]
    return (
        list(compress(rows, mask)),
        [list(compress(column, mask)) for column in columns],
    )


class RowValidator:
    """Validates rows of one kind, a batch at a time, given values in ``fields`` order.

    Work is done column by column: a memoised column is one dictionary lookup per
    row, and any other column is one pydantic call, so per-row Python work stays
    small. The memos live as long as the validator: one extract.
    """

    def __init__(
        self, kind: Kind, context: RowContext, pseudonymiser: Pseudonymiser
    ) -> None:
        self.kind = kind
        self._context = context
        self._pseudonymiser = pseudonymiser
        specs, self._build = _KINDS[kind](self, context)
        self._specs = specs
        self.fields = tuple(spec.name for spec in specs)
        # One adapter per column (whole columns: pydantic-core does the loop) and
        # one per value (memo misses, and finding the bad values of a column).
        self._adapters: list[tuple[TypeAdapter[list[Any]], TypeAdapter[Any]]] = [
            (TypeAdapter(list[spec.type]), TypeAdapter(spec.type))  # type: ignore[name-defined]
            for spec in specs
        ]
        # raw text -> validated value, and raw text -> problem, per memoised field.
        self._memos: list[tuple[dict[str, Any], dict[str, str]] | None] = [
            ({}, {}) if spec.memoised else None for spec in specs
        ]

    def validate_batch(
        self, rows: list[int], raws: list[tuple[str, ...]]
    ) -> tuple[Columns, list[Problem]]:
        """Return the valid rows' records column by column, and every problem.

        The record columns follow ``RECORD_FIELDS`` (source row first); a batch
        without valid rows gives no columns at all.
        """
        if not raws:
            return [], []
        return self.validate_columns(rows, list(zip(*raws, strict=True)))

    def validate_columns(
        self, rows: list[int], raw_columns: Sequence[Sequence[str]]
    ) -> tuple[Columns, list[Problem]]:
        """As :meth:`validate_batch`, given the batch column by column (in ``fields``
        order): what ingest passes, since it splits the file into columns."""
        if not rows:
            return [], []
        columns: Columns = []
        problems: list[Problem] = []
        bad: set[int] = set()
        for index, raw in enumerate(raw_columns):
            memo = self._memos[index]
            if memo is None:
                columns.append(self._validate_column(index, raw, rows, problems, bad))
                continue
            try:
                out = list(map(memo[0].__getitem__, raw))
            except KeyError:  # a text not validated yet (None is never a value)
                out = list(map(memo[0].get, raw))
                self._fill(index, memo, raw, out, rows, problems, bad)
            columns.append(out)
        if bad:
            rows, columns = keep_rows(rows, columns, bad)
            if not rows:
                return [], problems
        records, cross = self._build(rows, columns)
        return records, problems + cross

    def _validate_column(
        self,
        index: int,
        raw: Sequence[str],
        rows: list[int],
        problems: list[Problem],
        bad: set[int],
    ) -> Sequence[Any]:
        spec = self._specs[index]
        if spec.final is not None:
            joined = "\n".join(raw)
            if joined.count("\n") == len(raw) - 1 and spec.final.fullmatch(joined):
                return raw
        column_adapter, value_adapter = self._adapters[index]
        translate = spec.translate
        values = raw if translate is None else list(map(translate, raw))
        try:
            return column_adapter.validate_python(values)
        except ValidationError:
            # Rare: find the bad values one by one, keep the rest.
            checked: list[Any] = []
            for position, value in enumerate(values):
                try:
                    checked.append(value_adapter.validate_python(value))
                except ValidationError as exc:
                    kind = exc.errors(include_input=False)[0]["type"]
                    field, problem = self._problem(index, kind, raw[position])
                    problems.append((rows[position], field, problem))
                    bad.add(position)
                    checked.append(None)
            return checked

    def _fill(
        self,
        index: int,
        memo: tuple[dict[str, Any], dict[str, str]],
        raw: Sequence[str],
        out: list[Any],
        rows: list[int],
        problems: list[Problem],
        bad: set[int],
    ) -> None:
        """Validate the raw texts the memo does not hold yet, in row order."""
        valid, invalid = memo
        spec = self._specs[index]
        value_adapter = self._adapters[index][1]
        # Only the rows the memo missed (found without a Python loop over the batch).
        for position in compress(range(len(out)), map(is_, out, repeat(None))):
            text = raw[position]
            value = valid.get(text)  # validated at an earlier row of this batch
            if value is not None:
                out[position] = value
                continue
            problem = invalid.get(text)
            if problem is None:
                candidate = text if spec.translate is None else spec.translate(text)
                try:
                    value = value_adapter.validate_python(candidate)
                except ValidationError as exc:
                    kind = exc.errors(include_input=False)[0]["type"]
                    problem = self._problem(index, kind, text)[1]
                    if len(invalid) < MAX_MEMO:
                        invalid[text] = problem
                else:
                    if len(valid) < MAX_MEMO:
                        valid[text] = value
                    out[position] = value
                    continue
            problems.append((rows[position], spec.name, problem))
            bad.add(position)

    def _problem(self, index: int, kind: str, raw: str) -> tuple[str, str]:
        spec = self._specs[index]
        if not raw.strip():
            return spec.name, "is blank"
        if kind in _RANGE_ERRORS and spec.range_problem:
            return spec.name, spec.range_problem
        problem = spec.problem
        return spec.name, problem if isinstance(problem, str) else problem(raw)

    def pseudonym_function(
        self, namespace: Namespace
    ) -> Callable[[Sequence[str]], list[str]]:
        """Pseudonyms of a column of already normalised identifiers (upper case, no
        spaces)."""
        return self._pseudonymiser.for_column(namespace)

    # -- shared field specs ---------------------------------------------------------

    def org_spec(self) -> FieldSpec:
        reference, org = self._context.reference, self._context.org
        known = {body.code for body in reference.bodies}

        def problem(raw: str) -> str:
            if raw.strip().upper() in known:
                return "names another body than the extract's (--org)"
            return "is not an NHS Wales body code"

        return FieldSpec(
            "organisation_code",
            Literal[org],
            problem,
            translate=lambda raw: raw.strip().upper(),
        )

    def ethnic_spec(self) -> FieldSpec:
        reference = self._context.reference

        def translate(raw: str) -> str:
            category = reference.parse_ethnic_origin(raw)
            return raw if category is None else category.code

        codes = [category.code for category in reference.ethnic_categories]
        return FieldSpec(
            "ethnic_origin",
            _one_of(codes),
            "is not an NHS ethnic category code",
            translate=translate,
        )

    def band_spec(self, name: str) -> FieldSpec:
        reference = self._context.reference

        def translate(raw: str) -> str:
            band = reference.parse_pay_band(raw)
            return raw if band is None else band

        bands = [
            *reference.pay_bands,
            *(grade.name for grade in reference.medical_grades),
        ]
        return FieldSpec(
            name,
            _one_of(bands),
            "is not an AfC band, VSM or medical and dental grade",
            translate=translate,
        )

    def in_year_spec(self, name: str) -> FieldSpec:
        return FieldSpec(
            name,
            _date_between(self._context.year_start, self._context.snapshot),
            "is not a real date (DD/MM/YYYY or YYYY-MM-DD)",
            "is outside the reporting year (1 April to 31 March)",
            translate=parse_date,
        )

    def ethnic_groups(self) -> tuple[dict[str, str], dict[str, str]]:
        """Broad group and WRES group of every ethnic category code."""
        categories = self._context.reference.ethnic_categories
        return (
            {category.code: category.broad_group for category in categories},
            {category.code: category.wres_group for category in categories},
        )


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
            _date_between(earliest_birth, latest_birth),
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
            _one_of([group.code for group in reference.staff_groups]),
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
            _one_of(sorted(set(_CONTRACT.values()))),
            "is not Permanent, Fixed Term Temp, Locum, Bank or Honorary",
            translate=_from_table(_CONTRACT),
        ),
        FieldSpec(
            "start_date",
            _date_between(NHS_FOUNDED, snapshot),
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
            _one_of(list(_STAGES)),
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


_KINDS: dict[
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
