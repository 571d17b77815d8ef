"""Count tables computed in the store: known answers, and SQLite equals PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from governance.access import Subject
from governance.config import Settings
from governance.errors import TableError
from governance.service import Service
from governance.tablespec import TableSpec
from tests.factories import make_row, principal, write_extract

PERIOD = 2026


def _ingest(
    service: Service, dm: Subject, tmp_path: Path, kind: str, rows: list[dict[str, str]]
) -> None:
    path = write_extract(tmp_path / f"{kind}.csv", kind, rows)  # type: ignore[arg-type]
    service.ingest(dm, path, kind=kind, org="7A1", period=PERIOD)  # type: ignore[arg-type]


def _count(service: Service, spec: TableSpec) -> dict[tuple[str, ...], int]:
    with service.store.transaction() as tx:
        return tx.aggregate(spec, period=PERIOD)


def test_known_answers(service: Service, dm: Subject, tmp_path: Path) -> None:
    staff = [
        # person 0: two assignments, the 0.6 FTE one (band 6) is primary
        make_row(
            "staff", 0, assignment_number="20000001-1", fte="0.4", pay_band="Band 3"
        ),
        make_row(
            "staff", 0, assignment_number="20000001-2", fte="0.6", pay_band="Band 6"
        ),
        make_row("staff", 1, ethnic_origin="N Black or Black British - African"),
        make_row("staff", 2, ethnic_origin="H Asian or Asian British - Indian"),
        make_row("staff", 3, ethnic_origin="Z Not Stated"),
        make_row("staff", 4, contract_type="Bank"),  # not staff in post
        make_row("staff", 5, staff_group="Medical and Dental", pay_band="Consultant"),
    ]
    _ingest(service, dm, tmp_path, "staff", staff)
    by_group = TableSpec(
        name="headcount", source="staff", measure="headcount",
        dimensions=("body", "wres_group"), filters={"body": ("7A1",)},
    )  # fmt: skip
    assert _count(service, by_group) == {
        ("7A1", "White"): 2,  # person 0 once, person 5
        ("7A1", "Ethnic minority"): 2,
        ("7A1", "Not stated"): 1,
    }
    by_band = TableSpec(
        name="afc", source="staff", measure="headcount",
        dimensions=("pay_band",), filters={"body": ("7A1",), "staff_group": ("03",)},
    )  # fmt: skip
    counts = _count(service, by_band)
    assert counts[("6",)] == 1 and counts[("3",)] == 0 and counts[("5",)] == 3
    assert sum(counts.values()) == 4

    unfiltered = TableSpec(
        name="bands", source="staff", measure="headcount", dimensions=("pay_band",)
    )
    with pytest.raises(TableError, match="pay_band outside"):
        _count(service, unfiltered)

    cases = [
        make_row("er-cases", 1),  # the Black African staff member, formal
        make_row(
            "er-cases", 1, start_date="01/07/2025", stage="Hearing"
        ),  # same person
        make_row("er-cases", 2, stage="Informal"),  # informal: not counted
        make_row("er-cases", 0, case_type="Capability"),
        make_row("er-cases", 99),  # not in the staff snapshot
    ]
    _ingest(service, dm, tmp_path, "er-cases", cases)
    disciplinary = TableSpec(
        name="disc", source="er-cases", measure="people_entering_disciplinary",
        dimensions=("wres_group",),
    )  # fmt: skip
    assert _count(service, disciplinary) == {
        ("White",): 0, ("Ethnic minority",): 1, ("Not stated",): 0,
    }  # fmt: skip

    applications = [
        make_row("recruitment", 0, shortlisted="Y", appointed="Y"),
        make_row("recruitment", 1, shortlisted="Y", appointed="N"),
        make_row("recruitment", 2, shortlisted="N", appointed="N"),
        make_row("recruitment", 3, ethnic_origin="A White - British", shortlisted="Y",
                 appointed="Y"),
    ]  # fmt: skip
    _ingest(service, dm, tmp_path, "recruitment", applications)
    shortlisted = TableSpec(
        name="short", source="recruitment", measure="applicants_shortlisted",
        dimensions=("wres_group",),
    )  # fmt: skip
    appointed = shortlisted.model_copy(update={"measure": "applicants_appointed"})
    assert _count(service, shortlisted) == {
        ("White",): 1, ("Ethnic minority",): 2, ("Not stated",): 0,
    }  # fmt: skip
    assert _count(service, appointed)[("White",)] == 1


SPECS = [
    TableSpec(name="a", source="staff", measure="headcount",
              dimensions=("body", "ethnic_broad", "clinical")),
    TableSpec(name="b", source="staff", measure="headcount",
              dimensions=("body", "wres_group", "pay_band"),
              filters={"staff_group": ("03", "04", "05", "06", "07", "08", "09")}),
    TableSpec(name="c", source="staff", measure="headcount",
              dimensions=("medical_subgroup", "wres_group"),
              filters={"staff_group": ("01",)}),
    TableSpec(name="d", source="recruitment", measure="applicants_appointed",
              dimensions=("body", "wres_group")),
    TableSpec(name="e", source="er-cases", measure="people_entering_disciplinary",
              dimensions=("body", "wres_group")),
    TableSpec(name="f", source="training", measure="people_accessing_training",
              dimensions=("body", "ethnic_broad")),
    TableSpec(name="g", source="board", measure="board_voting",
              dimensions=("body", "wres_group")),
]  # fmt: skip


@pytest.mark.postgresql
def test_sqlite_and_postgresql_agree(tmp_path: Path, pg_url: str) -> None:
    from synthetic import generate

    summary = generate(tmp_path / "extracts", seed=3, staff=3000, period=PERIOD)
    results = []
    for name, url in (("sqlite", f"sqlite:///{tmp_path / 'a.db'}"), ("pg", pg_url)):
        service = Service(Settings(home=tmp_path / name, database_url=url))
        try:
            service.init()
            for org in summary.headcount:
                dm = principal(service, f"dm-{org.lower()}", "data_manager", org)
                for kind in ("staff", "recruitment", "er-cases", "training", "board"):
                    path = tmp_path / "extracts" / str(PERIOD) / org / f"{kind}.csv"
                    service.ingest(dm, path, kind=kind, org=org, period=PERIOD)
            with service.store.transaction() as tx:
                results.append([tx.aggregate(spec, period=PERIOD) for spec in SPECS])
        finally:
            service.close()
    assert results[0] == results[1]
    assert sum(results[0][0].values()) > 2500


def test_one_query_per_population_gives_each_specs_own_counts(
    service: Service, tmp_path: Path
) -> None:
    from synthetic import generate

    summary = generate(tmp_path / "extracts", seed=5, staff=1500, period=PERIOD)
    for org in summary.headcount:
        dm = principal(service, f"dm-{org.lower()}", "data_manager", org)
        for kind in ("staff", "recruitment", "er-cases", "training", "board"):
            path = tmp_path / "extracts" / str(PERIOD) / org / f"{kind}.csv"
            service.ingest(dm, path, kind=kind, org=org, period=PERIOD)
    # two measures of one source, and a filter on a column another spec breaks down by
    specs = [
        *SPECS,
        SPECS[3].model_copy(update={"name": "d2", "measure": "applicants_shortlisted"}),
        SPECS[4].model_copy(update={"name": "e2", "measure": "people_entering_capability"}),
        TableSpec(name="h", source="staff", measure="headcount",
                  dimensions=("pay_band",), filters={"body": ("7A1",),
                                                      "staff_group": ("03",)}),
    ]  # fmt: skip
    with service.store.transaction() as tx:
        alone = [tx.aggregate(spec, period=PERIOD) for spec in specs]
        together = tx.aggregate_many(specs, period=PERIOD)
        one_body = tx.aggregate_many(specs[:3], period=PERIOD, body="7A1")
        scoped = [tx.aggregate(s, period=PERIOD, body="7A1") for s in specs[:3]]
    assert together == alone
    assert one_body == scoped
    assert alone[0] != one_body[0] and sum(alone[0].values()) > 1000
    unfiltered = TableSpec(
        name="bands", source="staff", measure="headcount", dimensions=("pay_band",)
    )
    with (
        service.store.transaction() as tx,
        pytest.raises(TableError, match=r"'bands'.*pay_band outside"),
    ):
        tx.aggregate_many([specs[0], unfiltered], period=PERIOD)
