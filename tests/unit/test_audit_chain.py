"""Unit tests for the audit entry model, the hash chain and the verifier."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import tracemalloc
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from audit import (
    ENTRY_FIELDS,
    HASH_DOMAIN,
    OUTCOMES,
    ZERO_HASH,
    AuditEntry,
    AuditEvent,
    AuditEventError,
    ChainHead,
    ChainIntegrityError,
    Checkpoint,
    EventRules,
    ProblemKind,
    SigningKey,
    canonical_json,
    compute_entry_hash,
    format_time,
    hash_values,
    parse_time,
    seal,
    seal_many,
    sign_checkpoint,
    verify,
    verify_rows,
)

T0 = datetime(2025, 4, 1, 9, 30, tzinfo=UTC)
RULES = EventRules.of(detail_keys={"state", "tables", "approved"})
KEY = SigningKey.generate("wresgov.test/audit")


def make_event(i: int = 0, **changes: Any) -> AuditEvent:
    fields: dict[str, Any] = {
        "time": format_time(T0 + timedelta(seconds=i)),
        "principal": f"user{i % 3}",
        "role": "analyst",
        "action": "aggregate_requested",
        "resource": f"request:{i}",
        "outcome": "allow",
        "body": "7A1",
        "purpose": "Annual WRES report",
        "policy_sha256": "ab" * 32,
        "result_digest": None,
        "detail": {"state": "submitted", "tables": i},
    }
    fields.update(changes)
    return AuditEvent(**fields)


def make_chain(n: int) -> list[AuditEntry]:
    return seal_many([make_event(i) for i in range(n)], ChainHead.genesis(), RULES)


def reference_hash(entry: AuditEntry) -> bytes:
    """The hash construction written out independently, with json.dumps."""
    fields = {name: getattr(entry, name) for name in ENTRY_FIELDS[:-1]}
    fields["prev_hash"] = entry.prev_hash.hex()
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    prefix = b"wresgov-audit-v1\x00" + entry.prev_hash
    return hashlib.sha256(prefix + text.encode("utf-8")).digest()


# --- hash construction -------------------------------------------------------------


def test_hash_matches_the_documented_construction() -> None:
    awkward = make_event(
        purpose='Adroddiad "WRES" blynyddol \\ Cymru ŵ ŷ — 2025 😀',
        resource='req:"1"\\x',
        body=None,
        policy_sha256=None,
        result_digest="cd" * 32,
        detail={"state": 'qu"ote\\ ŵ', "tables": -3, "approved": True},
    )
    entries = seal_many(
        [make_event(0), awkward, make_event(2, detail={})],
        ChainHead.genesis(),
        RULES,
    )
    for entry in entries:
        assert entry.entry_hash == reference_hash(entry)
        assert compute_entry_hash(entry) == entry.entry_hash
        assert canonical_json(entry.hashed_fields()) == json.dumps(
            entry.hashed_fields(),
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
        ).encode("utf-8")


def test_hash_construction_is_pinned() -> None:
    # A known answer: changing the construction must be a deliberate new version.
    entry = seal(
        AuditEvent(
            time="2025-04-01T09:30:00.000000Z",
            principal="ig.officer",
            role="ig_officer",
            action="request_approved",
            resource="request:42",
            outcome="allow",
            body="7A1",
            purpose="Annual WRES report",
        ),
        ChainHead.genesis(),
    )
    assert HASH_DOMAIN == b"wresgov-audit-v1\x00"
    assert entry.detail == "{}"
    assert entry.entry_hash == reference_hash(entry)
    assert entry.entry_hash.hex() == (
        "5928e5748ed232cc16169a41c8be0380d421dba59df9d33f363abd7e296477ef"
    )


def test_compute_entry_hash_refuses_wrong_types() -> None:
    entry = make_chain(1)[0]
    with pytest.raises(TypeError):
        compute_entry_hash(replace(entry, seq="1"))  # type: ignore[arg-type]
    values = [getattr(entry, name) for name in ENTRY_FIELDS[:-1]]
    assert hash_values(values) == entry.entry_hash
    with pytest.raises(ValueError, match="13"):
        hash_values(values[:-1])


def test_public_api_and_layering() -> None:
    import ast
    import sys
    from pathlib import Path

    import audit

    exported = {name for name in dir(audit) if not name.startswith("_")}
    modules = {
        "chain",
        "checkpoint",
        "errors",
        "events",
        "findings",
        "keys",
        "verifier",
    }
    modules.add("annotations")  # from __future__ import annotations
    assert set(audit.__all__) == exported - modules
    allowed = set(sys.stdlib_module_names) | {"audit", "cryptography"}
    for path in Path(audit.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                roots = {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                roots = {node.module.split(".")[0]}
            else:
                continue
            assert roots <= allowed, (path.name, roots - allowed)


# --- sealing -----------------------------------------------------------------------


def test_seal_chains_onto_the_head() -> None:
    first = seal(make_event(0), ChainHead.genesis(), RULES)
    assert (first.seq, first.prev_hash) == (1, ZERO_HASH)
    second = seal(make_event(1), first.head, RULES)
    assert (second.seq, second.prev_hash) == (2, first.entry_hash)
    assert second.head == ChainHead(2, second.entry_hash)


def test_seal_many_equals_repeated_seal() -> None:
    events = [make_event(i) for i in range(5)]
    batch = seal_many(events, ChainHead.genesis(), RULES)
    head = ChainHead.genesis()
    one_by_one = []
    for event in events:
        one_by_one.append(seal(event, head, RULES))
        head = one_by_one[-1].head
    assert batch == one_by_one
    assert seal_many([], head, RULES) == []


def test_seal_many_checks_every_event_before_sealing_any() -> None:
    events = [make_event(0), make_event(1, detail={"person": "x"})]
    with pytest.raises(AuditEventError, match=r"detail\.person"):
        seal_many(events, ChainHead.genesis(), RULES)


def test_default_rules_allow_no_detail_keys() -> None:
    with pytest.raises(AuditEventError, match="not on the allowlist"):
        seal(make_event(0), ChainHead.genesis())
    assert seal(make_event(0, detail={}), ChainHead.genesis()).seq == 1


def test_action_and_role_allowlists() -> None:
    rules = EventRules.of(actions={"login"}, roles={"admin"})
    ok = make_event(0, action="login", role="admin", detail={})
    assert seal(ok, ChainHead.genesis(), rules).action == "login"
    with pytest.raises(AuditEventError, match="'action'"):
        seal(replace_event(ok, action="logout"), ChainHead.genesis(), rules)
    with pytest.raises(AuditEventError, match="'role'"):
        seal(replace_event(ok, role="analyst"), ChainHead.genesis(), rules)


def replace_event(event: AuditEvent, **changes: Any) -> AuditEvent:
    fields = {
        name: getattr(event, name)
        for name in (
            "time",
            "principal",
            "role",
            "action",
            "resource",
            "outcome",
            "body",
            "purpose",
            "policy_sha256",
            "result_digest",
            "detail",
        )
    }
    fields.update(changes)
    return AuditEvent(**fields)


# --- event validation --------------------------------------------------------------

SECRET = "QQ123456C"  # shaped like an NI number: must never be echoed in a message


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("time", "2025-04-01 09:30:00"),
        ("time", "2025-02-30T00:00:00.000000Z"),
        ("time", 1700000000),
        ("principal", f"{SECRET} x"),
        ("principal", ""),
        ("role", "Analyst"),
        ("action", f"drop {SECRET}"),
        ("resource", f"request {SECRET}"),
        ("resource", ""),
        ("outcome", "maybe"),
        ("body", f"{SECRET}x"),
        ("body", "7a1"),
        ("policy_sha256", "AB" * 32),
        ("policy_sha256", "ab" * 31),
        ("result_digest", SECRET),
        ("purpose", ""),
        ("purpose", f" {SECRET}"),
        ("purpose", f"line\n{SECRET}"),
        ("purpose", f"{SECRET}\u202e"),
        ("purpose", "x" * 501),
        ("detail", {"State": SECRET}),
        ("detail", {f"k{i}": i for i in range(33)}),
        ("detail", [("state", SECRET)]),
        ("detail", {"state": 1.5}),
        ("detail", {"state": [SECRET]}),
        ("detail", {"state": {"nested": SECRET}}),
        ("detail", {"state": 2**63}),
        ("detail", {"state": f"{SECRET}\x00"}),
        ("detail", {"state": "x" * 257}),
    ],
)
def test_event_refuses_unsafe_content_without_echoing_it(
    field: str, value: object
) -> None:
    with pytest.raises(AuditEventError) as caught:
        make_event(0, **{field: value})
    assert caught.value.field.split(".")[0] == field
    assert SECRET not in str(caught.value)


def test_event_accepts_the_full_range_of_safe_content() -> None:
    event = make_event(
        0,
        body=None,
        purpose=None,
        policy_sha256=None,
        detail={"state": None, "tables": -(2**63), "approved": False},
    )
    assert (
        event.detail_json
        == '{"approved":false,"state":null,"tables":-9223372036854775808}'
    )
    for outcome in OUTCOMES:
        assert make_event(0, outcome=outcome).outcome == outcome


def test_event_detail_is_copied_and_frozen() -> None:
    detail: dict[str, Any] = {"state": "draft"}
    event = make_event(0, detail=detail)
    detail["state"] = "changed"
    assert event.detail["state"] == "draft"
    with pytest.raises(TypeError):
        event.detail["state"] = "x"  # type: ignore[index]


def test_time_helpers() -> None:
    local = datetime(2025, 6, 1, 10, 0, 0, 5, tzinfo=timezone(timedelta(hours=1)))
    text = format_time(local)
    assert text == "2025-06-01T09:00:00.000005Z"
    assert parse_time(text) == local
    with pytest.raises(AuditEventError, match="timezone-aware"):
        format_time(datetime(2025, 6, 1))  # naive: the point of the test
    with pytest.raises(AuditEventError):
        parse_time("2025-06-01T09:00:00Z")


def test_chain_head_invariants() -> None:
    assert ChainHead.genesis() == ChainHead(0, ZERO_HASH)
    with pytest.raises(ValueError, match="non-negative"):
        ChainHead(-1, ZERO_HASH)
    with pytest.raises(ValueError, match="32 bytes"):
        ChainHead(1, b"short")
    with pytest.raises(ValueError, match="empty chain"):
        ChainHead(0, b"\x01" * 32)


def test_entry_rows_round_trip() -> None:
    entry = make_chain(2)[1]
    row = entry.to_row()
    assert list(row) == list(ENTRY_FIELDS)
    assert AuditEntry.from_row(row) == entry
    as_views = {
        **row,
        "prev_hash": memoryview(entry.prev_hash),
        "entry_hash": bytearray(entry.entry_hash),
    }
    assert AuditEntry.from_row(as_views) == entry
    assert entry.detail_mapping() == {"state": "submitted", "tables": 1}
    with pytest.raises(AuditEventError):
        replace(entry, detail="[1]").detail_mapping()


# --- verification: the chain alone -------------------------------------------------


def test_untouched_chain_verifies() -> None:
    entries = make_chain(20)
    report = verify(entries)
    assert report.ok
    assert report.entries == 20
    assert report.head == entries[-1].head
    assert report.first_problem is None
    assert report.first_bad_seq is None
    report.check()


def test_empty_log_verifies_to_genesis() -> None:
    report = verify([])
    assert report.ok
    assert report.head == ChainHead.genesis()


def first(entries: list[AuditEntry], **kwargs: Any) -> tuple[ProblemKind, int | None]:
    report = verify(entries, **kwargs)
    problem = report.first_problem
    assert problem is not None, "tampering was not detected"
    assert (
        report.head is None
        or problem.seq is None
        or problem.kind
        in {
            ProblemKind.TRUNCATED,
            ProblemKind.REWRITTEN,
        }
    )
    return problem.kind, problem.seq


def test_modified_field_is_named() -> None:
    entries = make_chain(10)
    entries[4] = replace(entries[4], principal="someone.else")
    assert first(entries) == (ProblemKind.MODIFIED, 5)
    assert len(verify(entries).problems) == 1  # no cascade


def test_modified_stored_hash_is_named_once() -> None:
    entries = make_chain(10)
    entries[4] = replace(entries[4], entry_hash=bytes(32))
    report = verify(entries)
    assert [(p.kind, p.seq) for p in report.problems] == [(ProblemKind.MODIFIED, 5)]


def test_deleted_entry_is_named() -> None:
    entries = make_chain(10)
    del entries[3]
    assert first(entries) == (ProblemKind.GAP, 4)
    entries = make_chain(10)
    del entries[0]
    assert first(entries) == (ProblemKind.GAP, 1)


def test_inserted_entries_are_named() -> None:
    entries = make_chain(10)
    forged = seal(make_event(99), entries[2].head, RULES)  # a well-formed seq 4
    tampered = [*entries[:3], forged, *entries[3:]]
    assert first(tampered) == (ProblemKind.INSERTED, 4)
    renumbered = [*entries[:3], forged] + [
        replace(e, seq=e.seq + 1) for e in entries[3:]
    ]
    assert first(renumbered) == (ProblemKind.INSERTED, 4)
    garbage = replace(entries[5], seq=0, entry_hash=b"\x07" * 32)
    assert first([*entries[:3], garbage, *entries[3:]]) == (ProblemKind.MODIFIED, 4)


def test_swapped_entries_are_named() -> None:
    entries = make_chain(10)
    entries[2], entries[6] = entries[6], entries[2]
    assert first(entries) == (ProblemKind.GAP, 3)
    entries = make_chain(10)
    a, b = entries[2], entries[3]
    entries[2], entries[3] = replace(b, seq=3), replace(a, seq=4)  # rows keep seq
    assert first(entries) == (ProblemKind.MODIFIED, 3)


def test_replaced_entry_with_valid_hash_breaks_the_next_link() -> None:
    entries = make_chain(10)
    entries[4] = seal(make_event(77), entries[3].head, RULES)  # rehashed seq 5
    assert first(entries) == (ProblemKind.BROKEN_LINK, 5)
    entries = make_chain(3)
    entries[0] = seal(make_event(77), ChainHead(0, ZERO_HASH), RULES)
    assert first(entries) == (ProblemKind.BROKEN_LINK, 1)


def test_out_of_order_is_named() -> None:
    entries = make_chain(6)
    tampered = [*entries[:4], entries[1], *entries[4:]]
    kinds = [(p.kind, p.seq) for p in verify(tampered).problems]
    assert kinds[0] == (ProblemKind.OUT_OF_ORDER, 2)


@pytest.mark.parametrize(
    "change",
    [
        {"seq": "5"},
        {"seq": True},
        {"prev_hash": None},
        {"entry_hash": "00" * 32},
        {"detail": {"state": "x"}},
        {"principal": 5},
        {"purpose": "\udcff"},
    ],
)
def test_malformed_entries_are_reported_not_raised(change: dict[str, Any]) -> None:
    entries = make_chain(8)
    entries[4] = replace(entries[4], **change)
    report = verify(entries)
    assert report.first_problem is not None
    assert (report.first_problem.kind, report.first_bad_seq) == (
        ProblemKind.MALFORMED,
        5,
    )
    assert len(report.problems) == 1


def test_verify_rows_accepts_raw_rows_and_reports_short_ones() -> None:
    entries = make_chain(5)
    rows: list[tuple[object, ...]] = [tuple(e.to_row().values()) for e in entries]
    assert verify_rows(rows).head == entries[-1].head
    rows[2] = rows[2][:-1]
    report = verify_rows(rows)
    assert (report.first_problem and report.first_problem.kind) is ProblemKind.MALFORMED
    assert report.first_bad_seq == 3
    not_a_row: Any = object()
    assert verify_rows([*rows[:2], not_a_row]).first_bad_seq == 3


def test_export_round_trip_and_damaged_exports() -> None:
    entries = make_chain(4)
    exported = [json.loads(canonical_json(e.to_export())) for e in entries]
    assert exported[1]["prev_hash"] == entries[0].entry_hash.hex()
    assert [AuditEntry.from_export(r) for r in exported] == entries
    exported[2]["entry_hash"] = "not hex"
    del exported[3]["principal"], exported[3]["entry_hash"]
    report = verify(AuditEntry.from_export(r) for r in exported)
    assert [(p.kind, p.seq) for p in report.problems] == [
        (ProblemKind.MALFORMED, 3),
        (ProblemKind.MALFORMED, 4),
    ]


def test_verify_rows_streams_from_sqlite() -> None:
    entries = make_chain(50)
    db = sqlite3.connect(":memory:")
    try:
        columns = ", ".join(ENTRY_FIELDS)
        db.execute(f"CREATE TABLE audit_entry ({columns}, PRIMARY KEY (seq))")
        marks = ", ".join("?" * len(ENTRY_FIELDS))
        db.executemany(
            f"INSERT INTO audit_entry VALUES ({marks})",
            [tuple(e.to_row().values()) for e in entries],
        )
        query = f"SELECT {columns} FROM audit_entry ORDER BY seq"
        assert verify_rows(db.execute(query)).head == entries[-1].head
        db.execute("UPDATE audit_entry SET outcome = 'deny' WHERE seq = 17")
        assert verify_rows(db.execute(query)).first_bad_seq == 17
        db.execute("DELETE FROM audit_entry WHERE seq = 9")
        assert verify_rows(db.execute(query)).first_bad_seq == 9
    finally:
        db.close()


def test_problems_are_capped_but_the_first_is_kept() -> None:
    entries = make_chain(30)
    tampered = [replace(e, principal="x") if e.seq > 5 else e for e in entries]
    tampered[2] = replace(tampered[2], role="admin")
    tampered.reverse()  # the earliest problem now comes last in the walk
    report = verify(tampered, max_problems=4)
    assert len(report.problems) == 4
    assert report.problems_omitted > 0
    assert report.first_bad_seq == 1


def test_a_later_but_earlier_numbered_problem_survives_the_cap() -> None:
    entries = make_chain(10)
    for index in (4, 5, 6):
        entries[index] = replace(entries[index], principal="x")
    entries.append(entries[1])  # seq 2 again, after everything
    report = verify(entries, max_problems=2)
    assert [p.seq for p in report.problems] == [5, 2]
    assert report.problems_omitted == 2
    assert report.first_bad_seq == 2


def test_tail_truncation_without_a_checkpoint_is_undetectable() -> None:
    # A documented limit (docs/audit-log.md): only a checkpoint can reveal it.
    assert verify(make_chain(10)[:7]).ok


def test_check_raises_with_the_first_bad_seq() -> None:
    entries = make_chain(6)
    entries[3] = replace(entries[3], action="request_rejected")
    with pytest.raises(ChainIntegrityError) as caught:
        verify(entries).check()
    assert caught.value.first_bad_seq == 4
    assert caught.value.kind == "modified"
    assert "request_rejected" not in str(caught.value)


def test_verify_streams_in_constant_memory() -> None:
    def lazily(n: int) -> Iterator[AuditEntry]:
        head = ChainHead.genesis()
        for i in range(n):
            entry = seal(make_event(i), head, RULES)
            head = entry.head
            yield entry

    tracemalloc.start()
    try:
        report = verify(lazily(5_000))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert report.ok
    assert report.entries == 5_000
    # 5,000 entries held at once would take megabytes; a stream holds a handful.
    assert peak < 256 * 1024


# --- verification with checkpoints -------------------------------------------------


def checkpoints_at(entries: list[AuditEntry], *sizes: int) -> list[Checkpoint]:
    return [sign_checkpoint(entries[s - 1].head, KEY) for s in sizes]


def test_checkpoints_that_match_verify() -> None:
    entries = make_chain(12)
    cps = [*checkpoints_at(entries, 4, 12), sign_checkpoint(ChainHead.genesis(), KEY)]
    report = verify(entries, cps, [KEY.public_key])
    assert report.ok
    assert (report.checkpoints_trusted, report.latest_checkpoint) == (3, 12)


def test_truncation_before_the_last_checkpoint_is_named() -> None:
    entries = make_chain(12)
    cps = checkpoints_at(entries, 4, 10)
    assert first(entries[:8], checkpoints=cps, public_keys=[KEY.public_key]) == (
        ProblemKind.TRUNCATED,
        9,
    )
    assert verify(entries[:10], cps, [KEY.public_key]).ok  # after it: undetectable


def test_rewritten_chain_is_caught_by_a_checkpoint() -> None:
    entries = make_chain(12)
    cps = checkpoints_at(entries, 4, 10)
    rewritten = seal_many(
        [
            make_event(i, principal="forger") if i == 6 else make_event(i)
            for i in range(12)
        ],
        ChainHead.genesis(),
        RULES,
    )
    assert verify(rewritten).ok  # the chain alone cannot tell
    report = verify(rewritten, cps, [KEY.public_key])
    assert report.first_problem is not None
    assert report.first_problem.kind is ProblemKind.REWRITTEN
    assert report.first_problem.checkpoint_size == 10
    assert report.first_bad_seq == 5  # after the last checkpoint that still matches
    # A checkpoint at the very end is checked too.
    assert verify(rewritten[:10], cps, [KEY.public_key]).first_bad_seq == 5


def test_rewrite_then_malformed_entry_reports_both() -> None:
    entries = make_chain(8)
    cps = checkpoints_at(entries, 2, 5)
    rewritten = seal_many(
        [
            make_event(i, purpose="forged") if i == 3 else make_event(i)
            for i in range(8)
        ],
        ChainHead.genesis(),
        RULES,
    )
    rewritten[5] = replace(rewritten[5], seq=None)  # type: ignore[arg-type]
    report = verify(rewritten, cps, [KEY.public_key])
    found = sorted((p.seq or 0, p.kind) for p in report.problems)
    assert found == [(3, ProblemKind.REWRITTEN), (6, ProblemKind.MALFORMED)]


def test_insertion_at_a_checkpointed_seq_is_named_as_insertion() -> None:
    entries = make_chain(10)
    cps = checkpoints_at(entries, 2, 4)
    forged = seal(make_event(99), entries[2].head, RULES)
    tampered = [*entries[:3], forged, *entries[3:]]
    report = verify(tampered, cps, [KEY.public_key])
    assert [(p.kind, p.seq) for p in report.problems] == [(ProblemKind.INSERTED, 4)]


def test_checkpoint_signed_by_another_key_is_refused() -> None:
    entries = make_chain(6)
    other = SigningKey.generate(KEY.name)  # same name, different key
    cps = [sign_checkpoint(entries[5].head, other)]
    report = verify(entries[:3], cps, [KEY.public_key])
    assert report.first_problem is not None
    assert report.first_problem.kind is ProblemKind.BAD_SIGNATURE
    assert report.first_problem.checkpoint_size == 6
    assert report.first_bad_seq is None
    assert report.checkpoints_trusted == 0  # and so it does not count for truncation
    assert len(report.problems) == 1


def test_checkpoint_of_another_log_is_refused() -> None:
    entries = make_chain(3)
    cps = [sign_checkpoint(entries[2].head, KEY, origin="other.example/log")]
    kinds = [
        p.kind for p in verify(entries, cps, [KEY.public_key], origin=KEY.name).problems
    ]
    assert kinds == [ProblemKind.WRONG_ORIGIN]
    assert verify(entries, cps, [KEY.public_key]).ok  # origin is checked only if given
    # A checkpoint of another log is not trusted: it cannot claim truncation.
    longer = make_chain(5)
    foreign = [sign_checkpoint(longer[4].head, KEY, origin="other.example/log")]
    report = verify(entries, foreign, [KEY.public_key], origin=KEY.name)
    assert [p.kind for p in report.problems] == [ProblemKind.WRONG_ORIGIN]
    assert report.checkpoints_trusted == 0


def test_two_signed_heads_for_one_size_are_a_fork() -> None:
    entries = make_chain(5)
    fork = sign_checkpoint(ChainHead(3, b"\x05" * 32), KEY)
    report = verify(entries, [*checkpoints_at(entries, 3), fork], [KEY.public_key])
    kinds = {p.kind for p in report.problems}
    assert ProblemKind.FORK in kinds


def test_a_non_empty_checkpoint_of_size_zero_is_a_rewrite() -> None:
    bogus = Checkpoint("wresgov.test/audit", 0, b"\x01" * 32).cosigned(KEY)
    report = verify(make_chain(2), [bogus], [KEY.public_key])
    assert report.first_problem is not None
    assert report.first_problem.kind is ProblemKind.REWRITTEN


def test_checkpoints_need_keys() -> None:
    entries = make_chain(2)
    with pytest.raises(ValueError, match="public key"):
        verify(entries, checkpoints_at(entries, 2))
    with pytest.raises(ValueError, match="max_problems"):
        verify(entries, max_problems=0)


def test_range_verification_from_a_start_head() -> None:
    entries = make_chain(20)
    cps = checkpoints_at(entries, 5, 10, 15)
    start = entries[9].head
    report = verify(entries[10:], cps, [KEY.public_key], start=start)
    assert report.ok
    assert report.head == entries[-1].head
    assert report.entries == 10
    wrong_start = ChainHead(10, b"\x09" * 32)
    report = verify(entries[10:], cps, [KEY.public_key], start=wrong_start)
    kinds = [(p.kind, p.seq) for p in report.problems]
    assert (ProblemKind.REWRITTEN, 1) in kinds
    assert (ProblemKind.BROKEN_LINK, 10) in kinds
