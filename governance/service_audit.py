"""Audit actions: signed checkpoints, verifying the chain, reading and reporting.

The chain itself is ``audit/``; this module runs it against the store. Verification
streams the entries up to the stored head (memory does not grow with the log),
checks every checkpoint file in the checkpoint directory against the audit key, and
compares the recomputed head with the stored head row.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from audit import (
    AuditEntry,
    ChainHead,
    Checkpoint,
    CheckpointFormatError,
    DetailValue,
    VerifierKey,
    VerifyReport,
    parse_checkpoint,
    read_checkpoint_files,
    read_verifier_keys,
    sign_checkpoint,
    verify_rows,
    write_checkpoint_file,
)
from governance.access import Subject as Caller
from governance.audit_report import AuditReport, build_report
from governance.errors import ConfigError
from governance.models import Actor, AuditQuery
from governance.service_core import ServiceCore
from governance.storage.sql import SqlStore

AUDIT_ORIGIN = "wresgov-audit"


@dataclass(frozen=True)
class CheckpointResult:
    size: int
    head_hex: str
    path: Path


@dataclass(frozen=True)
class AuditVerification:
    report: VerifyReport
    stored_size: int
    head_matches: bool
    checkpoints: int
    seconds: float

    @property
    def ok(self) -> bool:
        return self.report.ok and self.head_matches

    @property
    def first_bad_seq(self) -> int | None:
        if self.report.first_bad_seq is not None:
            return self.report.first_bad_seq
        if not self.head_matches:
            # The head row claims more (or other) entries than the chain has.
            return (self.report.head.size if self.report.head else 0) + 1
        return None

    def summary(self) -> str:
        if self.ok:
            return (
                f"audit chain verified: {self.report.entries:,} entries, "
                f"{self.checkpoints} checkpoint(s) trusted"
            )
        first = self.report.first_problem
        if first is not None:
            return f"audit chain FAILED: {first}"
        return (
            f"audit chain FAILED: the stored head says {self.stored_size} entries "
            f"but the chain ends at {self.report.head.size if self.report.head else 0}"
        )


class AuditActions(ServiceCore):
    """What IG officers do with the audit log."""

    def trusted_audit_keys(self, extra: Path | None = None) -> list[VerifierKey]:
        keys = [self.signing_key("audit").public_key]
        if extra is not None:
            keys += read_verifier_keys(extra)
        return keys

    def checkpoint(self, caller: Caller) -> CheckpointResult:
        """Sign the current chain head, write it outside the store, and record it."""
        actor = self._authorise(
            caller, "audit.checkpoint", action="audit.checkpoint", resource="audit"
        )
        return self._checkpoint(actor)

    def _checkpoint(self, actor: Actor) -> CheckpointResult:
        key = self.signing_key("audit")
        directory = self.settings.resolved_checkpoint_dir
        with self.store.transaction() as tx:
            head = tx.audit_head()
            checkpoint = sign_checkpoint(head, key, AUDIT_ORIGIN)
            path = write_checkpoint_file(directory, checkpoint)
            self._record(
                tx,
                actor,
                "audit.checkpoint",
                resource=f"checkpoint:{head.size}",
                detail={"checkpoint_size": head.size},
            )
        return CheckpointResult(head.size, head.head_hash.hex(), path)

    def checkpoints(self) -> list[Checkpoint]:
        directory = self.settings.resolved_checkpoint_dir
        if not directory.exists():
            return []
        try:
            return read_checkpoint_files(directory)
        except CheckpointFormatError as exc:
            raise ConfigError(f"{directory}: {exc}") from None

    def verify_audit(
        self, caller: Caller, *, trusted_keys: Path | None = None
    ) -> AuditVerification:
        """Verify the whole chain and every checkpoint; record the verification."""
        actor = self._authorise(
            caller, "audit.verify", action="audit.verify", resource="audit"
        )
        started = time.perf_counter()
        keys = self.trusted_audit_keys(trusted_keys)
        checkpoints = self.checkpoints()
        stored = self.store.read_audit_head()
        report = self._verify_chain(stored, checkpoints, keys)
        matches = (report.head or stored).size == stored.size and (
            report.head is None or report.head.head_hash == stored.head_hash
        )
        if report.head is None and stored.size:
            matches = False
        result = AuditVerification(
            report,
            stored.size,
            matches,
            len(checkpoints),
            time.perf_counter() - started,
        )
        with self.store.transaction() as tx:
            self._record(
                tx,
                actor,
                "audit.verify",
                resource="audit",
                detail={
                    "entries": report.entries,
                    "problems": len(report.problems) + (0 if matches else 1),
                    "first_bad_seq": result.first_bad_seq,
                },
            )
        return result

    def _verify_chain(
        self,
        stored: ChainHead,
        checkpoints: list[Checkpoint],
        keys: list[VerifierKey],
    ) -> VerifyReport:
        """Stream the chain through the verifier; in two processes when it is long.

        The second half is verified from the stored hash of the entry where it
        starts; the first half's verification proves that hash (it recomputes it
        and compares), so together they verify the whole chain.
        """
        workers = min(os.cpu_count() or 1, PARALLEL_WORKERS)
        if stored.size < PARALLEL_MIN_ENTRIES or workers < 2:
            return verify_rows(
                self.store.iter_audit_rows(up_to=stored.size),
                checkpoints,
                keys,
                origin=AUDIT_ORIGIN,
            )
        bounds = [stored.size * k // workers for k in range(workers + 1)]
        starts = [ChainHead.genesis()]
        for bound in bounds[1:-1]:
            starts.append(ChainHead(bound, self.store.audit_entry_hash(bound)))
        url = self.store.url_for_workers
        texts = [c.to_text() for c in checkpoints]
        key_texts = [k.to_text() for k in keys]
        jobs = [
            (url, bounds[k], bounds[k + 1], starts[k].head_hash, texts, key_texts,
             k == workers - 1)
            for k in range(workers)
        ]  # fmt: skip
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            reports = list(pool.map(_verify_range, jobs))
        return _merge(reports)

    def audit_log(
        self, caller: Caller, query: AuditQuery, *, export: str | None = None
    ) -> list[AuditEntry]:
        """Read entries matching ``query``; the read itself is recorded.

        ``export`` names the format of an export (``csv``, ``jsonl``): exporting
        needs ``audit.export`` as well as ``audit.read``.
        """
        permission = "audit.export" if export else "audit.read"
        actor = self._authorise(
            caller, permission, action="audit.read", resource="audit"
        )
        detail: dict[str, DetailValue] = {}
        if export:
            self._authorise(caller, "audit.read", action="audit.read", resource="audit")
            detail["format"] = export
        with self.store.transaction() as tx:
            entries = tx.audit_entries(query)
            detail["count"] = len(entries)
            self._record(tx, actor, "audit.read", resource="audit", detail=detail)
        return entries

    def audit_report(
        self, caller: Caller, *, since: str | None = None, until: str | None = None
    ) -> AuditReport:
        """Activity per principal and action, denials, and flags to review."""
        actor = self._authorise(
            caller, "audit.read", action="audit.report", resource="audit"
        )
        with self.store.transaction() as tx:
            entries = tx.audit_entries(AuditQuery(since=since, until=until))
            report = build_report(entries)
            self._record(
                tx,
                actor,
                "audit.report",
                resource="audit",
                detail={"entries": report.entries, "count": len(report.flags)},
            )
        return report


PARALLEL_MIN_ENTRIES = 100_000
PARALLEL_WORKERS = 2


def _verify_range(
    job: tuple[str, int, int, bytes, list[str], list[str], bool],
) -> VerifyReport:
    """Verify entries after ``after`` up to ``up_to`` (runs in a worker process)."""
    url, after, up_to, start_hash, texts, key_texts, last = job
    checkpoints = [parse_checkpoint(text) for text in texts]
    # Each range checks the checkpoints that fall inside it; the last range also
    # those beyond its end (a checkpoint past the end is a truncation).
    mine = [
        c for c in checkpoints if after < c.size <= up_to or (last and c.size > up_to)
    ]
    store = SqlStore(url)
    try:
        start = ChainHead(after, start_hash) if after else ChainHead.genesis()
        return verify_rows(
            store.iter_audit_rows(after=after, up_to=up_to),
            mine,
            [VerifierKey.from_text(text) for text in key_texts],
            origin=AUDIT_ORIGIN,
            start=start,
        )
    finally:
        store.dispose()


def _merge(reports: list[VerifyReport]) -> VerifyReport:
    problems = tuple(p for report in reports for p in report.problems)
    latest = [r.latest_checkpoint for r in reports if r.latest_checkpoint is not None]
    return VerifyReport(
        entries=sum(r.entries for r in reports),
        head=reports[-1].head if reports[-1].head is not None else reports[0].head,
        checkpoints_trusted=sum(r.checkpoints_trusted for r in reports),
        latest_checkpoint=max(latest) if latest else None,
        problems=problems,
        problems_omitted=sum(r.problems_omitted for r in reports),
    )
