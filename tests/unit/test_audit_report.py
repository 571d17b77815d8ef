from __future__ import annotations

import json

from audit import AuditEntry
from governance.audit_report import build_report


def entry(
    seq: int,
    principal: str,
    action: str,
    outcome: str,
    *,
    body: str | None = None,
    detail: dict[str, object] | None = None,
) -> AuditEntry:
    return AuditEntry(
        seq=seq,
        time=f"2026-04-01T10:00:{seq:02d}.000000Z",
        principal=principal,
        role="analyst",
        action=action,
        resource="-",
        body=body,
        purpose=None,
        outcome=outcome,
        policy_sha256=None,
        result_digest=None,
        detail=json.dumps(detail or {}),
        prev_hash=bytes(32),
        entry_hash=bytes(32),
    )


def test_activity_and_no_flags_for_ordinary_use() -> None:
    report = build_report(
        [
            entry(1, "dm-7a1", "extract.ingest", "allow", body="7A1"),
            entry(2, "dm-7a1", "extract.ingest", "allow", body="7A1"),
            entry(3, "dm-7a1", "extract.list", "deny", detail={"reason": "no_grant"}),
        ]
    )
    assert report.entries == 3 and report.denials == 1
    rows = {(r.principal, r.action): (r.allowed, r.denied) for r in report.activity}
    assert rows == {
        ("dm-7a1", "extract.ingest"): (2, 0),
        ("dm-7a1", "extract.list"): (0, 1),
    }
    assert report.flags == ()
    assert (report.first_time, report.last_time) == (
        "2026-04-01T10:00:01.000000Z",
        "2026-04-01T10:00:03.000000Z",
    )


def test_flags() -> None:
    entries = [
        entry(
            1, "mallory", "extract.ingest", "deny", detail={"reason": "out_of_scope"}
        ),
        entry(2, "mallory", "extract.list", "deny", detail={"reason": "no_grant"}),
        entry(3, "mallory", "audit.read", "deny", detail={"reason": "no_grant"}),
        entry(4, "old-dm", "extract.ingest", "deny", detail={"reason": "expired"}),
        entry(
            5, "anonymous", "authenticate", "deny", detail={"reason": "unknown_token"}
        ),
        *(
            entry(
                6 + i,
                "nosy",
                "request.create",
                "allow",
                body="7A7",
                detail={"period": 2026},
            )
            for i in range(3)
        ),
        entry(
            9, "nosy", "request.create", "allow", body="7A1", detail={"period": 2026}
        ),
    ]
    kinds = {
        (f.kind, f.principal): (f.count, f.first_seq)
        for f in build_report(entries).flags
    }
    assert kinds == {
        ("repeated_denials", "mallory"): (3, 1),
        ("outside_grant", "mallory"): (1, 1),
        ("outside_grant", "old-dm"): (1, 4),
        ("authentication_failures", "anonymous"): (1, 5),
        ("narrow_requests", "nosy"): (3, 6),
    }
