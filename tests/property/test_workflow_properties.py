"""Properties of the release workflow under random sequences of actions and actors.

Whatever the sequence, a request reaches ``approved`` or ``released`` only with the
policy's number of approvals from distinct principals who held ``request.review``
for the request's body when they approved, none of them the requester, all given
since the last change after checking. The approvals are tracked here independently
of the workflow's own bookkeeping, and compared with it at every step.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from governance.access import Principal, Subject, can
from governance.errors import AccessDeniedError, InvalidTransitionError
from governance.release_policy import Evidence, ReleasePolicy
from governance.workflow import (
    ACTION_RULES,
    ACTIONS,
    SYSTEM,
    Action,
    RequestView,
    State,
    SystemActor,
    allowed_actions,
    apply_transition,
)
from tests.access_support import (
    ACCESS,
    NOW,
    OTHER_BODY,
    OWN_BODY,
    make_actor,
    make_grant,
    release_policy,
)

EXAMPLES = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

_expired_officer = Subject(
    Principal("ig-expired", "x"),
    (make_grant("ig-expired", "ig_officer", valid_until=NOW - timedelta(seconds=1)),),
    ACCESS,
    NOW,
)
ACTORS: dict[str, Subject | SystemActor] = {
    "requester": make_actor("analyst-1", "analyst"),
    "dual": make_actor("dual-1", "analyst", "ig_officer"),
    "officer-a": make_actor("ig-a", "ig_officer"),
    "officer-b": make_actor("ig-b", "ig_officer"),
    "officer-c": make_actor("ig-c", "ig_officer"),
    "officer-elsewhere": make_actor("ig-local", ("ig_officer", OTHER_BODY)),
    "officer-expired": _expired_officer,
    "officer-inactive": make_actor("ig-gone", "ig_officer", active=False),
    "other-analyst": make_actor("analyst-2", "analyst"),
    "publisher": make_actor("checker", "publisher"),
    "admin": make_actor("root", "admin"),
    "system": SYSTEM,
}
EVIDENCE: tuple[Evidence, ...] = ("pass", "needs_review", "pass", "fail")


@dataclass
class Oracle:
    """Approvals since the last reset, tracked from the steps alone."""

    requester_id: str
    body: str | None
    approvers: list[str] = field(default_factory=list)

    def observe(self, action: Action, actor: Subject | SystemActor) -> None:
        if action in ("amend", "return", "recheck", "check"):
            self.approvers.clear()
        if action == "approve":
            assert isinstance(actor, Subject)
            assert can(actor, "request.review", body=self.body)
            self.approvers.append(actor.id)

    def qualified(self) -> int:
        return len(set(self.approvers) - {self.requester_id})


#: The walk is biased towards release so that long, eventful walks are common: most
#: choices take the forward action and a right actor; about one in eight takes any
#: action of the table or a plausible (often wrong) actor; the rest anything at all.
FORWARD: dict[str, tuple[Action, ...]] = {
    "draft": ("submit",),
    "submitted": ("check",),
    "checked": ("approve", "approve", "conclude"),
    "approved": ("release",),
    "returned": ("submit",),
    "released": ("revoke",),
}
RIGHT: dict[str, tuple[str, ...]] = {
    "reviewer": ("officer-a", "officer-b", "officer-c", "dual"),
    "system": ("system",),
}
PLAUSIBLE: dict[str, tuple[str, ...]] = {
    "requester": ("requester", "dual", "other-analyst"),
    "reviewer": (
        "officer-a",
        "officer-b",
        "dual",
        "officer-elsewhere",
        "officer-expired",
        "officer-inactive",
        "other-analyst",
    ),
    "system": ("system", "publisher", "officer-a", "admin"),
}
EVERYONE = tuple(sorted(ACTORS))
FURTHEST = ["draft", "withdrawn", "submitted", "rejected", "returned", "checked",
            "approved", "released", "revoked"]  # fmt: skip

Step = tuple[int, int, int]
steps = st.lists(
    st.tuples(st.integers(0, 99), st.integers(0, 99), st.integers(0, 3)),
    min_size=5,
    max_size=60,
)


def choose(
    state: State, choice: int, who: int, step: int, requester: str
) -> tuple[Action, str]:
    """Map a step's numbers to an action and an actor key (see :data:`FORWARD`)."""
    allowed = allowed_actions(state)
    if choice < 80 and state in FORWARD:
        action = FORWARD[state][(choice + step) % len(FORWARD[state])]
    elif choice < 93 and allowed:
        action = allowed[choice % len(allowed)]
    else:
        action = ACTIONS[choice % len(ACTIONS)]
    performer = ACTION_RULES[action].performer
    right = (requester,) if performer == "requester" else RIGHT[performer]
    group = right if who < 75 else PLAUSIBLE[performer] if who < 93 else EVERYONE
    # Adding the step number varies the pick when the same numbers repeat.
    return action, group[(who + step) % len(group)]


def run(
    sequence: list[Step], policy: ReleasePolicy, requester: str, body: str | None
) -> list[str]:
    """Walk the table with the given choices; check the invariant at every step."""
    actor_for_request = ACTORS[requester]
    assert isinstance(actor_for_request, Subject)
    view = RequestView(1, actor_for_request.id, "draft", body)
    oracle = Oracle(view.requester_id, body)
    states: list[str] = [view.state]
    for step, (choice, who, evidence_index) in enumerate(sequence):
        action, actor_key = choose(view.state, choice, who, step, requester)
        actor = ACTORS[actor_key]
        sets = action in ("check", "recheck")
        evidence = EVIDENCE[evidence_index] if sets else None
        try:
            after, _ = apply_transition(
                view, action, actor, policy=policy, evidence=evidence
            )
        except (AccessDeniedError, InvalidTransitionError):
            continue
        oracle.observe(action, actor)
        view = after
        states.append(view.state)
        assert sorted(view.approvals) == sorted(oracle.approvers)
        if view.state in ("approved", "released"):
            assert oracle.qualified() >= policy.approvals_required, view
            assert view.evidence in policy.approvable_evidence
            assert view.requester_id not in view.approvals
    return states


@EXAMPLES
@given(
    sequence=steps,
    approvals=st.integers(1, 3),
    requester=st.sampled_from(["requester", "dual"]),
    body=st.sampled_from([OWN_BODY, None]),
)
def test_never_released_without_enough_distinct_independent_approvals(
    sequence: list[Step], approvals: int, requester: str, body: str | None
) -> None:
    states = run(sequence, release_policy(approvals=approvals), requester, body)
    event(f"furthest state: {max(states, key=FURTHEST.index)}")


def test_the_walks_do_reach_approved_and_released() -> None:
    """The property is not vacuous: walks from the same distribution get there."""
    rng = random.Random(20260601)  # noqa: S311 - reproducible test walks
    reached: Counter[str] = Counter()
    for _ in range(400):
        sequence = [
            (rng.randrange(100), rng.randrange(100), rng.randrange(4))
            for _ in range(rng.randrange(61))
        ]
        requester = rng.choice(["requester", "dual"])
        states = run(sequence, release_policy(approvals=2), requester, OWN_BODY)
        reached.update(set(states))
    assert reached["released"] >= 20 and reached["revoked"] >= 5, reached
