"""Dirty mode: inject realistic faults into extract rows, and record where they are.

Owns the fault types, which kinds of extract each applies to, the bad values used
(unknown codes, impossible dates...) and the record written to ``faults.json``. Each
data row is hit with probability ``rate``; a hit row gets exactly one fault, so
ingest should report exactly one problem for it, in the recorded field.

Row numbers are 1-based data rows: the header is not counted, so row 1 is the CSV's
second line (CSV line number minus 1). No generated value contains a line break, so
data rows and physical lines correspond. A ``duplicate_row`` fault writes the clean
row and then an exact copy; the fault is recorded at the copy. Values are never
recorded, only kind, row, field and fault type.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np

from governance.extract_format import COLUMNS, Kind
from synthetic.plan import Plan
from synthetic.staff import Row

FaultType = Literal[
    "unknown_ethnic_code",
    "unknown_staff_group",
    "unknown_pay_band",
    "blank_mandatory",
    "impossible_date",
    "future_start_date",
    "age_under_16",
    "age_over_100",
    "non_positive_fte",
    "duplicate_row",
    "wrong_organisation",
    "date_out_of_period",
    "invalid_flag",
    "appointed_not_shortlisted",
]
FAULT_TYPES: tuple[FaultType, ...] = get_args(FaultType)

#: Which faults can hit each kind of extract (chosen uniformly for a hit row).
FAULTS_BY_KIND: dict[Kind, tuple[FaultType, ...]] = {
    "staff": (
        "unknown_ethnic_code",
        "unknown_staff_group",
        "unknown_pay_band",
        "blank_mandatory",
        "impossible_date",
        "future_start_date",
        "age_under_16",
        "age_over_100",
        "non_positive_fte",
        "duplicate_row",
        "wrong_organisation",
    ),
    "recruitment": (
        "unknown_ethnic_code",
        "unknown_pay_band",
        "blank_mandatory",
        "invalid_flag",
        "appointed_not_shortlisted",
        "duplicate_row",
        "wrong_organisation",
    ),
    "er-cases": (
        "blank_mandatory",
        "impossible_date",
        "date_out_of_period",
        "duplicate_row",
        "wrong_organisation",
    ),
    "training": (
        "blank_mandatory",
        "impossible_date",
        "date_out_of_period",
        "duplicate_row",
        "wrong_organisation",
    ),
    "board": (
        "unknown_ethnic_code",
        "blank_mandatory",
        "invalid_flag",
        "wrong_organisation",
    ),
}

#: Values no reference lookup accepts (checked by the tests against the reference).
BAD_ETHNIC = ("Q Other Group", "T White - Other", "0", "ZZ Not Stated", "Y", "Asian")
BAD_STAFF_GROUPS = ("Medical", "Nursing", "11", "Doctors and Dentists", "Admin")
BAD_BANDS = ("Band 10", "Band 8e", "Band 0", "Grade 5", "Registrar Grade", "B5")
BAD_FTE = ("0", "0.00", "-0.5", "-1.00")
BAD_FLAGS = ("Maybe", "U", "X", "?")
_IMPOSSIBLE_DAYS = ("31/02", "30/02", "31/04", "31/06", "31/09", "31/11")

_DATE_FIELDS: dict[Kind, tuple[str, ...]] = {
    "staff": ("date_of_birth", "start_date"),
    "er-cases": ("start_date",),
    "training": ("date",),
}
_YEARS = 365.2425


@dataclass(frozen=True)
class Fault:
    """One injected fault: where it is and what it is, never the value."""

    kind: Kind
    row: int
    """1-based data row (header excluded): CSV line number minus 1."""
    field: str
    """Internal column name from ``governance.extract_format``."""
    fault: FaultType

    def as_json(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "row": self.row,
            "field": self.field,
            "fault": self.fault,
        }


class FaultInjector:
    """Stream rows of one file, hitting each with probability ``rate``."""

    def __init__(
        self, plan: Plan, kind: Kind, org: str, rate: float, rng: np.random.Generator
    ) -> None:
        self._plan = plan
        self._kind = kind
        self._rate = rate
        self._rng = rng
        names = [column.name for column in COLUMNS[kind]]
        self._index = {name: i for i, name in enumerate(names)}
        self._mandatory = [c.name for c in COLUMNS[kind] if c.mandatory]
        self._others = [b.code for b in plan.reference.bodies if b.code != org]
        self._row = 0
        self.faults: list[Fault] = []

    def apply(self, rows: Iterable[Row]) -> Iterator[Row]:
        """Yield the rows, with faults injected and recorded."""
        rows = list(rows)
        hits = set(np.flatnonzero(self._rng.random(len(rows)) < self._rate).tolist())
        for i, row in enumerate(rows):
            if i not in hits:
                self._row += 1
                yield row
                continue
            fault: FaultType = self._choose(FAULTS_BY_KIND[self._kind])
            if fault == "duplicate_row":
                self._row += 1
                yield row
                self._row += 1
                field = "assignment_number" if self._kind == "staff" else self._key()
                self.faults.append(Fault(self._kind, self._row, field, fault))
                yield row
                continue
            changed = list(row)
            field = self._inject(fault, changed)
            self._row += 1
            self.faults.append(Fault(self._kind, self._row, field, fault))
            yield tuple(changed)

    @property
    def rows_written(self) -> int:
        return self._row

    def _key(self) -> str:
        return {"recruitment": "applicant_id"}.get(self._kind, "employee_number")

    def _choose(self, options: tuple[str, ...]) -> FaultType:
        choice: FaultType = options[int(self._rng.integers(len(options)))]  # type: ignore[assignment]  # options are FaultTypes
        return choice

    def _pick(self, options: tuple[str, ...] | list[str]) -> str:
        return options[int(self._rng.integers(len(options)))]

    def _set(self, row: list[str], field: str, value: str) -> str:
        row[self._index[field]] = value
        return field

    def _days_from_snapshot(self, low: float, high: float) -> str:
        days = int(self._rng.uniform(low, high))
        return self._plan.dates.one(self._plan.snapshot.toordinal() + days)

    def _inject(self, fault: FaultType, row: list[str]) -> str:
        plan = self._plan
        if fault == "unknown_ethnic_code":
            return self._set(row, "ethnic_origin", self._pick(BAD_ETHNIC))
        if fault == "unknown_staff_group":
            return self._set(row, "staff_group", self._pick(BAD_STAFF_GROUPS))
        if fault == "unknown_pay_band":
            field = "pay_band" if self._kind == "staff" else "post_band"
            return self._set(row, field, self._pick(BAD_BANDS))
        if fault == "blank_mandatory":
            return self._set(row, self._pick(self._mandatory), "")
        if fault == "impossible_date":
            field = self._pick(_DATE_FIELDS[self._kind])
            year = plan.period - (40 if field == "date_of_birth" else 1)
            return self._set(row, field, f"{self._pick(_IMPOSSIBLE_DAYS)}/{year}")
        if fault == "future_start_date":
            return self._set(row, "start_date", self._days_from_snapshot(1, 365))
        if fault == "age_under_16":
            text = self._days_from_snapshot(-15 * _YEARS, -1 * _YEARS)
            return self._set(row, "date_of_birth", text)
        if fault == "age_over_100":
            text = self._days_from_snapshot(-110 * _YEARS, -101 * _YEARS)
            return self._set(row, "date_of_birth", text)
        if fault == "non_positive_fte":
            return self._set(row, "fte", self._pick(BAD_FTE))
        if fault == "wrong_organisation":
            return self._set(row, "organisation_code", self._pick(self._others))
        if fault == "date_out_of_period":
            field = _DATE_FIELDS[self._kind][0]
            before = self._rng.random() < 0.5
            low, high = (-2 * _YEARS + 1, -_YEARS - 1) if before else (1, 180)
            return self._set(row, field, self._days_from_snapshot(low, high))
        if fault == "invalid_flag":
            field = self._pick(
                [
                    n
                    for n in ("shortlisted", "appointed", "voting", "executive")
                    if n in self._index
                ]
            )
            return self._set(row, field, self._pick(BAD_FLAGS))
        if fault == "appointed_not_shortlisted":
            self._set(row, "shortlisted", "N")
            return self._set(row, "appointed", "Y")
        raise AssertionError(
            fault
        )  # pragma: no cover - FAULTS_BY_KIND lists only these
