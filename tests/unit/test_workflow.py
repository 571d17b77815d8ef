"""The release workflow: every transition, every non-transition, guards and effects."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from governance.access import Subject
from governance.errors import AccessDeniedError, InvalidTransitionError, PolicyError
from governance.release_policy import Evidence, load_release_policy
from governance.workflow import (
    ACTION_RULES,
    ACTIONS,
    INITIAL_STATE,
    STATES,
    SYSTEM,
    TERMINAL_STATES,
    TRANSITIONS,
    Action,
    RequestView,
    State,
    SystemActor,
    Transition,
    allowed_actions,
    apply_transition,
    approvals_counted,
    available_actions,
    can_transition,
    check_can_read_request,
    check_create,
    check_release_access,
    check_transition,
    next_state,
    quorum_reached,
)
from tests.access_support import (
    NOW,
    OTHER_BODY,
    OWN_BODY,
    make_actor,
    make_grant,
    release_policy,
)

POLICY = release_policy(approvals=2)
REQUESTER = make_actor("analyst-1", "analyst")
OFFICER_A = make_actor("ig-a", "ig_officer")
OFFICER_B = make_actor("ig-b", "ig_officer")
OFFICER_C = make_actor("ig-c", "ig_officer")
PUBLISHER = make_actor("checker", "publisher")
# Holds both roles: may request, may review others' requests, never their own.
DUAL = make_actor("dual-1", "analyst", "ig_officer")

TABLE_KEYS = {(t.source, t.action) for t in TRANSITIONS}


def view(state: State, **changes: object) -> RequestView:
    base = RequestView(id=42, requester_id=REQUESTER.id, state=state, body=OWN_BODY)
    return replace(base, **changes)  # type: ignore[arg-type]  # test overrides


def ready(state: State, action: Action) -> RequestView:
    """A request in ``state`` that meets every guard of ``action``."""
    approvals: tuple[str, ...] = ()
    if "quorum" in ACTION_RULES[action].guards or state == "approved":
        approvals = (OFFICER_A.id, OFFICER_B.id)
    return view(state, approvals=approvals, evidence="pass")


def actor_for(action: Action) -> Subject | SystemActor:
    performer = ACTION_RULES[action].performer
    if performer == "requester":
        return REQUESTER
    if performer == "reviewer":
        return OFFICER_C
    return SYSTEM


def evidence_for(action: Action) -> Evidence | None:
    return "needs_review" if "set_evidence" in ACTION_RULES[action].effects else None


# -- the table ----------------------------------------------------------------------


def test_table_is_well_formed() -> None:
    assert len(TABLE_KEYS) == len(TRANSITIONS), "one target per (state, action)"
    assert {t.action for t in TRANSITIONS} == set(ACTIONS) == set(ACTION_RULES)
    assert all(rule.action == action for action, rule in ACTION_RULES.items())
    for state in TERMINAL_STATES:
        assert allowed_actions(state) == ()
    assert {t.source for t in TRANSITIONS if t.action == "revoke"} == {"released"}
    assert {t.target for t in TRANSITIONS if t.action == "release"} == {"released"}
    # only conclude moves a request into approved; approve there adds an approval
    into = {t.action for t in TRANSITIONS if t.target == "approved" != t.source}
    assert into == {"conclude"}


def test_every_state_is_reachable_and_can_end() -> None:
    reached, frontier = {INITIAL_STATE}, [INITIAL_STATE]
    while frontier:
        state = frontier.pop()
        for action in allowed_actions(state):
            target = next_state(state, action)
            if target not in reached:
                reached.add(target)
                frontier.append(target)
    assert reached == set(STATES)
    for state in STATES:
        ends, seen, todo = False, {state}, [state]
        while todo:
            current = todo.pop()
            ends |= current in TERMINAL_STATES
            for action in allowed_actions(current):
                target = next_state(current, action)
                if target not in seen:
                    seen.add(target)
                    todo.append(target)
        assert ends, state


def test_every_change_after_checking_resets_approvals() -> None:
    after_check = {"checked", "approved", "returned"}
    for t in TRANSITIONS:
        if t.source in after_check and t.action in ("amend", "return", "recheck"):
            assert "reset_approvals" in t.rule.effects, t


@pytest.mark.parametrize(
    "transition", TRANSITIONS, ids=lambda t: f"{t.source}-{t.action}"
)
def test_every_transition_in_the_table(transition: Transition) -> None:
    before = ready(transition.source, transition.action)
    actor = actor_for(transition.action)
    after, step = apply_transition(
        before,
        transition.action,
        actor,
        policy=POLICY,
        evidence=evidence_for(transition.action),
    )
    assert (
        after.state
        == transition.target
        == next_state(transition.source, transition.action)
    )
    assert step.transition == transition
    effects = transition.rule.effects
    if actor is SYSTEM:
        assert step.decision is None
    else:
        assert step.decision is not None and step.decision.allowed
        assert step.decision.permission == transition.rule.permission
    if "record_approval" in effects:
        assert after.approvals == (*before.approvals, OFFICER_C.id)
    elif "reset_approvals" in effects:
        assert after.approvals == ()
    else:
        assert after.approvals == before.approvals
    if "set_evidence" in effects:
        assert after.evidence == "needs_review"
    elif "clear_evidence" in effects:
        assert after.evidence is None
    else:
        assert after.evidence == before.evidence


NON_TRANSITIONS = [
    (state, action)
    for state, action in itertools.product(STATES, ACTIONS)
    if (state, action) not in TABLE_KEYS
]


@pytest.mark.parametrize(("state", "action"), NON_TRANSITIONS)
def test_every_non_transition_is_refused(state: State, action: Action) -> None:
    with pytest.raises(InvalidTransitionError, match=f"cannot {action} a request"):
        next_state(state, action)
    actor = actor_for(action)
    with pytest.raises(InvalidTransitionError) as raised:
        apply_transition(
            ready(state, action),
            action,
            actor,
            policy=POLICY,
            evidence=evidence_for(action),
        )
    message = str(raised.value)
    assert message.startswith(f"request 42: cannot {action} a request that is {state}")
    assert "\n" not in message


def test_count_of_cases() -> None:
    assert len(TRANSITIONS) + len(NON_TRANSITIONS) == len(STATES) * len(ACTIONS)


def test_unknown_action_is_refused() -> None:
    with pytest.raises(InvalidTransitionError, match="unknown action 'publish'"):
        check_transition(
            view("approved"),
            "publish",  # type: ignore[arg-type]  # not an Action, on purpose
            REQUESTER,
            policy=POLICY,
        )


# -- who may act --------------------------------------------------------------------


@pytest.mark.parametrize("action", ["approve", "return", "reject"])
def test_requester_with_both_roles_cannot_review_own_request(action: Action) -> None:
    own = view("checked", requester_id=DUAL.id, evidence="pass")
    with pytest.raises(AccessDeniedError, match="own_request") as raised:
        check_transition(own, action, DUAL, policy=POLICY)
    assert raised.value.reason == "own_request"
    # ...but reviews someone else's request
    assert check_transition(
        view("checked", evidence="pass"), action, DUAL, policy=POLICY
    )


def test_requester_with_both_roles_cannot_revoke_own_release() -> None:
    own = view("released", requester_id=DUAL.id)
    with pytest.raises(AccessDeniedError, match="own_request"):
        check_transition(own, "revoke", DUAL, policy=POLICY)


def test_self_approvals_never_count_even_if_stored() -> None:
    tampered = view(
        "checked",
        requester_id=DUAL.id,
        evidence="pass",
        approvals=(DUAL.id, OFFICER_A.id),
    )
    assert approvals_counted(tampered) == 1
    assert not quorum_reached(tampered, POLICY)
    with pytest.raises(InvalidTransitionError, match="1 of 2 approvals"):
        check_transition(tampered, "conclude", SYSTEM, policy=POLICY)


@pytest.mark.parametrize(
    ("state", "action"),
    [("draft", "submit"), ("draft", "amend"), ("checked", "withdraw")],
)
def test_only_the_requester_acts_for_the_requester(
    state: State, action: Action
) -> None:
    other = make_actor("analyst-2", "analyst")
    with pytest.raises(AccessDeniedError, match="not_requester"):
        check_transition(view(state), action, other, policy=POLICY)


def test_people_cannot_do_system_only_steps_and_the_system_cannot_do_theirs() -> None:
    ready_view = view(
        "checked", evidence="pass", approvals=(OFFICER_A.id, OFFICER_B.id)
    )
    with pytest.raises(AccessDeniedError, match="system_only") as raised:
        check_transition(ready_view, "conclude", OFFICER_C, policy=POLICY)
    assert raised.value.reason == "system_only"
    human: tuple[Action, ...] = ("approve", "submit", "release", "revoke")
    for action in human:
        with pytest.raises(AccessDeniedError, match="not_for_system"):
            check_transition(ready_view, action, SYSTEM, policy=POLICY)


def test_publisher_may_run_the_checks() -> None:
    after, step = apply_transition(
        view("submitted"), "check", PUBLISHER, policy=POLICY, evidence="pass"
    )
    assert after.state == "checked" and step.decision is not None
    assert step.decision.role == "publisher"
    with pytest.raises(AccessDeniedError, match=r"check\.run"):
        check_transition(view("submitted"), "check", OFFICER_A, policy=POLICY)


def test_permission_is_checked_before_the_state_is_revealed() -> None:
    downstream = make_actor("reader", "downstream")
    with pytest.raises(
        AccessDeniedError, match=r"request\.review for body 7A1: no_grant"
    ):
        check_transition(view("draft"), "approve", downstream, policy=POLICY)


def test_reviewer_needs_a_grant_covering_the_requests_body() -> None:
    local = make_actor("ig-local", ("ig_officer", OTHER_BODY))
    checked = view("checked", evidence="pass")
    with pytest.raises(AccessDeniedError, match="out_of_scope"):
        check_transition(checked, "approve", local, policy=POLICY)
    all_wales = replace(checked, body=None)
    with pytest.raises(AccessDeniedError, match="out_of_scope"):
        check_transition(all_wales, "approve", local, policy=POLICY)
    own_body = make_actor("ig-own", ("ig_officer", OWN_BODY))
    assert check_transition(checked, "approve", own_body, policy=POLICY)


def test_expired_or_revoked_officer_cannot_approve() -> None:
    expired = Subject(
        OFFICER_A.principal,
        (
            make_grant(
                OFFICER_A.id, "ig_officer", valid_until=NOW - timedelta(seconds=1)
            ),
        ),
        OFFICER_A.policy,
        NOW,
    )
    with pytest.raises(AccessDeniedError, match="expired"):
        check_transition(
            view("checked", evidence="pass"), "approve", expired, policy=POLICY
        )
    revoked = Subject(
        OFFICER_A.principal,
        (make_grant(OFFICER_A.id, "ig_officer", revoked_at=NOW),),
        OFFICER_A.policy,
        NOW,
    )
    with pytest.raises(AccessDeniedError, match="revoked"):
        check_transition(
            view("checked", evidence="pass"), "approve", revoked, policy=POLICY
        )


# -- guards and effects -------------------------------------------------------------


def test_two_distinct_officers_are_needed() -> None:
    request = view("checked", evidence="pass")
    request, _ = apply_transition(request, "approve", OFFICER_A, policy=POLICY)
    assert request.state == "checked" and not quorum_reached(request, POLICY)
    with pytest.raises(
        InvalidTransitionError, match="already approved by this principal"
    ):
        apply_transition(request, "approve", OFFICER_A, policy=POLICY)
    with pytest.raises(InvalidTransitionError, match="1 of 2 approvals"):
        apply_transition(request, "conclude", SYSTEM, policy=POLICY)
    request, _ = apply_transition(request, "approve", OFFICER_B, policy=POLICY)
    assert quorum_reached(request, POLICY)
    request, _ = apply_transition(request, "conclude", SYSTEM, policy=POLICY)
    request, step = apply_transition(request, "release", REQUESTER, policy=POLICY)
    assert request.state == "released" and request.approvals == (
        OFFICER_A.id,
        OFFICER_B.id,
    )
    assert step.decision is not None and step.decision.permission == "release.export"


def test_one_approval_suffices_when_the_policy_says_so() -> None:
    single = release_policy(approvals=1)
    request, _ = apply_transition(
        view("checked", evidence="pass"), "approve", OFFICER_A, policy=single
    )
    request, _ = apply_transition(request, "conclude", SYSTEM, policy=single)
    assert request.state == "approved"


def test_release_rechecks_the_quorum() -> None:
    forged = view("approved", evidence="pass", approvals=(OFFICER_A.id,))
    with pytest.raises(InvalidTransitionError, match="1 of 2 approvals"):
        check_transition(forged, "release", REQUESTER, policy=POLICY)


@pytest.mark.parametrize(
    ("approvable", "evidence", "ok"),
    [
        ((), "pass", True),
        ((), "needs_review", True),
        ((), "fail", False),
        (("pass",), "needs_review", False),
        (("pass",), "pass", True),
    ],
)
def test_only_approvable_evidence_is_approved(
    approvable: tuple[str, ...], evidence: Evidence, ok: bool
) -> None:
    policy = release_policy(approvals=1, evidence=approvable)
    request = view("checked", evidence=evidence)
    if ok:
        assert check_transition(request, "approve", OFFICER_A, policy=policy)
    else:
        with pytest.raises(InvalidTransitionError, match="not approvable"):
            check_transition(request, "approve", OFFICER_A, policy=policy)
    # A failed check is returned or rejected instead.
    assert check_transition(request, "return", OFFICER_A, policy=policy)


@pytest.mark.parametrize(
    ("state", "action", "target"),
    [
        ("checked", "recheck", "checked"),
        ("approved", "recheck", "checked"),
        ("checked", "amend", "draft"),
        ("approved", "amend", "draft"),
        ("checked", "return", "returned"),
        ("approved", "return", "returned"),
    ],
)
def test_any_change_after_checking_resets_approvals(
    state: State, action: Action, target: State
) -> None:
    before = view(state, evidence="pass", approvals=(OFFICER_A.id, OFFICER_B.id))
    actor = actor_for(action)
    after, _ = apply_transition(
        before, action, actor, policy=POLICY, evidence=evidence_for(action)
    )
    assert (after.state, after.approvals) == (target, ())
    assert not quorum_reached(after, POLICY)


def test_evidence_argument_is_required_exactly_for_checks() -> None:
    with pytest.raises(ValueError, match="check needs evidence"):
        apply_transition(view("submitted"), "check", SYSTEM, policy=POLICY)
    with pytest.raises(ValueError, match="submit takes no evidence"):
        apply_transition(
            view("draft"), "submit", REQUESTER, policy=POLICY, evidence="pass"
        )


# -- reading and exporting ----------------------------------------------------------


def test_create_needs_request_create_for_the_body() -> None:
    local = make_actor("analyst-9", ("analyst", OWN_BODY))
    assert check_create(local, body=OWN_BODY).allowed
    with pytest.raises(AccessDeniedError, match="out_of_scope"):
        check_create(local, body=None)


def test_reading_a_request() -> None:
    assert (
        check_can_read_request(view("draft"), REQUESTER).permission
        == "request.read_own"
    )
    assert (
        check_can_read_request(view("draft"), OFFICER_A).permission
        == "request.read_any"
    )
    with pytest.raises(AccessDeniedError, match=r"request\.read_any"):
        check_can_read_request(view("draft"), make_actor("analyst-2", "analyst"))
    lapsed = Subject(
        REQUESTER.principal,
        (make_grant(REQUESTER.id, "analyst", revoked_at=NOW),),
        REQUESTER.policy,
        NOW,
    )
    with pytest.raises(AccessDeniedError, match=r"request\.read_any"):
        check_can_read_request(view("draft"), lapsed)


def test_a_revoked_release_can_no_longer_be_read() -> None:
    reader = make_actor("reader", "downstream")
    released = view("released", evidence="pass")
    assert check_release_access(released, reader).allowed
    assert check_release_access(released, REQUESTER).allowed
    revoked, _ = apply_transition(released, "revoke", OFFICER_A, policy=POLICY)
    for actor in (reader, REQUESTER):
        with pytest.raises(AccessDeniedError, match="not_released") as raised:
            check_release_access(revoked, actor)
        assert raised.value.reason == "not_released"


def test_reading_a_release_needs_release_read() -> None:
    with pytest.raises(AccessDeniedError, match="no_grant"):
        check_release_access(view("released"), make_actor("ig", "ig_officer"))


# -- the release policy file --------------------------------------------------------


def test_shipped_release_policy() -> None:
    policy = load_release_policy()
    assert policy.id == "release" and policy.approvals_required == 2
    assert policy.approvable_evidence == {"pass", "needs_review"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("release: {approvals_required: 0}", "key 'release.approvals_required'"),
        ("release: {approvals_required: 6}", "key 'release.approvals_required'"),
        ("release: {approvals_required: true}", "key 'release.approvals_required'"),
        ("release: {approvable_evidence: [fail]}", "release.approvable_evidence.0"),
        ("release: {approvable_evidence: []}", "at least one"),
        ("release: {approvable_evidence: [pass, pass]}", "listed twice"),
        ("release: {quorum: 2}", "unknown key 'release.quorum'"),
    ],
)
def test_bad_release_policy_is_refused(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "release.yaml").write_text(f"id: release\nversion: 1\n{text}\n")
    with pytest.raises(PolicyError, match=message):
        load_release_policy(tmp_path)


def test_available_actions_are_those_the_actor_can_take_now() -> None:
    checked = view("checked", evidence="pass", approvals=(OFFICER_A.id,))
    assert available_actions(checked, OFFICER_B, policy=POLICY) == (
        "approve",
        "return",
        "reject",
    )
    assert available_actions(checked, OFFICER_A, policy=POLICY) == ("return", "reject")
    assert available_actions(checked, REQUESTER, policy=POLICY) == ("amend", "withdraw")
    assert available_actions(checked, SYSTEM, policy=POLICY) == ("recheck",)
    assert not can_transition(checked, "conclude", SYSTEM, policy=POLICY)
    assert available_actions(view("revoked"), OFFICER_A, policy=POLICY) == ()
