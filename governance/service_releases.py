"""Releasing an approved request: recomputed, checked again, written, signed.

The requester exports an approved request: its tables are counted and cleared
again and must match the digest the officers approved; the release is rendered and
written beside its target without holding the request's lock, then the request is
locked and checked again, the release recorded and audited, and the directory moved
into place just before the commit (holding an ``UNCOMMITTED`` marker until after
it), and the audit log checkpointed. A failure anywhere leaves the store and the
target as they were.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from audit import SigningKey
from governance.access import Subject as Caller
from governance.errors import (
    AccessDeniedError,
    DisclosureError,
    InvalidTransitionError,
    ReleaseError,
)
from governance.indicators import load_catalogue
from governance.models import SYSTEM as SYSTEM_ACTOR
from governance.models import ReleaseRecord, RequestRecord
from governance.release import (
    Approval,
    IndicatorSheet,
    ReleaseInfo,
    ReleaseManifest,
    mark_uncommitted,
    move_release,
    settle_release,
    stage_release,
    write_release,
)
from governance.release_pack import indicator_sheets, pack_catalogue, render_reports
from governance.request_checks import CheckOutcome
from governance.sdc.pack import Cleared
from governance.service_requests import RequestActions
from governance.storage.base import Transaction
from governance.workflow import check_transition


class _ChangedError(Exception):
    """The request changed between the checks and the commit of its release."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class ReleaseActions(RequestActions):
    """Exporting approved requests as signed releases."""

    def export_release(
        self,
        caller: Caller,
        request_id: int,
        directory: Path | None = None,
        *,
        extra_files: dict[str, bytes] | None = None,
    ) -> ReleaseRecord:
        """Recompute, re-check and write the approved tables as a signed release.

        ``directory`` is a new directory for the release; by default one named after
        the release in the release directory (``WRESGOV_RELEASE_DIR``).

        The tables are counted and cleared again; if anything changed since the
        approvals (new data, a new policy), the request goes back to ``checked``
        with its approvals reset, and nothing is written. The release is then
        rendered and written beside ``directory`` without holding the request's
        lock; the request is locked, checked again (still approved by the same
        standing officers, on the same tables), the release recorded, and the
        directory moved into place just before the commit, holding an
        ``UNCOMMITTED`` marker removed after it. A failure anywhere leaves the
        store and ``directory`` as they were.

        Raises:
            AccessDeniedError: not the requester, or a revoked release.
            InvalidTransitionError: the request is not approved, or too few of its
                approvals stand.
            DisclosureError: the recomputed tables differ from the approved ones,
                or the request changed while the release was written.
            ConflictError: ``directory`` exists and is not empty.
            ReleaseError: the release was recorded but its ``UNCOMMITTED`` marker
                could not be removed (the directory fails verification until it is).
        """
        key = self.signing_key("release")
        policy = self.release_policy()
        try:
            with self.store.transaction() as tx:
                record = self._load(tx, request_id)
                view = self._view(tx, record)
                check_transition(view, "release", caller, policy=policy)
                outcome = self._clear(tx, self._specs(record), record, approved=True)
        except (AccessDeniedError, InvalidTransitionError) as exc:
            self._record_refusal(
                caller, "release.export", "release.export", request_id, exc
            )
            raise
        if outcome.cleared is None or outcome.digest != record.cleared_digest:
            self._run_checks(request_id, "recheck")
            raise DisclosureError(
                f"request {request_id}: the tables changed since they were approved "
                "(new data or policy); it was checked again and needs new approvals"
            )
        created = self._clock()
        release_id = f"R{request_id}-{created:%Y%m%dT%H%M%SZ}"
        if directory is None:
            directory = self.settings.resolved_release_dir / release_id
        info = ReleaseInfo(
            release_id=release_id,
            request_id=str(request_id),
            purpose=record.purpose,
            requester=record.requester,
            approvals=tuple(
                Approval(p, at) for p, at in record.approvals if p in view.approvals
            ),
            # the chain as the release is written: every later entry, this
            # release's own included, extends it
            audit_head=self.store.read_audit_head(),
            created=created,
            title=f"WRES tables for {record.body or 'all Wales'}, {record.period}",
            policy_files={
                "release": policy.sha256,
                "access": self.access_policy().sha256,
            },
        )
        staging = stage_release(directory)
        moved = False
        try:
            manifest = self._write_release(
                staging, record, outcome.cleared, info, key, extra_files
            )
            # fails verification until the commit: a process killed after the move
            # leaves no valid release that the store does not list
            mark_uncommitted(staging)
            with self.store.transaction() as tx:
                current = self._load(tx, request_id)
                self._check_unchanged(tx, current, outcome, info)
                record = self._step(tx, current, "release", caller)
                release = ReleaseRecord(
                    release_id,
                    request_id,
                    str(directory),
                    manifest.manifest_sha256,
                    created,
                    None,
                )
                tx.add_release(release)
                self._record_step(
                    tx, caller, "release.export", "release.export", record,
                    current.state, artefact=release_id,
                )  # fmt: skip
                move_release(staging, directory)  # the last step before the commit
                moved = True
        except (AccessDeniedError, InvalidTransitionError) as exc:
            shutil.rmtree(staging, ignore_errors=True)
            self._record_refusal(
                caller, "release.export", "release.export", request_id, exc
            )
            raise
        except _ChangedError as exc:
            shutil.rmtree(staging, ignore_errors=True)
            self._record_failure(
                self._who(caller, "release.export", record.body), "release.export",
                outcome="error", resource=f"request:{request_id}", body=record.body,
                detail={"permission": "release.export", "reason": exc.reason},
            )  # fmt: skip
            raise DisclosureError(str(exc)) from None
        except BaseException:
            # the store rolled back: the release must not outlive it
            shutil.rmtree(directory if moved else staging, ignore_errors=True)
            raise
        try:
            settle_release(directory)
        except OSError as exc:
            self._checkpoint(SYSTEM_ACTOR)
            raise ReleaseError(
                f"release {release_id} is recorded, but {directory} still holds"
                f" UNCOMMITTED ({exc.strerror or 'not removed'}): delete that file,"
                " then verify the release"
            ) from None
        self._checkpoint(SYSTEM_ACTOR)
        return release

    def _check_unchanged(
        self,
        tx: Transaction,
        current: RequestRecord,
        outcome: CheckOutcome,
        info: ReleaseInfo,
    ) -> None:
        """Under the lock: the request is still the one whose release was written.

        Raises:
            _ChangedError: its checked tables (the digest the officers approved)
                changed meanwhile, or the approvals the manifest lists (officer and
                time) are no longer all recorded and standing.
        """
        where = f"request {current.id}: changed while the release was written"
        if current.cleared_digest != outcome.digest:
            raise _ChangedError(
                f"{where} (its tables were checked again); nothing was released,"
                " export it again",
                "tables_changed",
            )
        standing = set(self._view(tx, current).approvals)
        # The same approvals, not only the same officers: after a reset and fresh
        # approvals the manifest's record of who approved when would be wrong.
        listed = {(a.principal, a.at) for a in info.approvals}
        if (
            not listed <= set(current.approvals)
            or not {principal for principal, _ in listed} <= standing
        ):
            raise _ChangedError(
                f"{where} (an approval lapsed); nothing was released, export it again",
                "approvals_changed",
            )

    def _write_release(
        self,
        staging: Path,
        record: RequestRecord,
        cleared: Cleared,
        info: ReleaseInfo,
        key: SigningKey,
        extra_files: dict[str, bytes] | None,
    ) -> ReleaseManifest:
        """Render the release (a named pack's reports and sheets too) and write it
        into ``staging``; holds no lock."""
        disclosure = self.disclosure_policy(record.policy_id)
        files = dict(extra_files or {})
        sheets: list[IndicatorSheet] = []
        catalogue = (
            None
            if record.pack is None
            else pack_catalogue(load_catalogue(), [t.name for t in cleared.tables])
        )
        if catalogue is not None:
            # a one-body pack's totals are the body: its only scope
            scopes = None if record.body is None else [record.body]
            files.update(
                render_reports(
                    cleared,
                    catalogue,
                    disclosure,
                    title=f"NHS Wales Workforce Race Equality Standard {record.period}",
                    period=record.period,
                    released=info.created.date(),
                    scopes=scopes,
                )
            )
            sheets = indicator_sheets(cleared, catalogue, disclosure, scopes=scopes)
        return write_release(
            staging,
            cleared=cleared,
            info=info,
            policy=disclosure,
            signing_key=key,
            extra_files=files,
            indicator_sheets=sheets,
            staged=True,
        )


__all__ = ["ReleaseActions"]
