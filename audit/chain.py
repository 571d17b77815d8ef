"""The hash chain: the hash construction, and sealing events into chained entries.

Owns ``entry_hash``, :func:`seal` and :func:`seal_many`; the verifier that walks a
stored chain lives in ``audit.verifier``. It must never read the clock, the
environment, a database or a key file: the caller passes events and the current head
in, and gets sealed entries back, ready to insert.

Hash construction (version 1)::

    entry_hash = SHA-256(b"wresgov-audit-v1\\x00" || prev_hash || canonical_json(F))

where ``F`` is the JSON object of every field except ``entry_hash`` (``seq`` as a
number, ``prev_hash`` as lowercase hex, ``detail`` as its canonical JSON text, absent
values as ``null``), encoded with sorted keys, separators ``,`` and ``:``, UTF-8 and no
ASCII escaping. The first entry has ``seq`` 1 and ``prev_hash`` of 32 zero bytes.
Because ``seq``, ``time`` and ``prev_hash`` are inside the hash, an entry cannot be
moved, renumbered or re-dated without changing its hash.

How the store uses this (the storage layer owns the SQL; this is the contract):

* Tables. ``audit_entry`` has one column per name in ``events.ENTRY_FIELDS``: ``seq``
  BIGINT primary key (assigned by :func:`seal`, never autoincrement), the text columns,
  ``detail`` TEXT, ``prev_hash`` and ``entry_hash`` 32-byte binary, ``entry_hash``
  UNIQUE. ``audit_head`` has exactly one row (``id`` = 1, ``size``, ``head_hash``),
  created as ``(0, 32 zero bytes)`` with the schema. Harden ``audit_entry`` with a
  trigger that raises on UPDATE and DELETE, and revoke both from the application role.
* Append, in the *same* transaction as the action being recorded:

  1. lock the head: ``SELECT size, head_hash FROM audit_head WHERE id = 1 FOR UPDATE``
     on PostgreSQL; on SQLite open the transaction with ``BEGIN IMMEDIATE`` so the
     write lock is held before the head is read (a deferred transaction would let two
     writers read the same head and one would fail on commit);
  2. take the entry time *after* the lock, so times never go backwards along the chain;
  3. ``entries = seal_many(events, ChainHead(size, head_hash), rules)``;
  4. ``INSERT`` the rows (``executemany`` over ``entry.to_row()``) and
     ``UPDATE audit_head SET size = :new, head_hash = :hash``
     ``WHERE id = 1 AND size = :old`` with ``entries[-1].head``; an update count
     other than 1 aborts the transaction;
  5. commit. Any failure rolls back the action *and* its entries together, so an action
     is never done without its record (fail closed). A denial or a failed action is
     recorded in its own short transaction, by the same steps, after the rollback.

  The ``seq`` primary key and ``entry_hash`` UNIQUE turn a locking mistake into a
  failed transaction instead of a fork.
* Batching: one ``seal_many`` call and one ``executemany`` per transaction; the
  events of one action (for example an allow decision and the action's own event)
  share the transaction and so the lock.
* Verify: stream ``SELECT <ENTRY_FIELDS> FROM audit_entry ORDER BY seq`` (server-side
  cursor, ``yield_per``) straight into ``audit.verify_rows`` (rows are unpacked as
  they come, with no ``AuditEntry`` per row: about twice as fast), pass the
  checkpoints read from the checkpoint directory and the trusted verifier keys, and
  compare ``report.head`` with the ``audit_head`` row (a mismatch means the head row
  or the tail was edited). ``verify_rows(..., start=ChainHead(a, hash_of_entry_a))``
  verifies the range after ``a``, for incremental or parallel verification.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from json.encoder import encode_basestring
from operator import attrgetter
from typing import Final

from audit.events import ENTRY_FIELDS, AuditEntry, AuditEvent, ChainHead, EventRules

HASH_DOMAIN: Final = b"wresgov-audit-v1\x00"

# The canonical JSON object with its keys already in sorted order. Each string value is
# encoded by json's own C string encoder (ensure_ascii=False), so the bytes equal
# json.dumps(..., sort_keys=True, separators=(",", ":"), ensure_ascii=False); a test
# proves it on generated entries.
ENTRY_TEMPLATE: Final = (
    '{"action":%s,"body":%s,"detail":%s,"outcome":%s,"policy_sha256":%s,'
    '"prev_hash":"%s","principal":%s,"purpose":%s,"resource":%s,'
    '"result_digest":%s,"role":%s,"seq":%d,"time":%s}'
)
#: An entry as a tuple in column order (what ``verifier`` walks).
entry_values = attrgetter(*ENTRY_FIELDS)
_DEFAULT_RULES: Final = EventRules()


def compute_entry_hash(entry: AuditEntry) -> bytes:
    """Recompute an entry's hash from its fields (the stored ``entry_hash`` is ignored).

    Raises:
        TypeError: a field has the wrong type (a tampered or mis-loaded row).
    """
    return _digest(*entry_values(entry)[:-1])


def hash_values(values: Sequence[object]) -> bytes:
    """Hash the 13 column values of an entry (``ENTRY_FIELDS`` without ``entry_hash``).

    Raises:
        TypeError: a value has the wrong type.
        ValueError: a value has the wrong shape, or cannot be encoded as UTF-8.
    """
    if len(values) != len(ENTRY_FIELDS) - 1:
        raise ValueError("an entry has 13 hashed values")
    # The types are checked where it matters: _digest refuses a non-int seq, non-bytes
    # prev_hash and non-str detail, and json's string encoder refuses a non-string.
    return _digest(*values)  # type: ignore[arg-type]


def _digest(
    seq: int,
    time: str,
    principal: str,
    role: str,
    action: str,
    resource: str,
    body: str | None,
    purpose: str | None,
    outcome: str,
    policy_sha256: str | None,
    result_digest: str | None,
    detail: str,
    prev_hash: bytes,
) -> bytes:
    if type(seq) is not int or type(prev_hash) is not bytes or type(detail) is not str:
        raise TypeError("seq, prev_hash or detail has the wrong type")
    enc = encode_basestring
    text = ENTRY_TEMPLATE % (
        enc(action),
        "null" if body is None else enc(body),
        enc(detail),
        enc(outcome),
        "null" if policy_sha256 is None else enc(policy_sha256),
        prev_hash.hex(),
        enc(principal),
        "null" if purpose is None else enc(purpose),
        enc(resource),
        "null" if result_digest is None else enc(result_digest),
        enc(role),
        seq,
        enc(time),
    )
    return hashlib.sha256(HASH_DOMAIN + prev_hash + text.encode()).digest()


def seal(
    event: AuditEvent, prev: ChainHead, rules: EventRules = _DEFAULT_RULES
) -> AuditEntry:
    """Chain ``event`` onto the head ``prev``, giving the entry with ``seq`` size + 1.

    Raises:
        AuditEventError: the event breaks ``rules`` (the default allows no detail key).
    """
    rules.check(event)
    return _seal_checked(event, prev.size + 1, prev.head_hash)


def seal_many(
    events: Iterable[AuditEvent], head: ChainHead, rules: EventRules = _DEFAULT_RULES
) -> list[AuditEntry]:
    """Seal a batch in order onto ``head``; every event is checked before any is sealed.

    The new head is ``result[-1].head`` (or ``head`` itself for an empty batch).

    Raises:
        AuditEventError: an event breaks ``rules``; nothing is sealed.
    """
    batch = list(events)
    for event in batch:
        rules.check(event)
    entries: list[AuditEntry] = []
    seq, prev_hash = head.size, head.head_hash
    for event in batch:
        seq += 1
        entry = _seal_checked(event, seq, prev_hash)
        entries.append(entry)
        prev_hash = entry.entry_hash
    return entries


def _seal_checked(event: AuditEvent, seq: int, prev_hash: bytes) -> AuditEntry:
    fields = (
        seq,
        event.time,
        event.principal,
        event.role,
        event.action,
        event.resource,
        event.body,
        event.purpose,
        event.outcome,
        event.policy_sha256,
        event.result_digest,
        event.detail_json,
        prev_hash,
    )
    return AuditEntry(*fields, _digest(*fields))
