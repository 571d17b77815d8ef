"""Verify a stored audit log, streaming, against signed checkpoints; name what is wrong.

Owns :func:`verify` / :func:`verify_rows`; what they report (:class:`Problem`,
:class:`ProblemKind`, :class:`VerifyReport`) is in ``audit.findings``. It reads
nothing itself: the
caller streams entries (or rows) in ``seq`` order and passes the checkpoints and the
trusted keys. It never raises on a tampered log; it reports, and
:meth:`VerifyReport.check` raises if asked. Memory is constant in the number of
entries (bounded by the number of checkpoints and ``max_problems``).

How the first bad seq is named, for an entry that fails a check (``e`` is the seq
expected at that position; a stored seq is trusted only if the entry's hash verifies):

* ``malformed`` (a field of the wrong type) and ``modified`` (content does not match
  the stored hash): ``e``.
* ``inserted``: a genuine entry (its hash verifies, or would under its seq minus one,
  as after renumbering) is chained to the entry two back, so the one before it was
  put in between: ``e - 1``.
* ``gap`` (seq jumps forward: deleted or moved entries): ``e``; ``out_of_order`` (a
  seq repeats or goes back): that seq.
* ``broken_link`` (hash and seq fine, but not chained to the previous entry): the
  previous entry was replaced, or this link altered: ``e - 1``.
* ``rewritten``: a trusted checkpoint's head differs from the stored chain at its
  size, so something after the last matching checkpoint was recomputed: that
  checkpoint's size + 1 (a lower bound: a consistent rewrite cannot be pinpointed).
* ``truncated``: a trusted checkpoint covers more entries than the log holds: the
  first missing seq.
* ``bad_signature``, ``wrong_origin``, ``fork``: about a checkpoint, not an entry
  (no seq; the checkpoint's size is given).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from json.encoder import encode_basestring
from typing import Final, cast

from audit.chain import ENTRY_TEMPLATE, HASH_DOMAIN, entry_values, hash_values
from audit.checkpoint import Checkpoint
from audit.events import ZERO_HASH, AuditEntry, ChainHead
from audit.findings import Problem, ProblemKind, VerifyReport, problem_order
from audit.keys import VerifierKey

_GENESIS: Final = ChainHead.genesis()


class _Findings:
    """A bounded list of problems, so memory stays constant however bad the log is."""

    def __init__(self, limit: int) -> None:
        self.items: list[Problem] = []
        self.limit = limit
        self.omitted = 0

    def add(self, problem: Problem) -> None:
        if len(self.items) < self.limit:
            self.items.append(problem)
            return
        self.omitted += 1
        # Full: still keep the earliest problem, because it is the one reported.
        if problem_order(problem) < min(map(problem_order, self.items)):
            self.items[-1] = problem


def _trusted_heads(
    checkpoints: Sequence[Checkpoint],
    keys: Sequence[VerifierKey],
    origin: str | None,
    findings: _Findings,
) -> tuple[dict[int, bytes], int]:
    """Check signatures and origins; return size -> head, and how many are trusted."""
    heads: dict[int, bytes] = {}
    trusted = 0
    for cp in sorted(checkpoints, key=lambda c: c.size):
        if origin is not None and cp.origin != origin:
            findings.add(
                Problem(
                    ProblemKind.WRONG_ORIGIN,
                    None,
                    f"checkpoint at size {cp.size} names another log",
                    cp.size,
                )
            )
            continue
        if not cp.is_signed_by(keys):
            findings.add(
                Problem(
                    ProblemKind.BAD_SIGNATURE,
                    None,
                    f"checkpoint at size {cp.size} has no valid signature "
                    "from a trusted key",
                    cp.size,
                )
            )
            continue
        trusted += 1
        if heads.setdefault(cp.size, cp.head) != cp.head:
            findings.add(
                Problem(
                    ProblemKind.FORK,
                    None,
                    f"two trusted checkpoints at size {cp.size} sign different heads",
                    cp.size,
                )
            )
    return heads, trusted


def verify(
    entries: Iterable[AuditEntry],
    checkpoints: Sequence[Checkpoint] = (),
    public_keys: Sequence[VerifierKey] = (),
    *,
    origin: str | None = None,
    start: ChainHead = _GENESIS,
    max_problems: int = 100,
) -> VerifyReport:
    """Walk the log in ``seq`` order once, in constant memory, and report every problem.

    ``entries`` must be in stored order (``ORDER BY seq``). A checkpoint counts only if
    a key in ``public_keys`` signed it (and, given ``origin``, it names this log). After
    a problem the walk re-synchronises on the stored chain, so one tampered entry
    gives one finding rather than a cascade; at most ``max_problems`` are kept (the
    earliest is always kept).

    ``start`` verifies a range: the entries must begin at ``start.size + 1`` and chain
    onto ``start.head_hash``, and checkpoints below ``start.size`` are not checked.
    Use it to verify only what follows a trusted checkpoint, or to split a long log
    into ranges verified in parallel (the stored hash of entry ``a`` is the start of
    the range after ``a``; every range but the last gets only its own checkpoints).

    Raises:
        ValueError: checkpoints were given but no key to check them with, or
            ``max_problems`` is below 1.
    """
    return _walk(
        map(entry_values, entries),
        checkpoints,
        public_keys,
        origin,
        start,
        max_problems,
    )


def verify_rows(
    rows: Iterable[Sequence[object]],
    checkpoints: Sequence[Checkpoint] = (),
    public_keys: Sequence[VerifierKey] = (),
    *,
    origin: str | None = None,
    start: ChainHead = _GENESIS,
    max_problems: int = 100,
) -> VerifyReport:
    """Like :func:`verify`, over raw rows whose columns are in ``ENTRY_FIELDS`` order.

    This is the store's fast path: database rows (tuples, or SQLAlchemy ``Row``) are
    unpacked directly, skipping the cost of building an :class:`AuditEntry` per row.

    Raises:
        ValueError: checkpoints were given but no key to check them with, or
            ``max_problems`` is below 1.
    """
    return _walk(rows, checkpoints, public_keys, origin, start, max_problems)


class _Checkpoints:
    """Trusted checkpoint heads not yet met in the walk, and the last one matched.

    A head that differs from the chain is held back for one entry: if the next entry
    shows that the checkpointed slot was taken by an inserted entry, the real entry
    is compared instead, so an insertion is named as such rather than as a rewrite.
    """

    def __init__(
        self, heads: dict[int, bytes], start: ChainHead, findings: _Findings
    ) -> None:
        self.heads = heads
        self.findings = findings
        self.matched = start.size  # the chain up to here agrees with a signed head
        self.pending: tuple[int, bytes, int] | None = None  # size, head, matched
        for size in [size for size in heads if size <= start.size]:
            if size == start.size and heads[size] != start.head_hash:
                findings.add(_rewritten(0, size))
            del heads[size]

    def meet(self, seq: int, stored: bytes) -> bool:
        """Compare the head at ``seq`` with a hash-verified entry; True if different."""
        head = self.heads.pop(seq)
        if head == stored:
            self.matched = seq
            return False
        self.pending = (seq, head, self.matched)
        return True

    def meet_damaged(self, position: int, stored: bytes, digest: bytes) -> None:
        """An entry whose hash fails sits where ``position`` should be."""
        head = self.heads[position]
        if head in (stored, digest):  # only this entry's content or hash was changed
            del self.heads[position]
            self.matched = position

    def settle(self, problem: Problem | None, stored: bytes, digest: bytes) -> None:
        """Resolve a held-back mismatch, given the finding for the entry after it."""
        if self.pending is None:  # pragma: no cover - callers check first
            return
        size, head, matched = self.pending
        self.pending = None
        if (
            problem is not None
            and problem.kind is ProblemKind.INSERTED
            and head in (stored, digest)
        ):
            self.matched = size  # the real entry for this size follows the insertion
            return
        self.findings.add(_rewritten(matched, size))


def _walk(
    rows: Iterable[Sequence[object]],
    checkpoints: Sequence[Checkpoint],
    public_keys: Sequence[VerifierKey],
    origin: str | None,
    start: ChainHead,
    max_problems: int,
) -> VerifyReport:
    if checkpoints and not public_keys:
        raise ValueError("checkpoints need at least one trusted public key")
    if max_problems < 1:
        raise ValueError("max_problems must be at least 1")
    findings = _Findings(max_problems)
    heads, trusted = _trusted_heads(checkpoints, public_keys, origin, findings)
    latest = max(heads) if heads else None
    cps = _Checkpoints(heads, start, findings)

    # The hot loop: locals only, json's C string encoder, one SHA-256 per entry.
    add = findings.add
    # Rows are untrusted: the C encoder raises TypeError on a non-string, which the
    # loop reports as a malformed entry.
    enc = cast("Callable[[object], str]", encode_basestring)
    sha256 = hashlib.sha256
    template = ENTRY_TEMPLATE
    domain = HASH_DOMAIN
    expected = start.size + 1  # the seq the next entry should carry
    last: bytes | None = start.head_hash  # stored hash of the previous entry
    alt: bytes | None = None  # its recomputed hash, if that differs (after a finding)
    before: bytes | None = None  # stored hash of the entry before that
    highest = start.size  # highest position reached (re-synchronising can go back)
    pending = False  # a checkpoint mismatch is held back for one entry
    count = 0
    clean = True

    for row in rows:
        count += 1
        try:
            (seq, time, principal, role, action, resource, body, purpose, outcome,
             policy, result, detail, prev, stored) = row  # fmt: skip
            if (
                type(seq) is not int
                or type(prev) is not bytes
                or type(stored) is not bytes
                or type(detail) is not str
            ):
                raise TypeError
            text = template % (
                enc(action),
                "null" if body is None else enc(body),
                enc(detail),
                enc(outcome),
                "null" if policy is None else enc(policy),
                prev.hex(),
                enc(principal),
                "null" if purpose is None else enc(purpose),
                enc(resource),
                "null" if result is None else enc(result),
                enc(role),
                seq,
                enc(time),
            )
            digest = sha256(domain + prev + text.encode()).digest()
        except (TypeError, ValueError):
            clean = False
            if pending:
                cps.settle(None, ZERO_HASH, ZERO_HASH)
                pending = False
            add(Problem(ProblemKind.MALFORMED, expected, "a field has the wrong type"))
            before, last, alt = last, _salvage_hash(row), None
            expected += 1
            highest = max(highest, expected - 1)
            continue

        # After a finding the link may also match ``alt`` (the recomputed hash of a
        # modified entry), or ``last`` may be unknown (an unreadable hash): either way
        # the previous entry is already reported, so the link is not reported twice.
        if (
            digest == stored
            and seq == expected
            and (prev == last or prev == alt or last is None)  # noqa: SIM109  # fast
        ):
            alt = None
            if pending:
                cps.settle(None, stored, digest)
                pending = False
            if seq in heads:
                pending = cps.meet(seq, stored)
            before = last
            last = stored
            expected = seq + 1
            continue

        # Something is wrong with this entry: classify it, then re-synchronise on the
        # stored chain. A seq is trusted only if the entry's own hash verifies.
        clean = False
        hash_ok = digest == stored
        # Does it verify with the seq one lower? Then it was renumbered, as rows are
        # when a forged entry is squeezed in under a seq primary key.
        shifted = not hash_ok and stored == hash_values(
            (seq - 1, time, principal, role, action, resource, body, purpose,
             outcome, policy, result, detail, prev)
        )  # fmt: skip
        problem = _classify(seq, expected, prev, last, before, hash_ok, shifted)
        if pending:
            cps.settle(problem, stored, digest)
            pending = False
        add(problem)
        if hash_ok:
            if seq in heads:
                pending = cps.meet(seq, stored)
            expected = seq + 1
        else:
            if expected in heads:
                cps.meet_damaged(expected, stored, digest)
            expected += 1
        highest = max(highest, expected - 1)
        before = last
        last = stored
        alt = None if hash_ok else digest

    if pending:
        cps.settle(None, ZERO_HASH, ZERO_HASH)
    end = max(expected - 1, highest)  # the highest position reached
    # A checkpoint left over at or below ``end`` was passed by a damaged or missing
    # entry, already reported at or before its size; one beyond ``end`` is truncation.
    beyond = [size for size in heads if size > end]
    if beyond:
        add(
            Problem(
                ProblemKind.TRUNCATED,
                end + 1,
                f"a trusted checkpoint covers {max(beyond)} entries but the log ends "
                f"at seq {end}",
                max(beyond),
            )
        )
    return VerifyReport(
        entries=count,
        head=ChainHead(end, last) if clean and last is not None else None,
        checkpoints_trusted=trusted,
        latest_checkpoint=latest,
        problems=tuple(findings.items),
        problems_omitted=findings.omitted,
    )


def _salvage_hash(row: object) -> bytes | None:
    """The stored hash of a malformed row, if it has one, to re-synchronise on."""
    try:
        stored = row[-1]  # type: ignore[index]  # any row-like object
    except (TypeError, IndexError, KeyError):
        return None
    return stored if type(stored) is bytes and len(stored) == 32 else None


def _rewritten(matched: int, size: int) -> Problem:
    return Problem(
        ProblemKind.REWRITTEN,
        matched + 1,
        f"the chain differs from the trusted checkpoint at size {size}: "
        f"entries {matched + 1} to {size} were rewritten",
        size,
    )


def _classify(
    seq: int,
    expected: int,
    prev: bytes,
    last: bytes | None,
    before: bytes | None,
    hash_ok: bool,
    shifted: bool,
) -> Problem:
    """Name the first bad seq for an entry that failed at least one check."""
    if prev != last and prev == before and (hash_ok or shifted):
        # A genuine entry (its hash verifies, perhaps under its old seq) is chained to
        # the entry two back: the one before it was put in between.
        return Problem(
            ProblemKind.INSERTED,
            expected - 1,
            f"an entry was inserted before the entry stored as seq {seq}",
        )
    if shifted:
        return Problem(
            ProblemKind.MODIFIED,
            expected,
            f"the entry was renumbered: it verifies as seq {seq - 1}",
        )
    if not hash_ok:
        return Problem(
            ProblemKind.MODIFIED,
            expected,
            "the entry's content does not match its stored hash",
        )
    if seq > expected:
        return Problem(
            ProblemKind.GAP,
            expected,
            f"seq jumps from {expected - 1} to {seq}: entries are missing or moved",
        )
    if seq < expected:
        return Problem(
            ProblemKind.OUT_OF_ORDER,
            seq,
            f"seq {seq} appears again after seq {expected - 1}",
        )
    return Problem(
        ProblemKind.BROKEN_LINK,
        max(expected - 1, 1),
        f"entry {seq} is not chained to the entry before it (that entry was "
        "replaced, or this entry's link was changed)",
    )
