"""Benchmark the audit chain: seal and verify rates, in memory (no store).

Prints events per second for ``seal_many`` (validation included); for ``verify`` over
sealed entries; for ``verify`` when an ``AuditEntry`` is built per row; for
``verify_rows`` over tuples and over a stdlib ``sqlite3`` cursor (the least a store
read can cost); and for ``verify`` with a checkpoint every 1,000 entries.
Targets (issue 4): verify at least 200,000 entries/s in pure Python.

The store-backed figures (append rate as the service batches, verify from the store)
are added to ``figures`` in ``main`` by the storage layer.

    .venv/bin/python bench/audit.py [--entries 100000] [--batch 100] [--repeat 3]
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from audit import (  # after the path set-up above
    ENTRY_FIELDS,
    AuditEntry,
    AuditEvent,
    ChainHead,
    EventRules,
    SigningKey,
    VerifyReport,
    seal_many,
    sign_checkpoint,
    verify,
    verify_rows,
)

RULES = EventRules.of(detail_keys={"state", "tables", "approvals"})
ACTIONS = ("request_submitted", "request_approved", "aggregate_requested", "login")
ROLES = ("analyst", "ig_officer", "data_manager", "admin")
BODIES = ("7A1", "7A2", "7A3", "7A4", "7A5", "7A6", "7A7", None)


def make_events(count: int) -> list[AuditEvent]:
    """Realistic events: a purpose, a policy hash and a small detail on most."""
    start = datetime(2025, 4, 1, 9, 0, tzinfo=UTC)
    events = []
    for i in range(count):
        moment = start + timedelta(microseconds=1_000 * i)
        events.append(
            AuditEvent(
                time=moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                principal=f"user{i % 37}",
                role=ROLES[i % len(ROLES)],
                action=ACTIONS[i % len(ACTIONS)],
                resource=f"request:{i // 5}",
                outcome="deny" if i % 11 == 0 else "allow",
                body=BODIES[i % len(BODIES)],
                purpose="Annual WRES report 2025" if i % 3 else None,
                policy_sha256="ab" * 32 if i % 2 else None,
                result_digest="cd" * 32 if i % 4 == 1 else None,
                detail={"state": "submitted", "tables": i % 7} if i % 2 else {},
            )
        )
    return events


def rate(count: int, func: Callable[[], object], repeat: int) -> float:
    """Best of ``repeat`` runs, in items per second."""
    best = float("inf")
    for _ in range(repeat):
        began = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - began)
    return count / best


def bench_seal(events: Sequence[AuditEvent], batch: int, repeat: int) -> float:
    def run() -> None:
        head = ChainHead.genesis()
        for start in range(0, len(events), batch):
            sealed = seal_many(events[start : start + batch], head, RULES)
            head = sealed[-1].head

    return rate(len(events), run, repeat)


def check(report: VerifyReport) -> None:
    if not report.ok:
        raise SystemExit(f"benchmark chain did not verify: {report.first_problem}")


def bench_verify(entries: Sequence[AuditEntry], repeat: int) -> float:
    def run() -> None:
        check(verify(entries))

    return rate(len(entries), run, repeat)


def bench_verify_entries_from_rows(entries: Sequence[AuditEntry], repeat: int) -> float:
    rows = [tuple(getattr(e, name) for name in ENTRY_FIELDS) for e in entries]

    def run() -> None:
        check(verify(AuditEntry(*row) for row in rows))

    return rate(len(entries), run, repeat)


def bench_verify_rows(entries: Sequence[AuditEntry], repeat: int) -> float:
    rows = [tuple(getattr(e, name) for name in ENTRY_FIELDS) for e in entries]

    def run() -> None:
        check(verify_rows(rows))

    return rate(len(entries), run, repeat)


def bench_verify_sqlite3(entries: Sequence[AuditEntry], repeat: int) -> float:
    """Stream rows from a stdlib sqlite3 table (in memory): a floor for the store."""
    db = sqlite3.connect(":memory:")
    columns = ", ".join(ENTRY_FIELDS)
    db.execute(f"CREATE TABLE audit_entry ({columns}, PRIMARY KEY (seq))")
    marks = ", ".join("?" * len(ENTRY_FIELDS))
    db.executemany(
        f"INSERT INTO audit_entry VALUES ({marks})",  # noqa: S608  # fixed column names
        ([getattr(e, name) for name in ENTRY_FIELDS] for e in entries),
    )

    def run() -> None:
        cursor = db.execute(f"SELECT {columns} FROM audit_entry ORDER BY seq")  # noqa: S608
        cursor.arraysize = 1_000
        check(verify_rows(cursor))

    try:
        return rate(len(entries), run, repeat)
    finally:
        db.close()


def bench_verify_checkpoints(entries: Sequence[AuditEntry], repeat: int) -> float:
    key = SigningKey.generate("bench.wresgov.local/audit")
    checkpoints = [sign_checkpoint(e.head, key) for e in entries if e.seq % 1_000 == 0]

    def run() -> None:
        check(verify(entries, checkpoints, [key.public_key]))

    return rate(len(entries), run, repeat)


def made(events: Sequence[AuditEvent]) -> Callable[[], Sequence[AuditEvent]]:
    """A store's ``make_events`` that gives events already made."""
    return lambda: events


def bench_store_append(url: str, count: int, batch: int) -> float:
    """Append through the store as the service does: lock head, seal, insert, move."""
    from governance.storage.sql import SqlStore

    store = SqlStore(url)
    store.upgrade()
    events = make_events(count)
    started = time.perf_counter()
    for start in range(0, count, batch):
        chunk = events[start : start + batch]
        with store.transaction() as tx:
            tx.append_audit(made(chunk), RULES)
    seconds = time.perf_counter() - started
    store.dispose()
    return count / seconds


def bench_store_verify(url: str, repeat: int, home: Path) -> tuple[float, float, int]:
    """Verify the stored chain as ``wresgov audit verify`` does: streamed in one
    process, and in two ranges on two processes (what the service does for long
    chains)."""
    from governance.config import Settings
    from governance.service import Service

    service = Service(Settings(home=home, database_url=url))
    head = service.store.read_audit_head()
    best_one = best_two = 0.0
    for _ in range(repeat):
        started = time.perf_counter()
        report = verify_rows(service.store.iter_audit_rows(up_to=head.size))
        seconds = time.perf_counter() - started
        check(report)
        best_one = max(best_one, report.entries / seconds)
        started = time.perf_counter()
        report = service._verify_chain(head, [], [])
        seconds = time.perf_counter() - started
        check(report)
        best_two = max(best_two, report.entries / seconds)
    service.close()
    return best_one, best_two, head.size


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    events = make_events(args.entries)
    entries = seal_many(events, ChainHead.genesis(), RULES)
    figures = {
        f"seal_many (batches of {args.batch})": bench_seal(
            events, args.batch, args.repeat
        ),
        "verify (sealed entries)": bench_verify(entries, args.repeat),
        "verify (AuditEntry built per row)": bench_verify_entries_from_rows(
            entries, args.repeat
        ),
        "verify_rows (tuples in memory)": bench_verify_rows(entries, args.repeat),
        "verify_rows (stdlib sqlite3 cursor)": bench_verify_sqlite3(
            entries, args.repeat
        ),
        "verify (+ checkpoint every 1,000)": bench_verify_checkpoints(
            entries, args.repeat
        ),
    }
    print(f"audit chain, {args.entries:,} entries, best of {args.repeat}")
    for name, value in figures.items():
        print(f"  {name:<40} {value:>12,.0f} events/s")

    import tempfile

    with tempfile.TemporaryDirectory(prefix="wresgov-audit-bench-") as temp:
        url = f"sqlite:///{temp}/audit.db"
        single = bench_store_append(url, min(args.entries, 20_000), 1)
        url_b = f"sqlite:///{temp}/audit-batched.db"
        batched = bench_store_append(url_b, args.entries, args.batch)
        verify_one, verify_two, size = bench_store_verify(
            url_b, args.repeat, Path(temp) / "home"
        )
    print("store-backed (SQLite)")
    print(f"  {'append, one entry per transaction':<40} {single:>12,.0f} events/s")
    print(
        f"  {f'append, {args.batch} entries per transaction':<40} "
        f"{batched:>12,.0f} events/s"
    )
    print(f"  {f'verify from the store ({size:,})':<40} {verify_one:>12,.0f} events/s")
    print(
        f"  {'verify, as the service (two processes)':<40} {verify_two:>12,.0f} events/s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
