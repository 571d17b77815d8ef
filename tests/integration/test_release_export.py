"""Writing a release: checked again under the lock, rendered outside it, all or none.

``export_release`` counts and clears the tables, renders and writes the release
beside its target without holding the request's row lock, then locks the request,
checks again that it is still the request that was approved, and commits. A
failure at any point leaves the store and the release directory as they were.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from governance import service_releases
from governance.access import Subject
from governance.errors import ConfigError, DisclosureError, InvalidTransitionError
from governance.models import AuditQuery
from governance.release import write_release as release_write
from governance.release_verify import UNCOMMITTED_NAME, verify_release
from governance.service import RequestInfo, Service
from governance.storage.transaction import SqlTransaction
from tests.api_support import PURPOSE, SPEC
from tests.factories import make_row, principal, write_extract

pytest.importorskip("governance.sdc.suppress")


@pytest.fixture
def approved(service: Service, dm: Subject, tmp_path: Path) -> RequestInfo:
    rows = [make_row("staff", i) for i in range(40)]
    path = write_extract(tmp_path / "staff.csv", "staff", rows)
    service.ingest(dm, path, kind="staff", org="7A1", period=2026)
    analyst = principal(service, "analyst-1", "analyst")
    officers = [principal(service, f"ig-{n}", "ig_officer") for n in (1, 2)]
    info = service.create_request(analyst, purpose=PURPOSE, period=2026, tables=[SPEC])
    info = service.submit_request(analyst, info.id)
    for officer in officers:
        info = service.approve_request(officer, info.id)
    assert info.state == "approved"
    return info


class Transactions:
    """Wraps the store's transactions: counts them, knows when one is open, and
    runs ``before`` (in a transaction of its own) before the ``nth`` begins."""

    def __init__(self, service: Service, monkeypatch: pytest.MonkeyPatch) -> None:
        self.opened = 0
        self.open = False
        self.before: tuple[int, Callable[[SqlTransaction], None]] | None = None
        self.fail_commit_after: str | None = None
        self._real = service.store.transaction
        monkeypatch.setattr(service.store, "transaction", self._transaction)

    @contextmanager
    def _transaction(self) -> Iterator[SqlTransaction]:
        self.opened += 1
        if self.before is not None and self.before[0] == self.opened:
            with self._real() as tx:
                self.before[1](tx)
        with self._real() as tx:
            self.open = True
            called: list[str] = []
            watched = self.fail_commit_after
            if watched is not None:
                method = getattr(tx, watched)

                def spy(*args: Any, **kwargs: Any) -> Any:
                    called.append(watched)
                    return method(*args, **kwargs)

                setattr(tx, watched, spy)
            try:
                yield tx
                if called:  # the commit fails: the store rolls back
                    raise ConfigError("database error on the test store (commit)")
            finally:
                self.open = False


def _store_state(service: Service, request_id: int) -> tuple[object, ...]:
    with service.store.transaction() as tx:
        record = tx.request(request_id)
        return (record, tuple(tx.releases_of(request_id)), tx.audit_head())


def _change(tx: SqlTransaction, request_id: int, change: str) -> None:
    """Another process changes the request between its checks and the commit."""
    record = tx.request(request_id)
    assert record is not None
    if change == "tables":  # checked again and approved again on other tables
        tx.save_request(replace(record, cleared_digest="0" * 64))
    elif change == "approvals":  # ig-1's grant is revoked
        (grant,) = tx.grants_of("ig-1")
        assert grant.id is not None
        tx.revoke_grant(grant.id, datetime.now(UTC))
    elif change == "approved_again":  # reset, then the same officers approve again
        later = datetime.now(UTC)
        again = tuple((officer, later) for officer, _ in record.approvals)
        tx.save_request(replace(record, approvals=again))
    else:  # the requester withdraws it
        tx.save_request(replace(record, state="withdrawn"))


@pytest.mark.parametrize(
    ("change", "error", "reason"),
    [
        ("tables", DisclosureError, "tables_changed"),
        ("approvals", DisclosureError, "approvals_changed"),
        ("approved_again", DisclosureError, "approvals_changed"),
        ("state", InvalidTransitionError, "invalid_transition"),
    ],
)
def test_the_request_is_checked_again_under_the_lock(
    service: Service,
    approved: RequestInfo,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    change: str,
    error: type[Exception],
    reason: str,
) -> None:
    analyst = service.caller_for("analyst-1")
    watch = Transactions(service, monkeypatch)
    watch.before = (2, lambda tx: _change(tx, approved.id, change))
    out = tmp_path / "releases" / "R1"
    with pytest.raises(error, match=f"request {approved.id}: "):
        service.export_release(analyst, approved.id, out)
    assert watch.opened >= 2
    assert list(out.parent.iterdir()) == []  # neither the release nor its staging
    with service.store.transaction() as tx:
        assert tx.releases_of(approved.id) == []
    ig = service.caller_for("ig-2")
    (entry,) = service.audit_log(ig, AuditQuery(action="release.export"))
    assert (entry.outcome, entry.resource) == ("error", f"request:{approved.id}")
    assert json.loads(entry.detail)["reason"] == reason


def test_reports_are_rendered_without_holding_the_lock(
    service: Service,
    approved: RequestInfo,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    watch = Transactions(service, monkeypatch)
    real_write = release_write
    seen: list[bool] = []

    def write_release(*args: Any, **kwargs: Any) -> Any:
        seen.append(watch.open)
        return real_write(*args, **kwargs)

    monkeypatch.setattr(service_releases, "write_release", write_release)
    service.export_release(service.caller_for("analyst-1"), approved.id, tmp_path / "o")
    assert seen == [False]
    assert (tmp_path / "o" / "manifest.json").is_file()
    assert not (tmp_path / "o" / UNCOMMITTED_NAME).exists()  # removed on commit
    release_key = service.signing_key("release").public_key
    assert verify_release(tmp_path / "o", [release_key]).ok


def test_a_release_killed_before_its_commit_does_not_verify(
    service: Service,
    approved: RequestInfo,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    # A process killed between moving the directory into place and the commit
    # runs no clean-up: the commit fails and the directory is not removed.
    Transactions(service, monkeypatch).fail_commit_after = "add_release"
    # service_releases calls shutil.rmtree: patch it in the shutil module itself
    monkeypatch.setattr(shutil, "rmtree", lambda *a, **k: None)
    out = tmp_path / "releases" / "R1"
    with pytest.raises(ConfigError):
        service.export_release(service.caller_for("analyst-1"), approved.id, out)
    monkeypatch.undo()
    with service.store.transaction() as tx:
        assert tx.releases_of(approved.id) == []  # the store does not list it
    release_key = service.signing_key("release").public_key
    result = verify_release(out, [release_key])
    assert [p.kind for p in result.problems] == ["uncommitted"]
    assert not result.ok


def _disk_full(*args: Any, **kwargs: Any) -> Any:
    raise OSError("disk full")


@pytest.mark.parametrize("failing", ["write", "commit"])
def test_a_failed_release_leaves_the_store_and_the_directory_as_they_were(
    service: Service,
    approved: RequestInfo,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    failing: str,
) -> None:
    before = _store_state(service, approved.id)
    expected: type[Exception] = OSError
    if failing == "commit":  # after the release directory was written
        Transactions(service, monkeypatch).fail_commit_after = "add_release"
        expected = ConfigError
    else:
        monkeypatch.setattr(service_releases, "write_release", _disk_full)
    parent = tmp_path / "releases"
    with pytest.raises(expected):
        service.export_release(
            service.caller_for("analyst-1"), approved.id, parent / "R1"
        )
    monkeypatch.undo()
    assert list(parent.iterdir()) == []  # neither the release nor a staging directory
    assert _store_state(service, approved.id) == before
