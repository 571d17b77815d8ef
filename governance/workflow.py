"""The release workflow: an explicit transition table, its guards, and its diagram.

Owns the request states, the actions that move a request between them
(:data:`TRANSITIONS`), who may perform each action and with which permission
(:data:`ACTION_RULES`), the guards and effects of each action as data, and the
functions that apply them to a :class:`RequestView`. ``docs/release-workflow.md``
shows the diagram generated from the table by :func:`render_state_diagram`; a test
fails when the page is stale.

The rules, after OpenSAFELY's airlock (``VALID_STATE_TRANSITIONS``, ``STATUS_OWNERS``):

- every action has one performer: the ``requester``, a ``reviewer`` (never the
  requester, whatever roles they hold: object-level separation of duties) or the
  ``system`` (the service itself, or a principal holding the action's permission);
- an IG officer's ``approve`` records one approval; the system's ``conclude`` moves
  the request to ``approved`` only when the policy's number of distinct approvals,
  none by the requester, is reached, and ``release`` checks that again. The
  approvals in a :class:`RequestView` are the *standing* ones (the caller leaves
  out those whose officers may no longer review the request), so an approved
  request whose approvals lapsed cannot be released until an officer approves it
  again (``approve`` from ``approved``) or the lapsed officer's grant is restored;
- every change after checking (``amend``, ``return``, ``recheck``) resets approvals;
- a failed check can never be approved; ``revoke`` only from ``released``.

Authorisation is checked before the state, so a caller without the permission learns
nothing about the request's state from the error. Pure: values in, values out; the
caller stores the new view and audits the step. Never prints, logs or reads a clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Final, Literal, TypeAlias, get_args

from governance.access import Decision, Subject, check, check_not_requester
from governance.access_policy import Permission
from governance.errors import AccessDeniedError, InvalidTransitionError
from governance.release_policy import Evidence, ReleasePolicy

State: TypeAlias = Literal[
    "draft",
    "submitted",
    "checked",
    "approved",
    "released",
    "returned",
    "rejected",
    "withdrawn",
    "revoked",
]
Action: TypeAlias = Literal[
    "amend",
    "submit",
    "check",
    "approve",
    "conclude",
    "return",
    "reject",
    "recheck",
    "withdraw",
    "release",
    "revoke",
]
Performer: TypeAlias = Literal["requester", "reviewer", "system"]
Guard: TypeAlias = Literal["evidence_approvable", "distinct_approver", "quorum"]
Effect: TypeAlias = Literal[
    "record_approval", "reset_approvals", "set_evidence", "clear_evidence"
]

STATES: Final[tuple[State, ...]] = get_args(State)
ACTIONS: Final[tuple[Action, ...]] = get_args(Action)
INITIAL_STATE: Final[State] = "draft"
CREATE_PERMISSION: Final[Permission] = "request.create"
TERMINAL_STATES: Final[frozenset[State]] = frozenset(
    {"rejected", "withdrawn", "revoked"}
)


@dataclass(frozen=True)
class ActionRule:
    """Who performs an action, with which permission, under which guards."""

    action: Action
    performer: Performer
    permission: Permission | None
    """``None``: only the service itself (:data:`SYSTEM`) performs it."""
    guards: tuple[Guard, ...]
    effects: tuple[Effect, ...]
    description: str


def _rules(*rules: ActionRule) -> Mapping[Action, ActionRule]:
    return MappingProxyType({rule.action: rule for rule in rules})


_RESET: Final[tuple[Effect, ...]] = ("reset_approvals",)
_ENOUGH: Final[tuple[Guard, ...]] = ("evidence_approvable", "quorum")

ACTION_RULES: Final = _rules(
    ActionRule("amend", "requester", "request.create", (), (*_RESET, "clear_evidence"),
               "change the request; back to draft if it was past it"),
    ActionRule("submit", "requester", "request.submit", (), (),
               "send the request for the automated checks"),
    ActionRule("check", "system", "check.run", (), ("set_evidence", *_RESET),
               "attach the engine's evidence: pass, fail or needs_review"),
    ActionRule("approve", "reviewer", "request.review",
               ("evidence_approvable", "distinct_approver"), ("record_approval",),
               "record one IG officer's approval, having seen the evidence"),
    ActionRule("conclude", "system", None, _ENOUGH, (),
               "mark approved once enough distinct approvals are recorded"),
    ActionRule("return", "reviewer", "request.review", (), _RESET,
               "send back to the requester for changes"),
    ActionRule("reject", "reviewer", "request.review", (), (),
               "refuse the request for good"),
    ActionRule("recheck", "system", "check.run", (), ("set_evidence", *_RESET),
               "re-run the checks after the data or the policy changed"),
    ActionRule("withdraw", "requester", "request.withdraw", (), (),
               "the requester abandons the request"),
    ActionRule("release", "requester", "release.export", _ENOUGH, (),
               "publish the approved tables as a signed release"),
    ActionRule("revoke", "reviewer", "release.revoke", (), (),
               "withdraw a release; it can no longer be read or exported"),
)  # fmt: skip


@dataclass(frozen=True)
class Transition:
    """One row of the transition table."""

    source: State
    action: Action
    target: State

    @property
    def rule(self) -> ActionRule:
        return ACTION_RULES[self.action]


def _table(*rows: tuple[State, Action, State]) -> tuple[Transition, ...]:
    return tuple(Transition(*row) for row in rows)


#: Every allowed move. Anything not listed is refused.
TRANSITIONS: Final = _table(
    ("draft", "amend", "draft"),
    ("draft", "submit", "submitted"),
    ("draft", "withdraw", "withdrawn"),
    ("submitted", "check", "checked"),
    ("submitted", "amend", "draft"),
    ("submitted", "withdraw", "withdrawn"),
    ("checked", "approve", "checked"),
    ("checked", "conclude", "approved"),
    ("checked", "return", "returned"),
    ("checked", "reject", "rejected"),
    ("checked", "recheck", "checked"),
    ("checked", "amend", "draft"),
    ("checked", "withdraw", "withdrawn"),
    ("approved", "approve", "approved"),
    ("approved", "release", "released"),
    ("approved", "return", "returned"),
    ("approved", "reject", "rejected"),
    ("approved", "recheck", "checked"),
    ("approved", "amend", "draft"),
    ("approved", "withdraw", "withdrawn"),
    ("returned", "amend", "returned"),
    ("returned", "submit", "submitted"),
    ("returned", "withdraw", "withdrawn"),
    ("released", "revoke", "revoked"),
)
_BY_KEY: Final[Mapping[tuple[State, Action], Transition]] = MappingProxyType(
    {(t.source, t.action): t for t in TRANSITIONS}
)


@dataclass(frozen=True)
class SystemActor:
    """The service acting on its own account, e.g. running the checks after submit.

    Its id is that of :data:`governance.models.SYSTEM`, the principal the audit log
    records for the service's own actions.
    """

    id: str = "wresgov"


SYSTEM: Final = SystemActor()


@dataclass(frozen=True)
class RequestView:
    """What the workflow needs to know about a request."""

    id: int | str
    requester_id: str
    state: State
    body: str | None
    """The body whose data the request covers; ``None`` means all Wales."""
    approvals: tuple[str, ...] = ()
    """Principal ids of the standing approvals recorded since the last reset, in
    order: those whose officers still hold the ``approve`` permission for the
    request's body (the service builds the view; lapsed approvals are left out)."""
    evidence: Evidence | None = None


@dataclass(frozen=True)
class Step:
    """An authorised transition, with the access decision to audit (``None`` when
    the system performed it)."""

    transition: Transition
    decision: Decision | None


def next_state(current: State, action: Action) -> State:
    """The state ``action`` leads to from ``current``, by the table alone.

    Raises:
        InvalidTransitionError: the table has no such move.
    """
    transition = _BY_KEY.get((current, action))
    if transition is None:
        raise InvalidTransitionError(_not_from(action, current))
    return transition.target


def allowed_actions(state: State) -> tuple[Action, ...]:
    """The actions the table allows from ``state``, in table order."""
    return tuple(t.action for t in TRANSITIONS if t.source == state)


def approvals_counted(view: RequestView) -> int:
    """Distinct approvers other than the requester: what the quorum counts."""
    return len(set(view.approvals) - {view.requester_id})


def quorum_reached(view: RequestView, policy: ReleasePolicy) -> bool:
    """Whether ``conclude`` could move this request to ``approved``."""
    return (
        view.state == "checked"
        and view.evidence in policy.approvable_evidence
        and approvals_counted(view) >= policy.approvals_required
    )


def _not_from(action: str, state: str) -> str:
    sources = sorted({t.source for t in TRANSITIONS if t.action == action})
    return (
        f"cannot {action} a request that is {state}"
        f" ({action} is possible from: {', '.join(sources)})"
    )


def _authorise(
    rule: ActionRule, view: RequestView, actor: Subject | SystemActor
) -> Decision | None:
    if isinstance(actor, SystemActor):
        if rule.performer != "system":
            raise AccessDeniedError(
                f"access denied: {rule.action}: not_for_system (a person must act)",
                permission=rule.permission,
                reason="not_for_system",
            )
        return None
    if rule.permission is None:
        raise AccessDeniedError(
            f"access denied: {rule.action}: system_only (the service does this)",
            permission=None,
            reason="system_only",
        )
    decision = check(actor, rule.permission, body=view.body)
    if rule.performer == "requester" and actor.id != view.requester_id:
        raise AccessDeniedError(
            f"access denied: {rule.action}: not_requester (only the requester may)",
            permission=rule.permission,
            reason="not_requester",
        )
    if rule.performer == "reviewer":
        check_not_requester(actor.id, view.requester_id, action=rule.permission)
    return decision


def _check_guards(
    rule: ActionRule,
    view: RequestView,
    actor: Subject | SystemActor,
    policy: ReleasePolicy,
) -> None:
    where = f"request {view.id}: cannot {rule.action}"
    for guard in rule.guards:
        if guard == "evidence_approvable" and (
            view.evidence not in policy.approvable_evidence
        ):
            raise InvalidTransitionError(
                f"{where}: the checks' outcome {view.evidence or 'none'} is not"
                f" approvable under {policy.source}"
            )
        if guard == "distinct_approver" and actor.id in view.approvals:
            raise InvalidTransitionError(f"{where}: already approved by this principal")
        if guard == "quorum" and approvals_counted(view) < policy.approvals_required:
            raise InvalidTransitionError(
                f"{where}: {approvals_counted(view)} of"
                f" {policy.approvals_required} approvals from distinct IG officers"
                " other than the requester"
            )


def check_transition(
    view: RequestView,
    action: Action,
    actor: Subject | SystemActor,
    *,
    policy: ReleasePolicy,
) -> Step:
    """Authorise ``actor`` to perform ``action`` on the request, then check the move.

    Raises:
        AccessDeniedError: the actor lacks the action's permission for the request's
            body, is not the requester of a requester's action, is the requester of
            a reviewer's action, or is a person attempting a system-only action.
        InvalidTransitionError: the table has no such move from the current state,
            or a guard fails (evidence not approvable, a second approval by the same
            principal, too few approvals).
    """
    rule = ACTION_RULES.get(action)
    if rule is None:
        raise InvalidTransitionError(f"request {view.id}: unknown action {action!r}")
    decision = _authorise(rule, view, actor)
    transition = _BY_KEY.get((view.state, action))
    if transition is None:
        raise InvalidTransitionError(
            f"request {view.id}: {_not_from(action, view.state)}"
        )
    _check_guards(rule, view, actor, policy)
    return Step(transition, decision)


def can_transition(
    view: RequestView,
    action: Action,
    actor: Subject | SystemActor,
    *,
    policy: ReleasePolicy,
) -> bool:
    """Whether :func:`check_transition` would pass."""
    try:
        check_transition(view, action, actor, policy=policy)
    except (AccessDeniedError, InvalidTransitionError):
        return False
    return True


def available_actions(
    view: RequestView, actor: Subject | SystemActor, *, policy: ReleasePolicy
) -> tuple[Action, ...]:
    """The actions ``actor`` could take on the request now (for ``request show``)."""
    return tuple(
        action
        for action in allowed_actions(view.state)
        if can_transition(view, action, actor, policy=policy)
    )


def apply_transition(
    view: RequestView,
    action: Action,
    actor: Subject | SystemActor,
    *,
    policy: ReleasePolicy,
    evidence: Evidence | None = None,
) -> tuple[RequestView, Step]:
    """Check the move (:func:`check_transition`) and return the request after it.

    ``evidence`` is the engine's outcome, required for ``check`` and ``recheck``
    and refused for every other action.

    Raises:
        AccessDeniedError: as :func:`check_transition`.
        InvalidTransitionError: as :func:`check_transition`.
    """
    step = check_transition(view, action, actor, policy=policy)
    effects = step.transition.rule.effects
    if ("set_evidence" in effects) != (evidence is not None):
        raise ValueError(
            f"{action} {'needs' if evidence is None else 'takes no'} evidence"
        )
    approvals, new_evidence = view.approvals, view.evidence
    if "reset_approvals" in effects:
        approvals = ()
    if "clear_evidence" in effects:
        new_evidence = None
    if "set_evidence" in effects:
        new_evidence = evidence
    if "record_approval" in effects:
        approvals = (*approvals, actor.id)
    after = replace(
        view, state=step.transition.target, approvals=approvals, evidence=new_evidence
    )
    return after, step


def check_create(actor: Subject, *, body: str | None) -> Decision:
    """Authorise ``actor`` to create a request (in :data:`INITIAL_STATE`) for ``body``.

    Raises:
        AccessDeniedError: no ``request.create`` for that body.
    """
    return check(actor, CREATE_PERMISSION, body=body)


def check_can_read_request(view: RequestView, actor: Subject) -> Decision:
    """Authorise reading a request and its evidence: one's own, or as a reviewer.

    Raises:
        AccessDeniedError: neither ``request.read_own`` as the requester nor
            ``request.read_any`` for the request's body.
    """
    if actor.id == view.requester_id:
        own = actor.decide("request.read_own", body=view.body)
        if own.allowed:
            return own
    return check(actor, "request.read_any", body=view.body)


def check_release_access(view: RequestView, actor: Subject) -> Decision:
    """Authorise reading a request's release (``release.read``).

    Only a ``released`` request has a release to read: a revoked one is refused.
    A release is written once (``release export`` on an approved request); there
    is no exporting it again.

    Raises:
        AccessDeniedError: not released (``not_released``), or no permission for
            the body.
    """
    permission = "release.read"
    decision = check(actor, permission, body=view.body)
    if view.state != "released":
        raise AccessDeniedError(
            f"access denied: {permission}: not_released (request {view.id} has no"
            " release that can be used)",
            permission=permission,
            reason="not_released",
        )
    return decision


def render_state_diagram() -> str:
    """The state diagram as Mermaid ``stateDiagram-v2``, generated from the table."""
    lines = ["stateDiagram-v2", f"    [*] --> {INITIAL_STATE}: create (requester)"]
    for t in TRANSITIONS:
        lines.append(f"    {t.source} --> {t.target}: {t.action} ({t.rule.performer})")
    lines.extend(f"    {state} --> [*]" for state in STATES if state in TERMINAL_STATES)
    return "\n".join(lines) + "\n"


def render_transition_table() -> str:
    """The transition table as Markdown, generated from the table."""
    lines = [
        "| from | action | to | performer | permission | guards | effects |",
        "|---|---|---|---|---|---|---|",
    ]
    for t in TRANSITIONS:
        rule = t.rule
        cells = [
            f"`{t.source}`",
            f"`{t.action}`",
            f"`{t.target}`",
            rule.performer,
            f"`{rule.permission}`" if rule.permission else "(system only)",
            ", ".join(rule.guards) or "",
            ", ".join(rule.effects) or "",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
