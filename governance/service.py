"""The one way in: every CLI command and API call goes through ``Service``.

The service wires the stages together and opens a transaction per action, so an
action either happens completely or not at all. It returns simple result values and
never prints; progress is reported through an optional callback.
"""

from __future__ import annotations

import csv
import os
import queue
import tempfile
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final, Literal, Self

import structlog
import yaml
from pydantic import ValidationError

from governance.config import Settings
from governance.errors import ConfigError, IngestError, PolicyError
from governance.extract_format import KINDS, Kind
from governance.ingest import IngestPolicy, read_rows, scan
from governance.models import ExtractInfo, NewExtract, QuarantineEntry
from governance.policy_files import default_policy_dir
from governance.pseudonymise import (
    Pseudonymiser,
    init_key_dir,
    load_master_key,
)
from governance.reference import Reference, load_reference
from governance.storage.base import Transaction
from governance.storage.sql import SqlStore
from governance.validate import DUPLICATE_KEYS, RowContext, RowValidator

log = structlog.get_logger()

Clock = Callable[[], datetime]
IngestOutcome = Literal["stored", "unchanged", "reactivated"]
MIN_PERIOD, MAX_PERIOD = 2015, 2100


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class InitResult:
    home: Path
    key_dir: Path
    created_master_key: bool
    database: str
    schema_version: int


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


class Service:
    """Wires settings, keys, reference data, policies and the store together."""

    def __init__(self, settings: Settings, *, clock: Clock = _utc_now) -> None:
        self.settings = settings
        self._clock = clock
        self._store: SqlStore | None = None

    # -- plumbing -------------------------------------------------------------------

    @property
    def store(self) -> SqlStore:
        if self._store is None:
            if self.settings.database_url is None:
                self.settings.home.mkdir(parents=True, exist_ok=True)
            self._store = SqlStore(self.settings.resolved_database_url)
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.dispose()
            self._store = None

    @property
    def reference(self) -> Reference:
        return load_reference()

    def policy_dir(self) -> Path:
        return self.settings.policy_dir or default_policy_dir()

    def ingest_policy(self) -> IngestPolicy:
        """Load ``ingest.yaml`` from the policy directory.

        Raises:
            PolicyError: the file is missing, not YAML, or has unknown keys.
        """
        path = self.policy_dir() / "ingest.yaml"
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise PolicyError(f"{path}: ingest policy not found") from None
        except yaml.YAMLError:
            raise PolicyError(f"{path}: not valid YAML") from None
        try:
            return IngestPolicy.model_validate(data)
        except ValidationError as exc:
            bad = "; ".join(
                f"{'.'.join(map(str, err['loc'])) or '(file)'}: {err['msg']}"
                for err in exc.errors(include_input=False)
            )
            raise PolicyError(f"{path}: {bad}") from None

    def _pseudonymiser(self) -> Pseudonymiser:
        return Pseudonymiser(load_master_key(self.settings.resolved_key_dir))

    # -- actions --------------------------------------------------------------------

    def init(self) -> InitResult:
        """Create the key directory, a master key and the store's schema (idempotent)."""
        self.settings.home.mkdir(parents=True, exist_ok=True)
        keys = init_key_dir(self.settings.resolved_key_dir)
        version = self.store.upgrade()
        log.info("store_initialised", database=self.store.display_url)
        return InitResult(
            home=self.settings.home,
            key_dir=keys.path,
            created_master_key=keys.created_master_key,
            database=self.store.display_url,
            schema_version=version,
        )

    def ingest(
        self,
        path: Path,
        *,
        kind: Kind,
        org: str,
        period: int,
        progress: Callable[[int], None] | None = None,
    ) -> IngestResult:
        """Validate, pseudonymise and store one extract atomically.

        Re-ingesting identical content is a no-op; new content for the same body,
        period and kind supersedes the active extract, which stays recorded.

        Raises:
            IngestError: the extract was rejected; the store is unchanged.
        """
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
        policy = self.ingest_policy()
        pseudonymiser = self._pseudonymiser()
        file_scan = scan(path, label=label)
        validator = RowValidator(
            kind, RowContext(reference, org, period), pseudonymiser
        )

        with self.store.transaction() as tx:
            same = tx.find_extract(org, period, kind, file_scan.sha256)
            active = tx.active_extract(org, period, kind)
            if same is not None:
                return self._resubmitted(tx, same, active)

            extract_id = tx.add_extract(
                NewExtract(org, period, kind, file_scan.sha256, self._clock())
            )
            problems: list[QuarantineEntry] = []
            rows_read = rows_bad = rows_stored = 0
            with BackgroundWriter(
                lambda records: tx.add_records(kind, extract_id, records)
            ) as writer:
                for batch in read_rows(
                    path, file_scan, validator, label=label, progress=progress
                ):
                    writer.put(batch.records)
                    problems.extend(batch.problems)
                    rows_read += batch.rows_read
                    rows_bad += batch.rows_bad
                    rows_stored += len(batch.records)
            duplicates = tx.remove_duplicates(kind, extract_id, DUPLICATE_KEYS[kind])
            for row, first in duplicates:
                problems.append(
                    QuarantineEntry(
                        row, "(row)", f"duplicates row {first} ({_key_label(kind)})"
                    )
                )
            rows_bad += len(duplicates)
            rows_accepted = rows_stored - len(duplicates)
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
        self, *, org: str | None = None, period: int | None = None
    ) -> list[ExtractInfo]:
        with self.store.transaction() as tx:
            return tx.extracts(org=org, period=period)

    def quarantine(self, extract_id: int) -> list[QuarantineEntry]:
        with self.store.transaction() as tx:
            return tx.quarantine_entries(extract_id)

    def check_store(self) -> None:
        """Raise ConfigError unless the store exists at the current schema version."""
        version = self.store.schema_version()
        if version is None:
            raise ConfigError("no wresgov store here; run `wresgov init` first")


class BackgroundWriter:
    """Write batches on a second thread while the caller reads and validates.

    The database driver releases the GIL while it works, so writing overlaps
    with parsing and pseudonymising. The queue is short, so memory stays bounded.
    Only the writer thread touches the connection until the ``with`` block ends;
    an error on either side stops both, and the caller's transaction rolls back.
    """

    _STOP: Final = object()

    def __init__(self, write: Callable[[list[tuple[object, ...]]], None]) -> None:
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

    def put(self, records: list[tuple[object, ...]]) -> None:
        if self._error is not None:
            raise self._error
        if records:
            self._queue.put(records)

    def __exit__(self, *exc_info: object) -> None:
        self._queue.put(self._STOP)
        self._thread.join()
        if self._error is not None and exc_info[0] is None:
            raise self._error


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
