"""Requests: the workflow from a stated purpose to approved, cleared tables.

An analyst drafts a request (table specifications or a named pack, a purpose, a
period and optionally one body), submits it, and the service runs the automated
checks at once: the store computes the counts (``GROUP BY``), the disclosure engine
protects every linked set and audits it, and the request moves to ``checked`` with
the evidence attached (``pass``, ``needs_review`` or ``fail``). IG officers who are
not the requester approve (as many as ``policies/release.yaml`` requires); the
service concludes; the requester exports the release
(``governance.service_releases``). Every transition is the workflow table's
(``governance.workflow``); every step is audited in its transaction.

Raw counts exist only inside the checks (``governance.request_checks``): they go
from the store straight into the engine, and only cleared tables and evidence
(never a hidden value) come out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from pydantic import TypeAdapter

from audit import DetailValue, has_control
from governance.access import Subject as Caller
from governance.errors import (
    AccessDeniedError,
    InvalidTransitionError,
    NotFoundError,
    PolicyError,
    TableError,
)
from governance.indicators import load_catalogue
from governance.models import SYSTEM as SYSTEM_ACTOR
from governance.models import (
    Actor,
    RequestRecord,
    RequestSummary,
)
from governance.release_policy import ReleasePolicy, load_release_policy
from governance.request_checks import CheckOutcome, Evidence, clear_request
from governance.request_info import RequestInfo, recorded_view
from governance.sdc.policy import Policy, load_policy
from governance.service_audit import AuditActions
from governance.storage.base import Transaction
from governance.tablespec import TableSpec
from governance.workflow import (
    SYSTEM,
    Action,
    RequestView,
    apply_transition,
    check_can_read_request,
    check_create,
    quorum_reached,
)

DEFAULT_POLICY = "wres-wales"
_SPECS = TypeAdapter(list[TableSpec])
#: The states in which a request's approvals count towards its release.
_AWAITING_RELEASE = frozenset({"checked", "approved"})


class RequestActions(AuditActions):
    """The release workflow for requests, and the releases they produce."""

    # -- helpers ----------------------------------------------------------------------

    def release_policy(self) -> ReleasePolicy:
        return load_release_policy(self.policy_dir())

    def disclosure_policy(self, policy_id: str = DEFAULT_POLICY) -> Policy:
        """Load a disclosure policy for the catalogue's tables.

        Raises:
            PolicyError: no such policy, or its ``zeros_by_table`` names a table the
                catalogue does not have (a misspelt name would silently leave that
                table under the default zeros rule).
        """
        policy = load_policy(policy_id, policy_dir=self.policy_dir())
        known = {spec.name for spec in load_catalogue().tables}
        for name in sorted(policy.disclosure.primary.zeros_by_table):
            if name not in known:
                raise PolicyError(
                    f"policy {policy_id}: disclosure.primary.zeros_by_table names"
                    f" {name!r}, which is not a table of the catalogue"
                )
        return policy

    def _load(self, tx: Transaction, request_id: int) -> RequestRecord:
        record = tx.request(request_id, for_update=True)
        if record is None:
            raise NotFoundError(f"no request {request_id}")
        return record

    def _view(
        self,
        tx: Transaction,
        request: RequestRecord | RequestSummary,
        officers: dict[str, Caller | None] | None = None,
    ) -> RequestView:
        """What the workflow knows of a request, with its *standing* approvals only.

        Every consumer builds its view here (show, list, approve and conclude,
        release, release reads), so all of them count the same approvals. An
        approval stands while its officer still holds ``request.review`` for the
        request's body: one whose grant has since been revoked, expired or moved to
        another body, or who has been deactivated, is left out of the view; it
        stays in the record and the audit log (``RequestInfo.lapsed``).
        Approvals decide something only while the request awaits its release
        (``checked``, ``approved``); afterwards they are history (a release's
        manifest lists those it was made on), and are all kept in the view.
        ``officers`` caches the officers looked up, across the views of one call.
        """
        view = recorded_view(request)
        if request.state not in _AWAITING_RELEASE:
            return view
        standing = self._standing(tx, view.approvals, request.body, officers)
        return replace(view, approvals=standing)

    def _standing(
        self,
        tx: Transaction,
        approvers: tuple[str, ...],
        body: str | None,
        officers: dict[str, Caller | None] | None,
    ) -> tuple[str, ...]:
        """The approvers who may still review a request for ``body``."""
        cache = {} if officers is None else officers
        for approver in approvers:
            if approver not in cache:
                principal = tx.principal(approver)
                cache[approver] = None if principal is None else Caller(
                    principal,
                    tuple(tx.grants_of(approver)),
                    self.access_policy(),
                    self._clock(),
                )  # fmt: skip
        return tuple(
            approver
            for approver in approvers
            if (officer := cache[approver]) is not None
            and officer.decide("request.review", body=body).allowed
        )

    def _step(
        self,
        tx: Transaction,
        record: RequestRecord,
        action: Action,
        performer: Caller | None,
        *,
        evidence: Evidence | None = None,
    ) -> RequestRecord:
        """Apply one workflow transition and return the record after it.

        The workflow sees the standing approvals only; the record keeps every
        approval (lapsed ones too) until an effect resets them.
        """
        new_view, step = apply_transition(
            self._view(tx, record),
            action,
            performer if performer is not None else SYSTEM,
            policy=self.release_policy(),
            evidence=evidence,
        )
        now = self._clock()
        approvals = record.approvals
        effects = step.transition.rule.effects
        if "reset_approvals" in effects:
            approvals = ()
        if "record_approval" in effects:
            approvals = (*approvals, (new_view.approvals[-1], now))
        updated = replace(
            record,
            state=new_view.state,
            approvals=approvals,
            evidence=new_view.evidence,
            updated_at=now,
        )
        tx.save_request(updated)
        return updated

    def _who(self, caller: Caller, permission: str, body: str | None) -> Actor:
        decision = caller.decide(permission, body=body)
        return Actor(caller.id, decision.role or "none", body)

    def _transition(
        self,
        caller: Caller,
        request_id: int,
        action: Action,
        permission: str,
        audit_action: str,
    ) -> RequestInfo:
        """Authorise and apply ``action``; a refusal is audited before it propagates."""
        try:
            with self.store.transaction() as tx:
                record = self._load(tx, request_id)
                before = record.state
                record = self._step(tx, record, action, caller)
                if action == "approve" and quorum_reached(
                    self._view(tx, record), self.release_policy()
                ):
                    record = self._step(tx, record, "conclude", None)
                if action == "revoke":
                    tx.revoke_releases(record.id, self._clock())
                self._record_step(tx, caller, permission, audit_action, record, before)
                return self._info(tx, record)
        except (AccessDeniedError, InvalidTransitionError) as exc:
            self._record_refusal(caller, permission, audit_action, request_id, exc)
            raise

    def _record_step(
        self,
        tx: Transaction,
        caller: Caller | None,
        permission: str,
        audit_action: str,
        record: RequestRecord,
        before: str,
        **detail: DetailValue,
    ) -> None:
        who = (
            SYSTEM_ACTOR
            if caller is None
            else self._who(caller, permission, record.body)
        )
        standing = len(self._view(tx, record).approvals)
        lapsed = len(record.approvals) - standing
        self._record(
            tx,
            who,
            audit_action,
            resource=f"request:{record.id}",
            body=record.body,
            purpose=record.purpose,
            result_digest=record.cleared_digest,
            detail={
                "from_state": before,
                "to_state": record.state,
                "approvals": standing,
                **({"approvals_lapsed": lapsed} if lapsed else {}),
                **detail,
            },
        )

    def _record_refusal(
        self,
        caller: Caller,
        permission: str,
        audit_action: str,
        request_id: int,
        exc: AccessDeniedError | InvalidTransitionError,
    ) -> None:
        # A workflow refusal (wrong state, failed guard) is not an access denial:
        # it is recorded as an error, so denial counts and flags stay about access.
        denied = isinstance(exc, AccessDeniedError)
        reason = getattr(exc, "reason", None) or "invalid_transition"
        self._record_failure(
            self._who(caller, permission, None),
            audit_action,
            outcome="deny" if denied else "error",
            resource=f"request:{request_id}",
            detail={"permission": permission, "reason": reason},
        )

    def _info(
        self,
        tx: Transaction,
        record: RequestRecord,
        officers: dict[str, Caller | None] | None = None,
    ) -> RequestInfo:
        return RequestInfo(
            record,
            tuple(_SPECS.validate_json(record.tables)),
            tuple(tx.releases_of(record.id)),
            self._view(tx, record, officers).approvals,
        )

    # -- the requester's actions ---------------------------------------------------------

    def create_request(
        self,
        caller: Caller,
        *,
        purpose: str,
        period: int,
        tables: Sequence[TableSpec],
        body: str | None = None,
        pack: str | None = None,
        policy_id: str = DEFAULT_POLICY,
    ) -> RequestInfo:
        """Draft a request for cleared tables, stating its purpose.

        Raises:
            AccessDeniedError: the caller may not request for ``body``.
            TableError: no tables, or a purpose that is too short or too long or
                holds a control character.
        """
        purpose = " ".join(purpose.split())
        if not 10 <= len(purpose) <= 500:
            raise TableError("the purpose must be 10 to 500 characters")
        if has_control(purpose):  # it goes on every audit entry of the request
            raise TableError("the purpose must not hold control characters")
        if not tables:
            raise TableError("a request names at least one table or a pack")
        body = body.upper() if body else None
        try:
            check_create(caller, body=body)
        except AccessDeniedError as exc:
            self._record_refusal(caller, "request.create", "request.create", 0, exc)
            raise
        self.disclosure_policy(policy_id)  # an unknown policy is refused now
        now = self._clock()
        with self.store.transaction() as tx:
            record = RequestRecord(
                id=0,
                requester=caller.id,
                purpose=purpose,
                body=body,
                period=period,
                pack=pack,
                tables=_SPECS.dump_json(list(tables)).decode(),
                policy_id=policy_id,
                state="draft",
                approvals=(),
                evidence=None,
                evidence_json=None,
                cleared_digest=None,
                created_at=now,
                updated_at=now,
            )
            record = replace(record, id=tx.add_request(record))
            self._record_step(
                tx, caller, "request.create", "request.create", record, "-",
                period=period, tables=len(tables),
            )  # fmt: skip
            return self._info(tx, record)

    def submit_request(self, caller: Caller, request_id: int) -> RequestInfo:
        """Submit a request; the automated checks run at once and attach evidence."""
        self._transition(
            caller, request_id, "submit", "request.submit", "request.submit"
        )
        return self._run_checks(request_id, "check")

    def _run_checks(self, request_id: int, action: Action) -> RequestInfo:
        with self.store.transaction() as tx:
            record = self._load(tx, request_id)
            before = record.state
            outcome = self._clear(tx, self._specs(record), record)
            record = replace(
                record,
                evidence_json=outcome.evidence_json,
                cleared_digest=outcome.digest,
            )
            record = self._step(tx, record, action, None, evidence=outcome.evidence)
            self._record_step(
                tx, None, "check.run", "request.check", record, before,
                outcome=outcome.evidence,
            )  # fmt: skip
            return self._info(tx, record)

    def withdraw_request(self, caller: Caller, request_id: int) -> RequestInfo:
        return self._transition(
            caller, request_id, "withdraw", "request.withdraw", "request.withdraw"
        )

    # -- the reviewers' actions --------------------------------------------------------

    def approve_request(self, caller: Caller, request_id: int) -> RequestInfo:
        """Record one IG officer's approval; concludes when the quorum is reached."""
        return self._transition(
            caller, request_id, "approve", "request.review", "request.approve"
        )

    def reject_request(self, caller: Caller, request_id: int) -> RequestInfo:
        return self._transition(
            caller, request_id, "reject", "request.review", "request.reject"
        )

    def return_request(self, caller: Caller, request_id: int) -> RequestInfo:
        return self._transition(
            caller, request_id, "return", "request.review", "request.return"
        )

    def revoke_release(self, caller: Caller, request_id: int) -> RequestInfo:
        """Revoke a released request: its release can no longer be exported."""
        return self._transition(
            caller, request_id, "revoke", "release.revoke", "release.revoke"
        )

    # -- reading -------------------------------------------------------------------------

    def show_request(self, caller: Caller, request_id: int) -> RequestInfo:
        """A request and its evidence: for its requester and for reviewers."""
        with self.store.transaction() as tx:
            record = self._load(tx, request_id)
            view = self._view(tx, record)
        try:
            decision = check_can_read_request(view, caller)
        except AccessDeniedError as exc:
            self._record_refusal(
                caller, "request.read_own", "request.read", request_id, exc
            )
            raise
        with self.store.transaction() as tx:
            self._record(
                tx,
                Actor(caller.id, decision.role or "none", record.body),
                "request.read",
                resource=f"request:{request_id}",
                body=record.body,
            )
            return self._info(tx, record)

    def list_requests(self, caller: Caller) -> list[RequestInfo]:
        """Every request for reviewers; one's own for requesters."""
        reviewer = caller.decide("request.read_any", body=None)
        own = caller.decide("request.read_own", body=None)
        if not (reviewer.allowed or own.allowed):
            self._authorise(caller, "request.read_own", action="request.list")
        with self.store.transaction() as tx:
            found = tx.requests(requester=None if reviewer.allowed else caller.id)
            self._record(
                tx,
                Actor(
                    caller.id, (reviewer if reviewer.allowed else own).role or "none"
                ),
                "request.list",
                resource="requests",
                detail={"count": len(found)},
            )
            officers: dict[str, Caller | None] = {}
            return [self._info(tx, record, officers) for record in found]

    @staticmethod
    def _specs(record: RequestRecord) -> list[TableSpec]:
        return _SPECS.validate_json(record.tables)

    # -- the engine ---------------------------------------------------------------------

    def _clear(
        self,
        tx: Transaction,
        specs: Sequence[TableSpec],
        record: RequestRecord,
        *,
        approved: bool = False,
    ) -> CheckOutcome:
        """The checks of ``record`` (:func:`governance.request_checks.clear_request`)
        under its disclosure policy."""
        policy = self.disclosure_policy(record.policy_id)
        return clear_request(tx, specs, record, policy, approved=approved)


__all__ = ["RequestActions", "RequestInfo", "recorded_view"]
