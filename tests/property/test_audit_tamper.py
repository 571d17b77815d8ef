"""Properties of the audit chain: untouched logs verify, and every tampering is named.

For generated chains (awkward text included) and generated checkpoint sets, ``verify``
accepts the untouched log and rejects any single edit of any field of any entry, any
deletion, any insertion, any swap of two entries, and any truncation before the last
checkpoint, naming the first bad sequence number.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit import (
    ENTRY_FIELDS,
    AuditEntry,
    AuditEvent,
    ChainHead,
    Checkpoint,
    EventRules,
    SigningKey,
    VerifyReport,
    format_time,
    seal,
    seal_many,
    sign_checkpoint,
    verify,
    verify_rows,
)

KEY = SigningKey.generate("wresgov.test/audit")
TRUSTED = [KEY.public_key]
DETAIL_KEYS = ("state", "tables", "approved", "note")
RULES = EventRules.of(detail_keys=DETAIL_KEYS)
EXAMPLES = settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

PRINTABLE = "".join(chr(c) for c in range(0x21, 0x7F))
safe_text = st.text(
    st.characters(blacklist_categories=("Cc", "Cf", "Cs", "Zl", "Zp")),
    min_size=1,
    max_size=24,
).filter(lambda s: s == s.strip())
hex_digest = st.binary(min_size=32, max_size=32).map(bytes.hex)
scalars = st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | safe_text

events = st.builds(
    AuditEvent,
    time=st.datetimes(
        min_value=datetime(2020, 1, 1),
        max_value=datetime(2035, 1, 1),
        timezones=st.just(UTC),
    ).map(format_time),
    principal=st.sampled_from(["alice", "ig.officer", "svc-publisher", "dm@7A1"]),
    role=st.sampled_from(["admin", "analyst", "ig_officer", "data_manager"]),
    action=st.sampled_from(["login", "request_submitted", "release.exported"]),
    resource=st.text(PRINTABLE, min_size=1, max_size=12),  # quotes, backslashes
    outcome=st.sampled_from(["allow", "deny", "ok", "error"]),
    body=st.none() | st.sampled_from(["7A1", "7A7", "RQF", "RT4"]),
    purpose=st.none() | safe_text,
    policy_sha256=st.none() | hex_digest,
    result_digest=st.none() | hex_digest,
    detail=st.dictionaries(st.sampled_from(DETAIL_KEYS), scalars, max_size=3),
)


@st.composite
def logs(
    draw: st.DrawFn, min_size: int = 1
) -> tuple[list[AuditEntry], list[Checkpoint]]:
    """A sealed chain and signed checkpoints at some of its sizes (0 included)."""
    chain = seal_many(
        draw(st.lists(events, min_size=min_size, max_size=10)),
        ChainHead.genesis(),
        RULES,
    )
    heads = [ChainHead.genesis(), *(entry.head for entry in chain)]
    chosen = draw(st.sets(st.integers(0, len(chain)), max_size=4))
    return chain, [sign_checkpoint(heads[size], KEY) for size in sorted(chosen)]


def check(report: VerifyReport, seq: int) -> None:
    assert not report.ok
    assert report.head is None or report.first_problem is not None
    assert report.first_bad_seq == seq, report.problems


def same(old: object, new: object) -> bool:
    return type(old) is type(new) and old == new


# Replacement values for a field: the right type and the wrong types.
REPLACEMENTS: dict[str, st.SearchStrategy[Any]] = {
    "seq": st.integers(-5, 20) | st.text(max_size=3) | st.none() | st.booleans(),
    "prev_hash": st.binary(min_size=0, max_size=33) | st.none() | st.text(max_size=3),
    "entry_hash": st.binary(min_size=0, max_size=33) | st.none() | st.integers(),
}
TEXTUAL = st.text(max_size=12) | st.none() | st.integers() | st.binary(max_size=4)


@EXAMPLES
@given(logs(min_size=0))
def test_untouched_logs_verify(log: tuple[list[AuditEntry], list[Checkpoint]]) -> None:
    chain, checkpoints = log
    report = verify(chain, checkpoints, TRUSTED)
    assert report.ok, report.problems
    assert report.head == (chain[-1].head if chain else ChainHead.genesis())
    rows = [tuple(getattr(e, name) for name in ENTRY_FIELDS) for e in chain]
    assert verify_rows(rows, checkpoints, TRUSTED).ok


@EXAMPLES
@given(logs(), st.data())
def test_any_single_edit_is_named(
    log: tuple[list[AuditEntry], list[Checkpoint]], data: st.DataObject
) -> None:
    chain, checkpoints = log
    index = data.draw(st.integers(0, len(chain) - 1), label="index")
    field = data.draw(st.sampled_from(ENTRY_FIELDS), label="field")
    old = getattr(chain[index], field)
    new = data.draw(
        REPLACEMENTS.get(field, TEXTUAL).filter(lambda v: not same(old, v)),
        label="new value",
    )
    chain[index] = replace(chain[index], **{field: new})
    check(verify(chain, checkpoints, TRUSTED), index + 1)


@EXAMPLES
@given(logs(min_size=2), st.data())
def test_any_deletion_is_named(
    log: tuple[list[AuditEntry], list[Checkpoint]], data: st.DataObject
) -> None:
    chain, checkpoints = log
    index = data.draw(st.integers(0, len(chain) - 1), label="index")
    del chain[index]
    report = verify(chain, checkpoints, TRUSTED)
    if index < len(chain) or max((c.size for c in checkpoints), default=0) > index:
        check(report, index + 1)
    else:
        # Deleting the last entry, with no checkpoint covering it: undetectable.
        assert report.ok


@EXAMPLES
@given(logs(), st.data())
def test_any_insertion_is_named(
    log: tuple[list[AuditEntry], list[Checkpoint]], data: st.DataObject
) -> None:
    chain, checkpoints = log
    index = data.draw(st.integers(0, len(chain) - 1), label="position")
    if data.draw(st.booleans(), label="checkpoint at the forged slot"):
        checkpoints = [*checkpoints, sign_checkpoint(chain[index].head, KEY)]
    prior = chain[index - 1].head if index else ChainHead.genesis()
    how = data.draw(st.sampled_from(["sealed", "renumbered", "garbage"]), label="how")
    if how == "garbage":
        forged = replace(
            chain[data.draw(st.integers(0, len(chain) - 1))],
            seq=data.draw(st.integers(-3, 15)),
            entry_hash=data.draw(st.binary(min_size=32, max_size=32)),
        )
    else:
        forged = seal(data.draw(events), prior, RULES)
    rest = chain[index:]
    if how == "renumbered":  # what a seq primary key forces on an inserter
        rest = [replace(e, seq=e.seq + 1) for e in rest]
    tampered = [*chain[:index], forged, *rest]
    check(verify(tampered, checkpoints, TRUSTED), index + 1)


@EXAMPLES
@given(logs(min_size=2), st.data())
def test_any_swap_is_named(
    log: tuple[list[AuditEntry], list[Checkpoint]], data: st.DataObject
) -> None:
    chain, checkpoints = log
    i, j = sorted(
        data.draw(
            st.lists(
                st.integers(0, len(chain) - 1), min_size=2, max_size=2, unique=True
            ),
            label="positions",
        )
    )
    if data.draw(st.booleans(), label="rows keep their seq"):
        # A database swap: ORDER BY seq keeps the numbers, the contents trade places.
        chain[i], chain[j] = replace(chain[j], seq=i + 1), replace(chain[i], seq=j + 1)
    else:
        chain[i], chain[j] = chain[j], chain[i]
    check(verify(chain, checkpoints, TRUSTED), i + 1)


@EXAMPLES
@given(logs(), st.data())
def test_truncation_before_the_last_checkpoint_is_named(
    log: tuple[list[AuditEntry], list[Checkpoint]], data: st.DataObject
) -> None:
    chain, checkpoints = log
    covered = max((c.size for c in checkpoints), default=0)
    keep = data.draw(st.integers(0, len(chain) - 1), label="entries kept")
    report = verify(chain[:keep], checkpoints, TRUSTED)
    if keep < covered:
        check(report, keep + 1)
    else:
        assert report.ok  # the tail after the last checkpoint: a documented limit


@EXAMPLES
@given(logs(), st.data())
def test_a_rewritten_chain_fails_against_its_checkpoints(
    log: tuple[list[AuditEntry], list[Checkpoint]], data: st.DataObject
) -> None:
    chain, checkpoints = log
    covered = [c.size for c in checkpoints if c.size > 0]
    if not covered:
        return
    index = data.draw(st.integers(0, max(covered) - 1), label="index")
    # Rewrite one entry and recompute every hash after it: a consistent forgery.
    head = chain[index - 1].head if index else ChainHead.genesis()
    rewritten = chain[:index]
    for position, entry in enumerate(chain[index:], start=index):
        event = data.draw(events) if position == index else None
        if event is None:
            event = AuditEvent(
                **{
                    name: getattr(entry, name)
                    for name in ("time", "principal", "role", "action", "resource")
                },
                outcome=entry.outcome,  # type: ignore[arg-type]
                body=entry.body,
                purpose=entry.purpose,
                policy_sha256=entry.policy_sha256,
                result_digest=entry.result_digest,
                detail=entry.detail_mapping(),
            )
        rewritten.append(seal(event, head, RULES))
        head = rewritten[-1].head
    if rewritten == chain:
        return  # the drawn event happened to equal the original
    report = verify(rewritten, checkpoints, TRUSTED)
    assert not report.ok
    matched = max((s for s in covered if s <= index), default=0)
    assert report.first_bad_seq == matched + 1, report.problems
