"""Plain functions that make test inputs: extract rows, files, store snapshots."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from governance.access import Subject
from governance.extract_format import COLUMNS, Kind, headers
from governance.service import Service
from governance.storage import schema


def principal(
    service: Service, name: str, role: str, body: str | None = None
) -> Subject:
    """A caller holding ``role`` (for ``body``), created by the first admin."""
    admin = service.caller_for("admin")
    service.add_principal(admin, name, role=role, body=body)
    return service.caller_for(name)


DEFAULTS: dict[Kind, dict[str, str]] = {
    "staff": {
        "employee_number": "20000001",
        "assignment_number": "20000001-1",
        "ni_number": "AB123456C",
        "title": "Ms",
        "forename": "Cerys",
        "surname": "Pritchard",
        "date_of_birth": "14/07/1984",
        "sex": "Female",
        "ethnic_origin": "A White - British",
        "organisation_code": "7A1",
        "staff_group": "Nursing and Midwifery Registered",
        "job_role": "Staff Nurse",
        "occupation_code": "N0A",
        "pay_band": "Band 5",
        "fte": "0.8",
        "contract_type": "Permanent",
        "start_date": "01/10/2012",
    },
    "recruitment": {
        "applicant_id": "APP0001",
        "organisation_code": "7A1",
        "ethnic_origin": "N Black or Black British - African",
        "post_band": "Band 6",
        "shortlisted": "Y",
        "appointed": "N",
    },
    "er-cases": {
        "employee_number": "20000001",
        "organisation_code": "7A1",
        "case_type": "Disciplinary",
        "stage": "Investigation",
        "start_date": "12/06/2025",
    },
    "training": {
        "employee_number": "20000001",
        "organisation_code": "7A1",
        "course": "Leadership in Practice",
        "date": "03/03/2026",
    },
    "board": {
        "organisation_code": "7A1",
        "voting": "Y",
        "executive": "N",
        "ethnic_origin": "A White - British",
    },
}


def make_row(kind: Kind, index: int = 0, **overrides: str) -> dict[str, str]:
    """A valid row of ``kind``; ``index`` makes identifiers unique."""
    row = dict(DEFAULTS[kind])
    if kind == "staff":
        number = 20000001 + index
        row["employee_number"] = str(number)
        row["assignment_number"] = f"{number}-1"
        row["ni_number"] = f"AB{100000 + index:06d}C"
    elif kind == "recruitment":
        row["applicant_id"] = f"APP{index:06d}"
    elif kind in ("er-cases", "training"):
        row["employee_number"] = str(20000001 + index)
    row.update(overrides)
    return row


def extract_text(
    kind: Kind, rows: list[dict[str, str]], *, header: list[str] | None = None
) -> str:
    names = [column.name for column in COLUMNS[kind]]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header or headers(kind))
    for row in rows:
        writer.writerow([row.get(name, "") for name in names])
    return buffer.getvalue()


def write_extract(
    path: Path,
    kind: Kind,
    rows: list[dict[str, str]],
    *,
    encoding: str = "utf-8",
    header: list[str] | None = None,
) -> Path:
    path.write_bytes(extract_text(kind, rows, header=header).encode(encoding))
    return path


def store_snapshot(
    service: Service, *, audit: bool = False
) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, sorted: compare before and after an action.

    The audit tables are left out unless ``audit``: a failed action changes nothing
    but the audit log, which records the failure.
    """
    snapshot: dict[str, list[tuple[Any, ...]]] = {}
    skip = set() if audit else {"audit_entry", "audit_head"}
    with service.store.engine.connect() as connection:
        for table in schema.metadata.sorted_tables:
            if table.name in skip:
                continue
            if sa.inspect(connection).has_table(table.name):
                rows = connection.execute(sa.select(table)).all()
                snapshot[table.name] = sorted(tuple(map(str, row)) for row in rows)
    return snapshot
