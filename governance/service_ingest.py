"""Ingest actions: store an extract atomically, list extracts, read quarantine."""

from __future__ import annotations

import csv
import os
import queue
import re
import tempfile
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal, Self

import structlog

from governance.access import Subject as Caller
from governance.errors import IngestError, NotFoundError
from governance.extract_format import KINDS, Kind
from governance.ingest import IngestPolicy, read_rows, scan
from governance.models import (
    Actor,
    ExtractInfo,
    NewExtract,
    QuarantineEntry,
)
from governance.service_core import ServiceCore
from governance.storage.base import Transaction
from governance.validate import DUPLICATE_KEYS, Columns, RowContext, RowValidator

log = structlog.get_logger()
IngestOutcome = Literal["stored", "unchanged", "reactivated"]
MIN_PERIOD, MAX_PERIOD = 2015, 2100
_BODY_CODE = re.compile(r"[A-Z0-9]{2,10}")


@dataclass(frozen=True)
class IngestResult:
    outcome: IngestOutcome
    extract_id: int
    org: str
    period: int
    kind: Kind
    rows_read: int
    rows_accepted: int
    rows_quarantined: int
    superseded: int | None
    report: Path | None
    problems: tuple[tuple[str, str, int], ...]
    """(field, problem, rows) for the most common problems, most frequent first."""


class IngestActions(ServiceCore):
    """Ingest and what data managers read about their extracts."""

    def ingest(
        self,
        caller: Caller,
        path: Path,
        *,
        kind: Kind,
        org: str,
        period: int,
        progress: Callable[[int], None] | None = None,
    ) -> IngestResult:
        """Validate, pseudonymise and store one extract atomically, and audit it.

        Re-ingesting identical content is a no-op; new content for the same body,
        period and kind supersedes the active extract, which stays recorded. A
        rejected extract changes nothing but the audit log (outcome ``error``).

        Raises:
            IngestError: the extract was rejected; the store is unchanged.
        """
        body = org.upper()
        actor = self._authorise(
            caller,
            "extract.ingest",
            action="extract.ingest",
            body=body if _BODY_CODE.fullmatch(body) else None,
            resource=f"extract:{body}/{period}/{kind}"
            if _BODY_CODE.fullmatch(body)
            else "extract",
        )
        try:
            return self._ingest(
                actor, path, kind=kind, org=org, period=period, progress=progress
            )
        except IngestError as exc:
            self._record_failure(
                actor,
                "extract.ingest",
                resource=f"extract:{org.upper()}/{period}/{kind}",
                body=org.upper() if len(org) <= 10 else None,
                detail={"kind": kind, "period": period, "error": _error_kind(exc)},
            )
            raise

    def _ingest(
        self,
        actor: Actor,
        path: Path,
        *,
        kind: Kind,
        org: str,
        period: int,
        progress: Callable[[int], None] | None,
    ) -> IngestResult:
        label = path.name
        if kind not in KINDS:
            raise IngestError(f"unknown extract kind {kind!r}", file=label)
        org = org.upper()
        reference = self.reference
        try:
            reference.body(org)
        except KeyError:
            raise IngestError(
                "--org is not an NHS Wales body code", file=label
            ) from None
        if not MIN_PERIOD <= period <= MAX_PERIOD:
            raise IngestError(
                f"--period must be a year between {MIN_PERIOD} and {MAX_PERIOD}",
                file=label,
            )
        policy, policy_sha256 = self.ingest_policy_with_hash()
        pseudonymiser = self._pseudonymiser()
        file_scan = scan(path, label=label)
        validator = RowValidator(
            kind, RowContext(reference, org, period), pseudonymiser
        )

        with self.store.transaction() as tx:
            same = tx.find_extract(org, period, kind, file_scan.sha256)
            active = tx.active_extract(org, period, kind)
            if same is not None:
                result = self._resubmitted(tx, same, active)
                self._record(
                    tx,
                    actor,
                    "extract.ingest",
                    resource=f"extract:{same.id}",
                    body=org,
                    policy_sha256=policy_sha256,
                    result_digest=file_scan.sha256,
                    detail={"kind": kind, "period": period, "outcome": result.outcome},
                )
                return result

            extract_id = tx.add_extract(
                NewExtract(org, period, kind, file_scan.sha256, self._clock())
            )
            problems: list[QuarantineEntry] = []
            duplicates: list[tuple[int, int]] = []
            rows_read = rows_bad = rows_accepted = 0
            with BackgroundWriter(
                lambda columns: tx.add_records(kind, extract_id, columns)
            ) as writer:
                for batch in read_rows(
                    path, file_scan, validator, label=label, progress=progress
                ):
                    writer.put(batch.columns)
                    problems.extend(batch.problems)
                    duplicates.extend(batch.duplicates)
                    rows_read += batch.rows_read
                    rows_bad += batch.rows_bad
                    rows_accepted += batch.rows_stored
            for row, first in duplicates:
                problems.append(
                    QuarantineEntry(
                        row, "(row)", f"duplicates row {first} ({_key_label(kind)})"
                    )
                )
            rows_bad += len(duplicates)
            problems.sort(key=lambda entry: (entry.row, entry.field))
            report = self._write_report(org, period, kind, file_scan.sha256, problems)
            self._check_error_rate(policy, label, rows_read, rows_bad, report)

            if active is not None:
                tx.supersede(active.id, extract_id)
            tx.add_quarantine(extract_id, problems)
            tx.finish_extract(
                extract_id,
                rows_read=rows_read,
                rows_accepted=rows_accepted,
                rows_quarantined=rows_bad,
            )
            self._record(
                tx,
                actor,
                "extract.ingest",
                resource=f"extract:{extract_id}",
                body=org,
                policy_sha256=policy_sha256,
                result_digest=file_scan.sha256,
                # No row counts: an extract's size can be a small count of
                # people (a body's ER cases), and the audit log holds none.
                detail={
                    "kind": kind,
                    "period": period,
                    "outcome": "stored",
                    "superseded": active.id if active is not None else None,
                },
            )
        log.info(
            "extract_ingested",
            kind=kind,
            org=org,
            period=period,
            rows_read=rows_read,
            rows_accepted=rows_accepted,
            rows_quarantined=rows_bad,
        )
        return IngestResult(
            outcome="stored",
            extract_id=extract_id,
            org=org,
            period=period,
            kind=kind,
            rows_read=rows_read,
            rows_accepted=rows_accepted,
            rows_quarantined=rows_bad,
            superseded=active.id if active is not None else None,
            report=report,
            problems=_summarise(problems),
        )

    def _resubmitted(
        self, tx: Transaction, same: ExtractInfo, active: ExtractInfo | None
    ) -> IngestResult:
        outcome: IngestOutcome = "unchanged"
        superseded = None
        if same.status != "active":
            # An earlier submission sent again: it becomes the active one once more.
            if active is not None:
                tx.supersede(active.id, same.id)
                superseded = active.id
            tx.reactivate(same.id)
            outcome = "reactivated"
        return IngestResult(
            outcome=outcome,
            extract_id=same.id,
            org=same.org,
            period=same.period,
            kind=same.kind,
            rows_read=same.rows_read,
            rows_accepted=same.rows_accepted,
            rows_quarantined=same.rows_quarantined,
            superseded=superseded,
            report=None,
            problems=(),
        )

    def _check_error_rate(
        self,
        policy: IngestPolicy,
        label: str,
        rows_read: int,
        rows_bad: int,
        report: Path | None,
    ) -> None:
        if rows_bad == 0:
            return
        rate = rows_bad / rows_read
        where = f"; quarantine report: {report}" if report else ""
        if policy.on_row_error == "reject":
            raise IngestError(
                f"rejected: {rows_bad} of {rows_read} rows failed validation and the "
                f"ingest policy rejects any bad row{where}",
                file=label,
            )
        if rate > policy.max_error_rate:
            raise IngestError(
                f"rejected: {rows_bad} of {rows_read} rows ({rate:.1%}) failed "
                f"validation, above the ingest policy's limit of "
                f"{policy.max_error_rate:.1%}{where}",
                file=label,
            )

    def _write_report(
        self,
        org: str,
        period: int,
        kind: Kind,
        sha256: str,
        problems: list[QuarantineEntry],
    ) -> Path | None:
        """Write the quarantine report (row, field, problem) atomically."""
        if not problems:
            return None
        directory = self.settings.reports_dir
        directory.mkdir(parents=True, exist_ok=True)
        target = directory / f"quarantine-{org}-{period}-{kind}-{sha256[:12]}.csv"
        fd, temp = tempfile.mkstemp(dir=directory, prefix=".report-", suffix=".csv")
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
                writer = csv.writer(handle)
                writer.writerow(["row", "field", "problem"])
                for entry in problems:
                    writer.writerow([entry.row, entry.field, entry.problem])
            os.replace(temp, target)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        return target

    def extracts(
        self, caller: Caller, *, org: str | None = None, period: int | None = None
    ) -> list[ExtractInfo]:
        """List extracts (status and row counts): a body's completeness view."""
        actor = self._authorise(
            caller,
            "extract.read_completeness",
            action="extract.list",
            body=org,
            resource="extracts",
        )
        with self.store.transaction() as tx:
            found = tx.extracts(org=org, period=period)
            self._record(
                tx,
                actor,
                "extract.list",
                resource="extracts",
                body=org,
                detail={"period": period, "count": len(found)},
            )
            return found

    def quarantine(self, caller: Caller, extract_id: int) -> list[QuarantineEntry]:
        """An extract's quarantine report (row, field, problem; never a value).

        Raises:
            NotFoundError: no such extract.
            AccessDeniedError: the extract belongs to a body outside the grant.
        """
        with self.store.transaction() as tx:
            info = tx.extract(extract_id)
        if info is None:
            raise NotFoundError(f"no extract {extract_id}")
        actor = self._authorise(
            caller,
            "extract.read_quarantine",
            action="extract.read_quarantine",
            body=info.org,
            resource=f"extract:{extract_id}",
        )
        with self.store.transaction() as tx:
            entries = tx.quarantine_entries(extract_id)
            self._record(
                tx,
                actor,
                "extract.read_quarantine",
                resource=f"extract:{extract_id}",
                detail={"count": len(entries)},
            )
            return entries


class BackgroundWriter:
    """Write batches on a second thread while the caller reads and validates.

    The database driver releases the GIL while it works, so writing overlaps
    with parsing and pseudonymising. The queue is short, so memory stays bounded.
    Only the writer thread touches the connection until the ``with`` block ends;
    an error on either side stops both, and the caller's transaction rolls back.
    """

    _STOP: Final = object()

    def __init__(self, write: Callable[[Columns], None]) -> None:
        self._write = write
        self._queue: queue.Queue[object] = queue.Queue(maxsize=4)
        self._error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._run, name="wresgov-writer", daemon=True
        )

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def _run(self) -> None:
        while (item := self._queue.get()) is not self._STOP:
            if self._error is None:
                try:
                    self._write(item)  # type: ignore[arg-type]  # only batches are queued
                except BaseException as exc:  # noqa: BLE001 - re-raised in the caller
                    self._error = exc

    def put(self, columns: Columns) -> None:
        if self._error is not None:
            raise self._error
        if columns:
            self._queue.put(columns)

    def __exit__(self, *exc_info: object) -> None:
        self._queue.put(self._STOP)
        self._thread.join()
        if self._error is not None and exc_info[0] is None:
            raise self._error


def _error_kind(exc: IngestError) -> str:
    """A short, value-free label for why an extract was rejected (for the audit)."""
    text = exc.problem
    if text.startswith("rejected:"):
        return "error_rate"
    return "file" if exc.row is None else "structure"


def _key_label(kind: Kind) -> str:
    key = DUPLICATE_KEYS[kind]
    return "same " + " and ".join(name.replace("_", " ") for name in key)


def _summarise(problems: list[QuarantineEntry]) -> tuple[tuple[str, str, int], ...]:
    rows_per_problem: Counter[tuple[str, str]] = Counter()
    for entry in problems:
        rows_per_problem[(entry.field, entry.problem)] += 1
    return tuple(
        (field, problem, count)
        for (field, problem), count in rows_per_problem.most_common(10)
    )
