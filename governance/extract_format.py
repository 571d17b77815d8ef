"""The ESR-like extract layout: which columns each kind of extract has.

One source of truth shared by the synthetic generator (which writes these headers) and
ingest (which finds them, tolerating case, spacing and punctuation variants and the
aliases listed here). ``docs/esr-extract-format.md`` documents the same table; a test
keeps the two in step.

Each column says whether it is mandatory and whether it is a direct identifier.
Direct identifiers are either pseudonymised at ingest (``pseudonymise``) or dropped
(``drop``); they never reach the store in clear.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Kind = Literal["staff", "recruitment", "er-cases", "training", "board"]
KINDS: tuple[Kind, ...] = ("staff", "recruitment", "er-cases", "training", "board")

Handling = Literal["keep", "pseudonymise", "drop", "generalise"]


@dataclass(frozen=True)
class Column:
    name: str
    """Internal field name (snake_case)."""
    header: str
    """The header wresgov writes, as ESR shows it."""
    mandatory: bool
    handling: Handling
    description: str
    aliases: tuple[str, ...] = ()


def _c(
    name: str,
    header: str,
    description: str,
    *,
    mandatory: bool = True,
    handling: Handling = "keep",
    aliases: tuple[str, ...] = (),
) -> Column:
    return Column(name, header, mandatory, handling, description, aliases)


_ORG = _c(
    "organisation_code",
    "Organisation Code",
    "Employing NHS Wales body (code from the reference data); must match --org",
    aliases=("Org Code", "Employing Organisation Code", "Organisation"),
)
_ETHNIC = _c(
    "ethnic_origin",
    "Ethnic Origin",
    "NHS ethnic category as a code (A, CC, 99) or code plus label (A White - British)",
    aliases=("Ethnic Category", "Ethnicity", "Ethnic Group"),
)

COLUMNS: dict[Kind, tuple[Column, ...]] = {
    "staff": (
        _c(
            "employee_number",
            "Employee Number",
            "ESR employee number; pseudonymised (links staff, ER and training)",
            handling="pseudonymise",
            aliases=("Employee No", "Emp No", "Person Number"),
        ),
        _c(
            "assignment_number",
            "Assignment Number",
            "ESR assignment number; pseudonymised; unique within an extract",
            handling="pseudonymise",
            aliases=("Assignment No", "Asg Number"),
        ),
        _c(
            "ni_number",
            "NI Number",
            "National Insurance number; pseudonymised, never stored in clear",
            mandatory=False,
            handling="pseudonymise",
            aliases=("National Insurance Number", "NINO"),
        ),
        _c("title", "Title", "Dropped at ingest", mandatory=False, handling="drop"),
        _c(
            "forename",
            "First Name",
            "Dropped at ingest",
            mandatory=False,
            handling="drop",
            aliases=("Forename", "Given Name"),
        ),
        _c(
            "surname",
            "Last Name",
            "Dropped at ingest",
            mandatory=False,
            handling="drop",
            aliases=("Surname", "Family Name"),
        ),
        _c(
            "date_of_birth",
            "Date of Birth",
            "DD/MM/YYYY or YYYY-MM-DD; stored only as an age band at 31 March",
            handling="generalise",
            aliases=("DOB", "Birth Date"),
        ),
        _c(
            "sex",
            "Gender",
            "Male, Female (or M, F), Unknown, Indeterminate",
            aliases=("Sex",),
        ),
        _ETHNIC,
        _ORG,
        _c(
            "staff_group",
            "Staff Group",
            "ESR staff group label or its two-digit code",
            aliases=("Staff Group Name",),
        ),
        _c("job_role", "Job Role", "ESR job role", mandatory=False),
        _c(
            "occupation_code",
            "Occupation Code",
            "Three-character ESR occupation code",
            mandatory=False,
        ),
        _c(
            "pay_band",
            "Pay Band",
            "Band 1-9, Band 8a-8d, VSM, or a medical and dental grade",
            aliases=("Band", "Grade", "Pay Band or Grade", "AfC Band"),
        ),
        _c(
            "fte",
            "FTE",
            "Contracted whole-time equivalent, 0 < FTE <= 1.5",
            aliases=("Contracted FTE", "WTE", "Contracted WTE"),
        ),
        _c(
            "contract_type",
            "Contract Type",
            "Permanent, Fixed Term Temp, Locum, Bank or Honorary",
            aliases=("Assignment Category", "Contract"),
        ),
        _c(
            "start_date",
            "Start Date",
            "Date the person started with the body; not after 31 March; kept as "
            "the year only",
            handling="generalise",
            aliases=("Organisation Start Date", "Date Started"),
        ),
    ),
    "recruitment": (
        _c(
            "applicant_id",
            "Applicant ID",
            "Recruitment-system applicant id; pseudonymised",
            handling="pseudonymise",
            aliases=("Applicant Number", "Candidate ID"),
        ),
        _ORG,
        _ETHNIC,
        _c(
            "post_band",
            "Post Band",
            "Band of the post applied for (as Pay Band)",
            aliases=("Band", "Vacancy Band"),
        ),
        _c(
            "shortlisted",
            "Shortlisted",
            "Y or N",
            aliases=("Shortlisted Y/N",),
        ),
        _c(
            "appointed",
            "Appointed",
            "Y or N; an appointed applicant must have been shortlisted",
            aliases=("Appointed Y/N",),
        ),
    ),
    "er-cases": (
        _c(
            "employee_number",
            "Employee Number",
            "ESR employee number; pseudonymised",
            handling="pseudonymise",
            aliases=("Employee No", "Emp No", "Person Number"),
        ),
        _ORG,
        _c(
            "case_type",
            "Case Type",
            "Disciplinary or Capability",
            aliases=("ER Case Type",),
        ),
        _c(
            "stage",
            "Stage",
            "Investigation, Hearing, Appeal or Closed (formal process stages)",
            aliases=("Case Stage",),
        ),
        _c(
            "start_date",
            "Case Start Date",
            "Within the 12 months to 31 March; kept as year-month",
            handling="generalise",
            aliases=("Start Date", "Date Opened"),
        ),
    ),
    "training": (
        _c(
            "employee_number",
            "Employee Number",
            "ESR employee number; pseudonymised",
            handling="pseudonymise",
            aliases=("Employee No", "Emp No", "Person Number"),
        ),
        _ORG,
        _c(
            "course",
            "Course",
            "Name of the non-mandatory training or CPD course",
            aliases=("Course Name", "Activity"),
        ),
        _c(
            "date",
            "Completion Date",
            "Within the 12 months to 31 March; kept as year-month",
            handling="generalise",
            aliases=("Date", "Course Date", "Attended Date"),
        ),
    ),
    "board": (
        _ORG,
        _c(
            "voting",
            "Voting Member",
            "Y or N",
            aliases=("Voting",),
        ),
        _c(
            "executive",
            "Executive Member",
            "Y or N",
            aliases=("Executive",),
        ),
        _ETHNIC,
    ),
}

_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def normalise_header(text: str) -> str:
    """Fold a header to a comparison key: case, spaces and punctuation ignored."""
    return _NON_ALNUM.sub("", text.strip().lstrip("\ufeff").lower())


def header_lookup(kind: Kind) -> dict[str, str]:
    """Map every accepted header spelling (normalised) to the internal field name."""
    lookup: dict[str, str] = {}
    for column in COLUMNS[kind]:
        for spelling in (column.header, column.name, *column.aliases):
            lookup.setdefault(normalise_header(spelling), column.name)
    return lookup


def headers(kind: Kind) -> list[str]:
    """The headers wresgov writes for a kind, in order."""
    return [column.header for column in COLUMNS[kind]]
