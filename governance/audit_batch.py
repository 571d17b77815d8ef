"""Group commit for the audit entries of read-only actions.

An action that changes state appends its entry in its own transaction, so the two
commit together. A read-only action (reading the catalogue, downloading a released
file) changes nothing, so there is nothing for its entry to be atomic with; what the
fail-closed rule needs is that nothing is returned until the entry is durable. Many
concurrent readers would otherwise each take the chain head's lock for a transaction
of their own, one after another. Here they hand their events to one writer thread,
which appends everything waiting in one transaction (one lock, one commit, one
fsync) and then releases every caller whose entry it committed. If the commit fails,
every caller in the batch gets the error and returns nothing.

Each process has its own writer; processes still serialise on the head row's lock,
but per batch rather than per read, so the chain stays one linear chain.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from typing import Final, Protocol

from audit import AuditEvent, EventRules

#: The most events appended in one transaction.
MAX_BATCH: Final = 500


class _Appender(Protocol):
    def append_audit(
        self, make_events: Callable[[], Sequence[AuditEvent]], rules: EventRules
    ) -> object: ...


Transactions = Callable[[], AbstractContextManager[_Appender]]


@dataclass
class _Waiter:
    event: AuditEvent
    done: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None


class AuditBatcher:
    """Appends the events of concurrent callers in shared transactions."""

    def __init__(
        self, transaction: Transactions, rules: EventRules, now: Callable[[], str]
    ) -> None:
        self._transaction = transaction
        self._rules = rules
        self._now = now
        self._queue: list[_Waiter] = []
        self._ready = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False

    def record(self, event: AuditEvent) -> None:
        """Append one event; return once it is committed, or raise why it is not.

        The event's time is set again (``now``) in the writer thread while the chain
        head is locked, so entry times never go backwards along the chain.
        """
        waiter = _Waiter(event)
        with self._ready:
            if self._closed:
                raise RuntimeError("the audit writer is closed")
            self._queue.append(waiter)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="wresgov-audit-writer", daemon=True
                )
                self._thread.start()
            self._ready.notify()
        waiter.done.wait()
        if waiter.error is not None:
            raise waiter.error

    def close(self) -> None:
        """Write what is waiting, then stop the writer thread."""
        with self._ready:
            self._closed = True
            self._ready.notify()
            thread = self._thread
        if thread is not None:
            thread.join()

    def _batches(self) -> Iterator[list[_Waiter]]:
        while True:
            with self._ready:
                while not self._queue and not self._closed:
                    self._ready.wait()
                if not self._queue:
                    return
                batch = self._queue[:MAX_BATCH]
                del self._queue[:MAX_BATCH]
            yield batch

    def _run(self) -> None:
        for batch in self._batches():

            def stamped(batch: list[_Waiter] = batch) -> list[AuditEvent]:
                now = self._now()
                return [replace(waiter.event, time=now) for waiter in batch]

            try:
                with self._transaction() as tx:
                    tx.append_audit(stamped, self._rules)
            except BaseException as exc:  # noqa: BLE001 - every caller gets the error
                for waiter in batch:
                    waiter.error = exc
            for waiter in batch:
                waiter.done.set()
