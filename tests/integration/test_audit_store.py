"""The audit log in a real store: append-only, verified, and every tampering caught."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

from audit import SigningKey, sign_checkpoint, write_checkpoint_file
from governance import service_audit
from governance.access import Subject
from governance.models import AuditQuery
from governance.service import Service
from governance.service_audit import AUDIT_ORIGIN
from tests.factories import make_row, write_extract


def busy_log(service: Service, tmp_path: Path, dm: Subject, ig: Subject) -> None:
    """Ingests, reads and two checkpoints: a log of about 20 entries."""
    for number in range(3):
        rows = [make_row("staff", i) for i in range(10 + number)]
        path = write_extract(tmp_path / f"s{number}.csv", "staff", rows)
        service.ingest(dm, path, kind="staff", org="7A1", period=2026)
        service.extracts(dm, org="7A1")
    service.checkpoint(ig)
    for _ in range(4):
        service.extracts(dm, org="7A1")
    service.checkpoint(ig)
    for _ in range(3):
        service.extracts(dm, org="7A1")


def raw(
    service: Service,
    *statements: str,
) -> None:
    """Run SQL as someone with direct database access (append-only triggers off)."""
    dialect = service.store.dialect
    with service.store.engine.begin() as connection:
        if dialect == "postgresql":
            connection.exec_driver_sql(
                "ALTER TABLE audit_entry DISABLE TRIGGER audit_entry_append_only"
            )
        else:
            connection.exec_driver_sql("DROP TRIGGER IF EXISTS audit_entry_no_update")
            connection.exec_driver_sql("DROP TRIGGER IF EXISTS audit_entry_no_delete")
        for statement in statements:
            connection.exec_driver_sql(statement)


def test_clean_log_verifies(
    service: Service, tmp_path: Path, dm: Subject, ig: Subject
) -> None:
    busy_log(service, tmp_path, dm, ig)
    result = service.verify_audit(ig)
    assert result.ok, result.summary()
    assert result.checkpoints == 2
    assert result.report.entries >= 15
    actions = {entry.action for entry in service.audit_log(ig, AuditQuery())}
    assert {
        "store.init",
        "extract.ingest",
        "extract.list",
        "audit.checkpoint",
    } <= actions


def test_entries_are_append_only(service: Service) -> None:
    with (
        pytest.raises(sa.exc.DatabaseError),
        service.store.engine.begin() as connection,
    ):
        connection.exec_driver_sql(
            "UPDATE audit_entry SET principal = 'x' WHERE seq = 1"
        )
    with (
        pytest.raises(sa.exc.DatabaseError),
        service.store.engine.begin() as connection,
    ):
        connection.exec_driver_sql("DELETE FROM audit_entry WHERE seq = 1")


def _swap(service: Service) -> list[str]:
    columns = "principal, action, resource, detail, entry_hash"
    with service.store.engine.connect() as connection:
        a, b = connection.exec_driver_sql(
            f"SELECT {columns} FROM audit_entry WHERE seq IN (5, 6) ORDER BY seq"
        ).all()
    temp = "'\\x" if service.store.dialect == "postgresql" else "x'"

    def setter(row: sa.Row[str, str, str, str, bytes], seq: int) -> str:
        return (
            f"UPDATE audit_entry SET principal = '{row[0]}', action = '{row[1]}', "
            f"resource = '{row[2]}', detail = '{row[3]}', "
            f"entry_hash = {temp}{row[4].hex()}' WHERE seq = {seq}"
        )

    return [
        "UPDATE audit_entry SET entry_hash = entry_hash || entry_hash WHERE seq IN (5, 6)",
        setter(b, 5),
        setter(a, 6),
    ]


def _insert(service: Service) -> list[str]:
    """Renumber from 6 on and slip a forged entry in at 6, linked to entry 5."""
    fake_hash = (
        "decode(md5('forged') || md5('entry'), 'hex')"
        if service.store.dialect == "postgresql"
        else "randomblob(32)"
    )
    return [
        "UPDATE audit_entry SET seq = seq + 1000 WHERE seq >= 6",
        "UPDATE audit_entry SET seq = seq - 999 WHERE seq >= 1006",
        (
            "INSERT INTO audit_entry (seq, time, principal, role, action, resource, "
            "body, purpose, outcome, policy_sha256, result_digest, detail, prev_hash, "
            "entry_hash) SELECT 6, time, 'mallory', role, action, resource, body, "
            "purpose, outcome, policy_sha256, result_digest, detail, entry_hash, "
            f"{fake_hash} FROM audit_entry WHERE seq = 5"
        ),
        "UPDATE audit_head SET size = size + 1",
    ]


TAMPERING: dict[str, tuple[Callable[[Service], list[str]], int]] = {
    "modify a field": (
        lambda s: ["UPDATE audit_entry SET principal = 'mallory' WHERE seq = 7"],
        7,
    ),
    "delete an entry": (lambda s: ["DELETE FROM audit_entry WHERE seq = 9"], 9),
    "insert a forged entry": (lambda s: _insert(s), 6),
    "swap two entries": (_swap, 5),
    "truncate the tail": (
        lambda s: [
            "DELETE FROM audit_entry WHERE seq > 10",
            (
                "UPDATE audit_head SET size = 10, head_hash = (SELECT entry_hash FROM "
                "audit_entry WHERE seq = 10)"
            ),
        ],
        11,
    ),
}


@pytest.mark.parametrize(
    "parallel", [False, True], ids=["one-process", "two-processes"]
)
@pytest.mark.parametrize("attack", sorted(TAMPERING))
def test_tampering_is_detected(
    service: Service,
    tmp_path: Path,
    attack: str,
    parallel: bool,
    dm: Subject,
    ig: Subject,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if parallel:  # verify in two ranges, as long chains are
        monkeypatch.setattr(service_audit, "PARALLEL_MIN_ENTRIES", 2)
    busy_log(service, tmp_path, dm, ig)
    assert service.verify_audit(ig).ok
    make, first_bad = TAMPERING[attack]
    raw(service, *make(service))
    result = service.verify_audit(ig)
    assert not result.ok, attack
    assert result.first_bad_seq == first_bad, result.summary()


def test_checkpoint_signed_by_another_key_is_detected(
    service: Service, tmp_path: Path, dm: Subject, ig: Subject
) -> None:
    busy_log(service, tmp_path, dm, ig)
    directory = service.settings.resolved_checkpoint_dir
    newest = max(directory.glob("checkpoint-*.txt"))
    size = int(newest.stem.split("-")[1])
    with service.store.engine.connect() as connection:
        head_hash = connection.exec_driver_sql(
            f"SELECT entry_hash FROM audit_entry WHERE seq = {size}"
        ).scalar_one()
    from audit import ChainHead

    forged = sign_checkpoint(
        ChainHead(size, bytes(head_hash)),
        SigningKey.generate(AUDIT_ORIGIN),
        AUDIT_ORIGIN,
    )
    newest.unlink()
    write_checkpoint_file(directory, forged)
    result = service.verify_audit(ig)
    assert not result.ok
    assert "signature" in result.summary() or "signed" in result.summary()
