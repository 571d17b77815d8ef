"""Audit actions: signed checkpoints, verifying the chain, reading and reporting.

The chain itself is ``audit/``; this module runs it against the store. Verification
streams the entries up to the stored head (memory does not grow with the log),
checks every checkpoint file in the checkpoint directory against the audit key, and
compares the recomputed head with the stored head row.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from audit import (
    AuditEntry,
    Checkpoint,
    CheckpointFormatError,
    VerifierKey,
    VerifyReport,
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
        report = verify_rows(
            self.store.iter_audit_rows(up_to=stored.size),
            checkpoints,
            keys,
            origin=AUDIT_ORIGIN,
        )
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

    def audit_log(self, caller: Caller, query: AuditQuery) -> list[AuditEntry]:
        """Read entries matching ``query``; the read itself is recorded."""
        actor = self._authorise(
            caller, "audit.read", action="audit.read", resource="audit"
        )
        with self.store.transaction() as tx:
            entries = tx.audit_entries(query)
            self._record(
                tx,
                actor,
                "audit.read",
                resource="audit",
                detail={"count": len(entries)},
            )
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
