"""Group commit of read-only actions' audit entries (governance.audit_batch)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest

from audit import AuditEntry, AuditEvent, ChainHead, EventRules, seal_many, verify
from governance.audit_batch import AuditBatcher

RULES = EventRules.of(detail_keys={"count"})
TIME = "2026-06-01T12:00:00.000000Z"


def event(n: int) -> AuditEvent:
    return AuditEvent(
        time=TIME,
        principal=f"p{n}",
        role="analyst",
        action="release.read",
        resource=f"release:R{n}",
        outcome="allow",
        detail={"count": n},
    )


@dataclass
class Chain:
    """An in-memory store: one lock for the head, like the real one's."""

    entries: list[AuditEntry] = field(default_factory=list)
    batches: list[int] = field(default_factory=list)
    fail: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    @contextmanager
    def transaction(self) -> Iterator[Chain]:
        with self.lock:
            yield self

    def append_audit(
        self, make_events: Callable[[], Sequence[AuditEvent]], rules: EventRules
    ) -> list[AuditEntry]:
        head = self.entries[-1].head if self.entries else ChainHead.genesis()
        sealed = seal_many(make_events(), head, rules)
        if self.fail:
            raise OSError("disk full")
        self.entries += sealed
        self.batches.append(len(sealed))
        return sealed


def test_concurrent_callers_share_transactions_and_the_chain_verifies() -> None:
    chain = Chain()
    batcher = AuditBatcher(chain.transaction, RULES, lambda: TIME)
    threads = [
        threading.Thread(target=batcher.record, args=(event(n),)) for n in range(200)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    batcher.close()
    assert sorted(e.principal for e in chain.entries) == sorted(
        f"p{n}" for n in range(200)
    )
    assert verify(chain.entries).ok
    assert sum(chain.batches) == 200


def test_every_caller_of_a_failed_batch_gets_the_error() -> None:
    chain = Chain(fail=True)
    batcher = AuditBatcher(chain.transaction, RULES, lambda: TIME)
    errors: list[BaseException] = []

    def call(n: int) -> None:
        try:
            batcher.record(event(n))
        except OSError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=call, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    batcher.close()
    assert len(errors) == 20 and chain.entries == []


def test_a_closed_batcher_refuses_and_times_are_restamped() -> None:
    chain = Chain()
    later = "2026-06-01T12:00:01.000000Z"
    batcher = AuditBatcher(chain.transaction, RULES, lambda: later)
    batcher.record(event(1))
    assert chain.entries[0].time == later  # stamped under the lock, not by the caller
    batcher.close()
    with pytest.raises(RuntimeError):
        batcher.record(event(2))
