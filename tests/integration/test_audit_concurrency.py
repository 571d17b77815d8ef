"""Concurrent writers keep one linear, valid chain (docs/audit-log.md)."""

from __future__ import annotations

import threading

from governance.access import Subject
from governance.config import Settings
from governance.models import AuditQuery
from governance.service import Service

WRITERS = 8


def test_concurrent_writers_keep_one_valid_chain(
    gov_settings: Settings, service: Service, dm: Subject, ig: Subject
) -> None:
    actions = (
        500
        if gov_settings.database_url and "postgresql" in gov_settings.database_url
        else 100
    )
    before = service.store.read_audit_head().size
    errors: list[BaseException] = []
    start = threading.Barrier(WRITERS)

    def writer() -> None:
        own = Service(gov_settings)
        try:
            caller = own.caller_for("dm-7a1")
            start.wait()
            for _ in range(actions):
                own.extracts(caller, org="7A1")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            own.close()

    threads = [threading.Thread(target=writer) for _ in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors[:3]

    head = service.store.read_audit_head()
    assert head.size == before + WRITERS * actions
    result = service.verify_audit(ig)
    assert result.ok, result.summary()
    listed = service.audit_log(ig, AuditQuery(action="extract.list"))
    assert len(listed) == WRITERS * actions
    sequence = [entry.seq for entry in service.audit_log(ig, AuditQuery())]
    assert sequence == list(range(1, len(sequence) + 1))
    times = [entry.time for entry in service.audit_log(ig, AuditQuery())]
    assert times == sorted(times), "entry times never go backwards along the chain"
