"""Ingest through the service on each store: validation, atomicity, resubmission."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from governance.access import Subject
from governance.errors import AccessDeniedError, IngestError
from governance.extract_format import Kind, headers
from governance.models import RECORD_FIELDS, AuditQuery, NewExtract
from governance.service import Service
from governance.storage import schema
from governance.storage.sql import SqlStore
from tests.factories import extract_text, make_row, store_snapshot, write_extract

PERIOD = 2026


def staff_rows(n: int, **overrides: str) -> list[dict[str, str]]:
    return [make_row("staff", i, **overrides) for i in range(n)]


def test_valid_extract_is_stored_pseudonymised(
    service: Service, tmp_path: Path, dm: Subject
) -> None:
    path = write_extract(tmp_path / "staff.csv", "staff", staff_rows(60))
    result = service.ingest(dm, path, kind="staff", org="7A1", period=PERIOD)
    assert (result.outcome, result.rows_read, result.rows_accepted) == (
        "stored",
        60,
        60,
    )
    assert result.rows_quarantined == 0 and result.report is None
    with service.store.engine.connect() as connection:
        rows = connection.execute(sa.select(schema.staff_records)).mappings().all()
    assert len(rows) == 60
    first = rows[0]
    assert len(first["person"]) == 32 and first["person"] != "20000001"
    assert first["ethnic_code"] == "A" and first["wres_group"] == "White"
    assert first["age_band"] == "40-44" and first["start_year"] == 2012
    assert first["staff_group"] == "03" and first["clinical"] is True


def test_blanks_and_flags_are_stored_as_null_and_booleans(
    service: Service, tmp_path: Path, dm: Subject
) -> None:
    rows = staff_rows(3, ni_number="", job_role="", occupation_code="")
    rows[1].update(staff_group="Supplementary Roles", ni_number="AB 12 34 56 C")
    rows[2].update(staff_group="Administrative and Clerical", pay_band="Band 3")
    path = write_extract(tmp_path / "staff.csv", "staff", rows)
    service.ingest(dm, path, kind="staff", org="7A1", period=PERIOD)
    table = schema.staff_records
    with service.store.engine.connect() as connection:
        stored = connection.execute(
            sa.select(
                table.c.ni.is_(None),
                table.c.job_role.is_(None),
                table.c.occupation_code.is_(None),
                table.c.medical_subgroup.is_(None),
                table.c.clinical,
            ).order_by(table.c.source_row)
        ).all()
    assert [tuple(row) for row in stored] == [
        (True, True, True, True, True),
        (False, True, True, True, None),
        (True, True, True, True, False),
    ]


@pytest.mark.parametrize("kind", ["recruitment", "er-cases", "training", "board"])
def test_every_kind_ingests(
    service: Service, tmp_path: Path, kind: Kind, dm: Subject
) -> None:
    rows = [make_row(kind, i) for i in range(12)]
    path = write_extract(tmp_path / f"{kind}.csv", kind, rows)
    result = service.ingest(dm, path, kind=kind, org="7A1", period=PERIOD)
    assert result.rows_accepted == 12
    with service.store.transaction() as tx:
        assert tx.count_records(kind, result.extract_id) == 12


def test_same_content_twice_is_a_no_op(
    service: Service, tmp_path: Path, dm: Subject
) -> None:
    path = write_extract(tmp_path / "staff.csv", "staff", staff_rows(20))
    first = service.ingest(dm, path, kind="staff", org="7A1", period=PERIOD)
    before = store_snapshot(service)
    again = service.ingest(dm, path, kind="staff", org="7A1", period=PERIOD)
    assert again.outcome == "unchanged" and again.extract_id == first.extract_id
    assert store_snapshot(service) == before


def test_corrected_resubmission_supersedes_and_keeps_the_old(
    service: Service, tmp_path: Path, dm: Subject
) -> None:
    old = service.ingest(
        dm,
        write_extract(tmp_path / "a.csv", "staff", staff_rows(20)),
        kind="staff",
        org="7A1",
        period=PERIOD,
    )
    new = service.ingest(
        dm,
        write_extract(tmp_path / "b.csv", "staff", staff_rows(25)),
        kind="staff",
        org="7A1",
        period=PERIOD,
    )
    assert new.superseded == old.extract_id
    by_id = {info.id: info for info in service.extracts(dm, org="7A1")}
    assert by_id[old.extract_id].status == "superseded"
    assert by_id[old.extract_id].superseded_by == new.extract_id
    assert by_id[new.extract_id].status == "active"
    # The first version is sent again: it becomes active once more.
    back = service.ingest(
        dm, tmp_path / "a.csv", kind="staff", org="7A1", period=PERIOD
    )
    assert back.outcome == "reactivated" and back.extract_id == old.extract_id
    statuses = {info.id: info.status for info in service.extracts(dm, org="7A1")}
    assert statuses == {old.extract_id: "active", new.extract_id: "superseded"}


def test_same_person_links_across_extracts_and_years(
    service: Service, tmp_path: Path, dm: Subject
) -> None:
    service.ingest(
        dm,
        write_extract(tmp_path / "s.csv", "staff", staff_rows(3)),
        kind="staff",
        org="7A1",
        period=PERIOD,
    )
    service.ingest(
        dm,
        write_extract(tmp_path / "e.csv", "er-cases", [make_row("er-cases", 1)]),
        kind="er-cases",
        org="7A1",
        period=PERIOD,
    )
    later = staff_rows(3, start_date="01/10/2012")
    service.ingest(
        dm,
        write_extract(tmp_path / "s27.csv", "staff", later),
        kind="staff",
        org="7A1",
        period=PERIOD + 1,
    )
    with service.store.engine.connect() as connection:
        er_person = connection.execute(
            sa.select(schema.er_case_records.c.person)
        ).scalar_one()
        staff = connection.execute(
            sa.select(schema.staff_records.c.person, schema.extracts.c.period)
            .join(schema.extracts)
            .where(schema.staff_records.c.source_row == 2)
        ).all()
    assert {person for person, _ in staff} == {er_person}
    assert {period for _, period in staff} == {PERIOD, PERIOD + 1}


def test_bad_rows_are_quarantined_under_the_error_rate(
    service: Service, tmp_path: Path, dm: Subject
) -> None:
    rows = staff_rows(100)
    rows[10]["ethnic_origin"] = "QX Unknown"
    path = write_extract(tmp_path / "staff.csv", "staff", rows)
    result = service.ingest(dm, path, kind="staff", org="7A1", period=PERIOD)
    assert (result.rows_accepted, result.rows_quarantined) == (99, 1)
    assert result.report is not None
    text = result.report.read_text()
    assert "11,ethnic_origin,is not an NHS ethnic category code" in text
    assert "QX" not in text
    assert service.quarantine(dm, result.extract_id)[0].row == 11


def test_error_rate_above_policy_rejects_and_changes_nothing(
    service: Service, tmp_path: Path, dm: Subject
) -> None:
    before = store_snapshot(service)
    rows = staff_rows(20)
    for row in rows[:5]:
        row["fte"] = "-0.5"
    path = write_extract(tmp_path / "staff.csv", "staff", rows)
    with pytest.raises(IngestError, match=r"5 of 20 rows \(25.0%\)"):
        service.ingest(dm, path, kind="staff", org="7A1", period=PERIOD)
    assert store_snapshot(service) == before


def test_rows_for_another_body_are_rejected(
    service: Service, tmp_path: Path, dm: Subject
) -> None:
    rows = staff_rows(60)
    rows[3]["organisation_code"] = "7A2"
    path = write_extract(tmp_path / "staff.csv", "staff", rows)
    result = service.ingest(dm, path, kind="staff", org="7A1", period=PERIOD)
    assert result.rows_quarantined == 1
    assert result.problems[0][:2] == (
        "organisation_code",
        "names another body than the extract's (--org)",
    )


def _malformed(tmp_path: Path) -> dict[str, tuple[Path, str | None]]:
    """name -> (file, expected one-line error or None when rows are quarantined)."""
    good = extract_text("staff", staff_rows(60))
    files: dict[str, tuple[Path, str | None]] = {}

    def put(name: str, data: bytes, expected: str | None) -> None:
        path = tmp_path / f"{name}.csv"
        path.write_bytes(data)
        files[name] = (path, expected)

    put("truncated-in-quote", good.encode() + b'2999,"29', "ends inside a quoted field")
    put("truncated-row", good.encode() + b"20000999,20000999-1,AB1", None)
    put("wrong-delimiter", good.replace(",", ";").encode(), "wrong delimiter")
    put(
        "missing-column",
        extract_text(
            "staff",
            staff_rows(5),
            header=[h if h != "FTE" else "Hours" for h in headers("staff")],
        ).encode(),
        "missing mandatory column(s) FTE",
    )
    put(
        "unknown-body",
        extract_text("staff", staff_rows(5, organisation_code="ZZZ")).encode(),
        "5 of 5 rows",
    )
    put(
        "invalid-ethnic",
        extract_text(
            "staff", [*staff_rows(60)[:59], make_row("staff", 77, ethnic_origin="9Q")]
        ).encode(),
        None,
    )
    put(
        "future-start",
        extract_text(
            "staff",
            [*staff_rows(60)[:59], make_row("staff", 78, start_date="01/01/2031")],
        ).encode(),
        None,
    )
    put(
        "negative-fte",
        extract_text(
            "staff", [*staff_rows(60)[:59], make_row("staff", 79, fte="-1")]
        ).encode(),
        None,
    )
    put(
        "duplicate-assignment",
        extract_text("staff", [*staff_rows(60), make_row("staff", 5)]).encode(),
        None,
    )
    put("binary-garbage", bytes(range(256)) * 40, "is binary")
    put("empty", b"", "is empty")
    put("header-only", (",".join(headers("staff")) + "\r\n").encode(), "no data rows")
    put(
        "huge-field",
        good.encode() + b'1,2,3,4,5,6,"' + b"x" * 10_000_000 + b'"\r\n',
        "longer than 131072",
    )
    return files


@pytest.mark.parametrize(
    "name",
    [
        "truncated-in-quote",
        "truncated-row",
        "wrong-delimiter",
        "missing-column",
        "unknown-body",
        "invalid-ethnic",
        "future-start",
        "negative-fte",
        "duplicate-assignment",
        "binary-garbage",
        "empty",
        "header-only",
        "huge-field",
    ],
)
def test_malformed_extracts(
    service: Service, tmp_path: Path, name: str, dm: Subject
) -> None:
    path, expected = _malformed(tmp_path)[name]
    before = store_snapshot(service)
    if expected is None:
        result = service.ingest(dm, path, kind="staff", org="7A1", period=PERIOD)
        assert result.rows_quarantined == 1
        assert result.report is not None
        return
    with pytest.raises(IngestError) as caught:
        service.ingest(dm, path, kind="staff", org="7A1", period=PERIOD)
    message = str(caught.value)
    assert expected in message
    assert "\n" not in message and path.name in message
    assert store_snapshot(service) == before


@pytest.mark.parametrize(
    ("encoding", "newline"),
    [("utf-8", "\r\n"), ("utf-8-sig", "\n"), ("cp1252", "\r\n")],
)
def test_real_export_variants(
    service: Service, tmp_path: Path, encoding: str, newline: str, dm: Subject
) -> None:
    rows = staff_rows(12, surname="Siân Llŷr" if encoding != "cp1252" else "Siân Gómez")
    rows[0]["ethnic_origin"] = "CC"
    rows[1]["ethnic_origin"] = "  z   not STATED "
    rows[2]["pay_band"] = "AfC Band 8A"
    header = [h.upper().replace(" ", "_") for h in headers("staff")]
    text = extract_text("staff", rows, header=header).replace("\r\n", newline)
    path = tmp_path / "staff.csv"
    path.write_bytes(text.encode(encoding))
    result = service.ingest(dm, path, kind="staff", org="7A1", period=PERIOD)
    assert result.rows_accepted == 12, result.problems
    with service.store.engine.connect() as connection:
        codes = connection.execute(
            sa.select(
                schema.staff_records.c.ethnic_code, schema.staff_records.c.pay_band
            ).order_by(schema.staff_records.c.source_row)
        ).all()
    assert codes[0][0] == "CC" and codes[1][0] == "Z" and codes[2][1] == "8a"


def test_another_bodys_extract_is_denied_and_audited(
    service: Service, tmp_path: Path, dm: Subject, ig: Subject
) -> None:
    path = write_extract(tmp_path / "staff.csv", "staff", staff_rows(2))
    before = store_snapshot(service)
    with pytest.raises(AccessDeniedError, match="out_of_scope"):
        service.ingest(dm, path, kind="staff", org="7A2", period=PERIOD)
    assert store_snapshot(service) == before
    (denial,) = service.audit_log(ig, AuditQuery(outcome="deny"))
    assert (denial.principal, denial.action, denial.body) == (
        "dm-7a1",
        "extract.ingest",
        "7A2",
    )
    assert '"reason":"out_of_scope"' in denial.detail


def test_rejected_extract_is_audited_as_an_error(
    service: Service, tmp_path: Path, dm: Subject, ig: Subject
) -> None:
    rows = staff_rows(10)
    for row in rows:
        row["fte"] = "2"
    path = write_extract(tmp_path / "staff.csv", "staff", rows)
    with pytest.raises(IngestError):
        service.ingest(dm, path, kind="staff", org="7A1", period=PERIOD)
    (error,) = service.audit_log(ig, AuditQuery(outcome="error"))
    assert (error.action, error.body) == ("extract.ingest", "7A1")
    assert '"error":"error_rate"' in error.detail


def test_an_empty_er_extract_means_no_cases(
    service: Service, tmp_path: Path, dm: Subject
) -> None:
    path = write_extract(tmp_path / "er.csv", "er-cases", [])
    result = service.ingest(dm, path, kind="er-cases", org="7A1", period=PERIOD)
    assert (result.outcome, result.rows_read, result.rows_accepted) == ("stored", 0, 0)


def test_records_fit_an_sqlite_build_with_few_parameters(tmp_path: Path) -> None:
    """A statement holds as many rows as the build's parameter limit allows."""
    store = SqlStore(f"sqlite:///{tmp_path / 'gov.db'}")
    store.upgrade()
    store.dispose()
    sa.event.listen(
        store.engine,
        "connect",
        lambda connection, _record: connection.setlimit(
            sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 40
        ),
    )
    rows = [
        (n, f"p{n}", f"a{n}", None, "F", "A", "White", "White", "40-44", "03", True,
         None, "N0A", "5", None, 0.8, "Permanent", 2012)
        for n in range(1, 6)
    ]  # fmt: skip
    with store.transaction() as tx:
        extract_id = tx.add_extract(
            NewExtract("7A1", PERIOD, "staff", "0" * 64, datetime.now(UTC))
        )
        tx.add_records(
            "staff", extract_id, [list(field) for field in zip(*rows, strict=True)]
        )
    with store.engine.connect() as connection:
        stored = connection.execute(
            sa.select(
                *(schema.staff_records.c[name] for name in RECORD_FIELDS["staff"])
            ).order_by(schema.staff_records.c.source_row)
        ).all()
    store.dispose()
    assert [tuple(row) for row in stored] == rows
