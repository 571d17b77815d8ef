"""docs/audit-log.md cannot drift: its examples are checked against the code here."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from audit import (
    AuditEntry,
    AuditEvent,
    ChainHead,
    EventRules,
    SigningKey,
    canonical_json,
    format_time,
    parse_checkpoint,
    seal,
    seal_many,
    sign_checkpoint,
    write_checkpoint_file,
)

DOC = Path(__file__).resolve().parents[2] / "docs" / "audit-log.md"
ORIGIN = "wresgov.example/audit"


def doc_text() -> str:
    return DOC.read_text(encoding="utf-8")


def independent_verifier() -> str:
    block = re.search(
        r"<!-- independent-verifier: begin -->\n```python\n(.*?)```\n"
        r"<!-- independent-verifier: end -->",
        doc_text(),
        re.DOTALL,
    )
    assert block is not None, "the independent verifier is missing from the page"
    return block.group(1)


def package_snippet() -> str:
    blocks = re.findall(r"```python\n(.*?)```", doc_text(), re.DOTALL)
    snippets = [b for b in blocks if "from audit import" in b]
    assert len(snippets) == 1
    return str(snippets[0])


def make_log(count: int) -> list[AuditEntry]:
    start = datetime(2025, 4, 1, 9, 0, tzinfo=UTC)
    events = [
        AuditEvent(
            time=format_time(start + timedelta(minutes=i)),
            principal=f"user{i % 4}",
            role="analyst",
            action="aggregate_requested",
            resource=f'request:"{i}"\\',
            outcome="deny" if i % 5 == 0 else "allow",
            body="7A1" if i % 2 else None,
            purpose="Adroddiad WRES — ŵ" if i % 3 else None,
            detail={"tables": i, "state": "submitted"} if i % 2 else {},
        )
        for i in range(count)
    ]
    return seal_many(events, ChainHead.genesis(), EventRules.of({"tables", "state"}))


@pytest.fixture
def exported(tmp_path: Path) -> Path:
    """An export, a checkpoint directory and a key line, as an IG officer receives."""
    key = SigningKey.generate(ORIGIN)
    log = make_log(12)
    for size in (5, 10):
        write_checkpoint_file(
            tmp_path / "checkpoints", sign_checkpoint(log[size - 1].head, key)
        )
    write_export(tmp_path / "audit-log.jsonl", log)
    (tmp_path / "audit-key.txt").write_text(key.public_key.to_text() + "\n")
    (tmp_path / "verify_audit.py").write_text(independent_verifier())
    return tmp_path


def write_export(path: Path, log: list[AuditEntry]) -> None:
    path.write_bytes(b"".join(canonical_json(e.to_export()) + b"\n" for e in log))


def run_independent(directory: Path) -> subprocess.CompletedProcess[str]:
    key_line = (directory / "audit-key.txt").read_text().strip()
    return subprocess.run(
        [sys.executable, "verify_audit.py", "audit-log.jsonl", "checkpoints", key_line],
        cwd=directory,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )


def test_independent_verifier_accepts_an_untouched_export(exported: Path) -> None:
    result = run_independent(exported)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("OK: 12 entries, 2 checkpoints")


def test_independent_verifier_catches_tampering(exported: Path) -> None:
    export = exported / "audit-log.jsonl"
    original = export.read_text(encoding="utf-8").splitlines(keepends=True)

    edited = [*original]
    record = json.loads(edited[6])
    record["outcome"] = "allow" if record["outcome"] == "deny" else "deny"
    edited[6] = canonical_json(record).decode() + "\n"
    export.write_text("".join(edited), encoding="utf-8")
    assert run_independent(exported).stderr.strip() == "seq 7: entry modified"

    export.write_text("".join(original[:3] + original[4:]), encoding="utf-8")
    assert "seq 4: entry missing" in run_independent(exported).stderr

    export.write_text("".join(original[:7]), encoding="utf-8")
    assert "seq 8: log truncated" in run_independent(exported).stderr

    rewritten = make_log(12)
    forged = seal(
        AuditEvent(
            time=rewritten[2].time,
            principal="forger",
            role="analyst",
            action="aggregate_requested",
            resource="request:2",
            outcome="allow",
        ),
        rewritten[1].head,
    )
    head = forged.head
    chain = [*rewritten[:2], forged]
    for entry in rewritten[3:]:
        fields = entry.to_row()
        again = AuditEvent(
            time=entry.time,
            principal=entry.principal,
            role=entry.role,
            action=entry.action,
            resource=entry.resource,
            outcome=fields["outcome"],  # type: ignore[arg-type]
            body=entry.body,
            purpose=entry.purpose,
            detail=entry.detail_mapping(),
        )
        chain.append(seal(again, head, EventRules.of({"tables", "state"})))
        head = chain[-1].head
    write_export(export, chain)
    assert "checkpoint 5: chain rewritten" in run_independent(exported).stderr


def test_independent_verifier_refuses_a_checkpoint_signed_by_another_key(
    exported: Path,
) -> None:
    path = exported / "checkpoints" / "checkpoint-000000000010.txt"
    genuine = parse_checkpoint(path.read_text(encoding="utf-8"))
    impostor = SigningKey.generate(ORIGIN)
    path.write_text(sign_checkpoint(genuine.chain_head, impostor).to_text())
    result = run_independent(exported)
    assert result.returncode == 1
    assert "not signed by the trusted key" in result.stderr


def test_package_snippet_runs(exported: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(exported)
    printed: list[str] = []
    namespace = {"print": lambda *args: printed.append(" ".join(map(str, args)))}
    exec(compile(package_snippet(), str(DOC), "exec"), namespace)  # noqa: S102  # our own doc
    assert printed == ["OK"]


def test_worked_example_hash_is_the_one_on_the_page() -> None:
    text = doc_text()
    fields = re.search(r"\n(\{\"action\":\"request_approved\".*\})\n", text)
    digest = re.search(r"\n([0-9a-f]{64})  -\n", text)
    assert fields is not None
    assert digest is not None
    prefix = b"wresgov-audit-v1\x00" + bytes(32)
    computed = hashlib.sha256(prefix + fields.group(1).encode()).hexdigest()
    assert computed == digest.group(1)


def test_example_checkpoint_and_key_on_the_page_verify() -> None:
    from audit import VerifierKey

    text = doc_text()
    note = re.search(r"```\n(wresgov\.example/audit\n1042\n.*?\n)```", text, re.DOTALL)
    key = re.search(r"(wresgov\.example/audit\+[0-9a-f]{8}\+\S+)", text)
    assert note is not None
    assert key is not None
    checkpoint = parse_checkpoint(note.group(1))
    assert checkpoint.is_signed_by([VerifierKey.from_text(key.group(1))])
