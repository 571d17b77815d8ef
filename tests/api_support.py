"""A store with a release in it, for the API and output-reading tests."""

from __future__ import annotations

from pathlib import Path

from governance.service import Service
from governance.tablespec import TableSpec
from tests.factories import make_row, principal, write_extract

SPEC = TableSpec(
    name="staff_by_group",
    source="staff",
    measure="headcount",
    dimensions=("body", "wres_group"),
)
PURPOSE = "Board paper on workforce representation, quarter 1"

#: A safe little table for the pre-publication check: nothing under 10, totals add.
CHECK_TABLE = (
    "dept,grade,display\n"
    "Sales,G1,25\nSales,G2,14\nSales,Total,39\n"
    "Ops,G1,12\nOps,G2,15\nOps,Total,27\n"
    "Total,G1,37\nTotal,G2,29\nTotal,Total,66\n"
)
#: The same table with one small cell published: unsafe.
UNSAFE_TABLE = (
    CHECK_TABLE.replace("Sales,G2,14", "Sales,G2,4")
    .replace("Sales,Total,39", "Sales,Total,29")
    .replace("Total,G2,29", "Total,G2,19")
    .replace("Total,Total,66", "Total,Total,56")
)


def ingest_staff(service: Service, tmp_path: Path, prefix: str = "out") -> None:
    """40 staff at 7A1, 6 of them Black African (a `<10` cell), ingested by its DM."""
    dm = principal(service, f"{prefix}-dm-7a1", "data_manager", "7A1")
    rows = [make_row("staff", i) for i in range(40)]
    for row in rows[:6]:
        row["ethnic_origin"] = "N Black or Black British - African"
    path = write_extract(tmp_path / f"{prefix}-staff.csv", "staff", rows)
    service.ingest(dm, path, kind="staff", org="7A1", period=2026)


def released(service: Service, tmp_path: Path, prefix: str = "out") -> tuple[int, str]:
    """Ingest, request, check, approve twice and release; (request id, release id)."""
    ingest_staff(service, tmp_path, prefix)
    analyst = principal(service, f"{prefix}-analyst", "analyst")
    ig1 = principal(service, f"{prefix}-ig-1", "ig_officer")
    ig2 = principal(service, f"{prefix}-ig-2", "ig_officer")
    info = service.create_request(analyst, purpose=PURPOSE, period=2026, tables=[SPEC])
    service.submit_request(analyst, info.id)
    service.approve_request(ig1, info.id)
    service.approve_request(ig2, info.id)
    record = service.export_release(analyst, info.id)
    return info.id, record.id
