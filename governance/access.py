"""Access decisions: may this principal, holding these grants, do this, now?

Owns :class:`Principal`, :class:`Grant`, :class:`Decision`, :class:`Subject`, the
decision function :func:`decide` and the ``can``/``check`` pairs built on it, and the
separation-of-duties checks that need more than a role: nobody reviews their own
request (:func:`check_not_requester`) and nobody grants a role to themselves or
collects roles that mix administration with data or oversight
(:func:`check_can_assign`).

Deny by default: a permission is allowed only when one grant of the principal is
valid now (not revoked, ``valid_from <= now < valid_until``), belongs to a role that
holds the permission under the policy, respects the role's body rule, and, for a
body-scoped permission, covers the body asked about (a grant without a body covers
all of Wales; a grant for one body never covers another body or all of Wales). Expiry
is checked here, in our own code, and not delegated to a policy engine: Casbin's
temporal roles fail open when a condition function is not registered
(docs/access-control.md).

Pure: values in, values out. This module never reads the clock, the store or the
environment, and never prints or logs; the caller passes ``now`` and audits every
:class:`Decision`, allow and deny. Error messages name the permission, the body and
the reason, never a token or a principal's name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final, Literal, TypeAlias

from governance.access_policy import (
    PERMISSIONS,
    ROLES,
    AccessPolicy,
    Permission,
    conflicting_permissions,
    is_permission,
)
from governance.errors import AccessDeniedError, PolicyError

Reason: TypeAlias = Literal[
    "allowed",
    "unknown_permission",
    "principal_inactive",
    "no_grant",
    "invalid_grant",
    "revoked",
    "not_yet_valid",
    "expired",
    "out_of_scope",
    "own_request",
    "not_requester",
    "self_grant",
    "role_conflict",
    "system_only",
    "not_for_system",
    "not_released",
]

#: Among several grants that fail, the reported reason is the one that came closest
#: to allowing: a live grant for the wrong body says more than an expired one.
_DENIAL_RANK: Final[dict[Reason, int]] = {
    "out_of_scope": 5,
    "expired": 4,
    "not_yet_valid": 3,
    "revoked": 2,
    "invalid_grant": 1,
    "no_grant": 0,
}
ALL_WALES: Final = "all Wales"

_PRINCIPAL_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,127}\Z")
_BODY = re.compile(r"[A-Z0-9]{2,10}\Z")

GrantStatus: TypeAlias = Literal["live", "revoked", "not_yet_valid", "expired"]


def _check_aware(value: datetime | None, what: str) -> None:
    if value is not None and value.utcoffset() is None:
        raise ValueError(f"{what} must be a timezone-aware datetime")


def _check_body(body: str | None, what: str) -> None:
    if body is not None and not _BODY.match(body):
        raise ValueError(f"{what} must be an upper-case body code such as '7A1'")


def _where(body: str | None) -> str:
    return f"body {body}" if body is not None else ALL_WALES


@dataclass(frozen=True)
class Principal:
    """Someone or something that authenticates with a token."""

    id: str
    name: str = field(repr=False)
    """Display name; may be a person's name, so it is kept out of reprs and errors."""
    active: bool = True

    def __post_init__(self) -> None:
        if not _PRINCIPAL_ID.match(self.id):
            raise ValueError("principal id must be 1-128 of A-Z a-z 0-9 . _ @ -")


@dataclass(frozen=True)
class Grant:
    """A role held by a principal, for one body or all Wales, for a span of time.

    ``valid_until`` is exclusive; ``None`` means open-ended. A grant with
    ``revoked_at`` set is revoked from that instant on. ``id`` is ``None`` until the
    store has assigned one.
    """

    principal_id: str
    role: str
    body: str | None
    valid_from: datetime
    valid_until: datetime | None = None
    revoked_at: datetime | None = None
    id: int | None = None

    def __post_init__(self) -> None:
        _check_aware(self.valid_from, "valid_from")
        _check_aware(self.valid_until, "valid_until")
        _check_aware(self.revoked_at, "revoked_at")
        _check_body(self.body, "a grant's body")
        if self.valid_until is not None and self.valid_until <= self.valid_from:
            raise ValueError("a grant's valid_until must be after its valid_from")

    @property
    def label(self) -> str:
        return f"grant {self.id}" if self.id is not None else "new grant"

    def status(self, now: datetime) -> GrantStatus:
        """Whether the grant is live at ``now``, or why not."""
        _check_aware(now, "now")
        if self.revoked_at is not None and self.revoked_at <= now:
            return "revoked"
        if now < self.valid_from:
            return "not_yet_valid"
        if self.valid_until is not None and now >= self.valid_until:
            return "expired"
        return "live"


@dataclass(frozen=True)
class Decision:
    """The outcome of one access decision, as the audit log records it."""

    allowed: bool
    reason: Reason
    permission: str
    body: str | None
    """The body asked about; ``None`` means all Wales (or a permission with no body)."""
    role: str | None
    """The role of the grant that allowed it, or of the grant that came closest."""
    grant_id: int | None
    policy_sha256: str

    def describe(self) -> str:
        """One line for an error or a log: permission, body (if it matters), reason."""
        permission = self.permission
        scoped = not is_permission(permission) or PERMISSIONS[permission].body_scoped
        scope = f" for {_where(self.body)}" if scoped else ""
        return f"{self.permission}{scope}: {self.reason}"


def validate_grant(grant: Grant, policy: AccessPolicy) -> None:
    """Check a grant against the policy: a known role, and the role's body rule.

    Raises:
        PolicyError: the role is unknown, or the grant names a body when the role
            forbids one, or names none when the role requires one.
    """
    problem = _grant_problem(grant, policy)
    if problem is not None:
        raise PolicyError(f"{grant.label}: {problem} ({policy.source})")


def _grant_problem(grant: Grant, policy: AccessPolicy) -> str | None:
    spec = policy.role(grant.role)
    if spec is None:
        return f"unknown role {grant.role!r}"
    if spec.body_scope == "required" and grant.body is None:
        return f"role {grant.role!r} must be granted for one body"
    if spec.body_scope == "forbidden" and grant.body is not None:
        return f"role {grant.role!r} is granted for all Wales only, not for a body"
    return None


def _grant_reason(
    grant: Grant,
    permission: Permission,
    body: str | None,
    now: datetime,
    policy: AccessPolicy,
) -> Reason:
    if policy.role(grant.role) is None:
        return "invalid_grant"
    if permission not in policy.permissions_of(grant.role):
        return "no_grant"
    if _grant_problem(grant, policy) is not None:
        return "invalid_grant"
    status = grant.status(now)
    if status != "live":
        return status
    if PERMISSIONS[permission].body_scoped and grant.body not in (None, body):
        return "out_of_scope"
    return "allowed"


def _allow_order(grant: Grant) -> tuple[int, int, int]:
    # The narrowest grant that allows is the one recorded: a body grant before an
    # all-Wales one, then the role order of the policy, then the oldest grant.
    role_index = ROLES.index(grant.role) if grant.role in ROLES else len(ROLES)
    return (grant.body is None, role_index, grant.id if grant.id is not None else -1)


def decide(
    principal: Principal,
    grants: Iterable[Grant],
    permission: str,
    *,
    body: str | None,
    now: datetime,
    policy: AccessPolicy,
) -> Decision:
    """Decide whether ``principal`` may use ``permission`` for ``body`` at ``now``.

    ``body`` is the body whose data the action concerns, or ``None`` for all Wales;
    it is ignored for permissions that are not body-scoped. Every grant must belong
    to ``principal`` (a grant of someone else is a wiring bug: ``ValueError``).
    """
    _check_aware(now, "now")
    _check_body(body, "body")
    grants = tuple(grants)
    for grant in grants:
        if grant.principal_id != principal.id:
            raise ValueError(f"{grant.label} does not belong to the principal")

    def result(reason: Reason, grant: Grant | None = None) -> Decision:
        return Decision(
            allowed=reason == "allowed",
            reason=reason,
            permission=permission,
            body=body,
            role=grant.role if grant is not None else None,
            grant_id=grant.id if grant is not None else None,
            policy_sha256=policy.sha256,
        )

    if not is_permission(permission):
        return result("unknown_permission")
    if not principal.active:
        return result("principal_inactive")
    outcomes = [(_grant_reason(g, permission, body, now, policy), g) for g in grants]
    allowing = [g for reason, g in outcomes if reason == "allowed"]
    if allowing:
        return result("allowed", min(allowing, key=_allow_order))
    denials = [(r, g) for r, g in outcomes if r != "no_grant"]
    if not denials:
        return result("no_grant")
    reason, grant = max(
        denials,
        key=lambda d: (_DENIAL_RANK[d[0]], -(d[1].id if d[1].id is not None else -1)),
    )
    return result(reason, grant)


@dataclass(frozen=True)
class Subject:
    """A principal acting at one instant, with its grants and the policy in force.

    (Access-control's *subject*; not :class:`governance.models.Actor`, which is the
    principal and role an audit entry records: take those from the
    :class:`Decision`.)
    """

    principal: Principal
    grants: tuple[Grant, ...]
    policy: AccessPolicy
    now: datetime

    def __post_init__(self) -> None:
        _check_aware(self.now, "now")
        for grant in self.grants:
            if grant.principal_id != self.principal.id:
                raise ValueError(f"{grant.label} does not belong to the principal")

    @property
    def id(self) -> str:
        return self.principal.id

    def decide(self, permission: str, *, body: str | None) -> Decision:
        """:func:`decide` for this actor."""
        return decide(
            self.principal,
            self.grants,
            permission,
            body=body,
            now=self.now,
            policy=self.policy,
        )


def check(actor: Subject, permission: str, *, body: str | None) -> Decision:
    """Return the allowing decision, or raise naming the permission and reason.

    Raises:
        AccessDeniedError: the decision is a denial (``reason`` set on the error).
    """
    decision = actor.decide(permission, body=body)
    if not decision.allowed:
        raise AccessDeniedError(
            f"access denied: {decision.describe()}",
            permission=permission,
            reason=decision.reason,
        )
    return decision


def can(actor: Subject, permission: str, *, body: str | None) -> bool:
    """Whether :func:`check` would allow."""
    return actor.decide(permission, body=body).allowed


def check_not_requester(principal_id: str, requester_id: str, *, action: str) -> None:
    """Refuse object-level self-review: nobody acts as reviewer on their own request.

    This holds whatever roles the principal has: one who is both analyst and IG
    officer still cannot approve, reject, return or revoke their own request.

    Raises:
        AccessDeniedError: ``principal_id`` is the requester (reason ``own_request``).
    """
    if principal_id == requester_id:
        raise AccessDeniedError(
            f"access denied: {action}: own_request (nobody reviews their own request)",
            permission=action,
            reason="own_request",
        )


def can_review(principal_id: str, requester_id: str) -> bool:
    """Whether :func:`check_not_requester` would pass."""
    return principal_id != requester_id


def check_can_assign(
    actor: Subject, grant: Grant, existing: Iterable[Grant]
) -> Decision:
    """Authorise ``actor`` to give ``grant`` to a principal who holds ``existing``.

    The actor needs ``grant.manage``; nobody grants a role to themselves; the grant
    must respect the role's body rule; and the principal's grants that are live or
    yet to start, with the new one, must not mix administration with data or
    oversight permissions (static separation of duties).

    Raises:
        AccessDeniedError: no ``grant.manage``, a self-grant (``self_grant``) or a
            role conflict (``role_conflict``).
        PolicyError: the role is unknown or the body does not fit the role.
    """
    decision = check(actor, "grant.manage", body=None)
    if grant.principal_id == actor.id:
        raise AccessDeniedError(
            "access denied: grant.manage: self_grant"
            " (nobody grants a role to themselves)",
            permission="grant.manage",
            reason="self_grant",
        )
    validate_grant(grant, actor.policy)
    held: set[Permission] = set(actor.policy.permissions_of(grant.role))
    for other in existing:
        if other.principal_id != grant.principal_id:
            raise ValueError(f"{other.label} does not belong to the grantee")
        if other.status(actor.now) in ("live", "not_yet_valid"):
            held |= actor.policy.permissions_of(other.role)
    pair = conflicting_permissions(frozenset(held))
    if pair is not None:
        raise AccessDeniedError(
            f"access denied: grant.manage: role_conflict (role {grant.role!r}"
            f" would give one principal both {pair[0]} and {pair[1]})",
            permission="grant.manage",
            reason="role_conflict",
        )
    return decision


def can_assign(actor: Subject, grant: Grant, existing: Iterable[Grant]) -> bool:
    """Whether :func:`check_can_assign` would pass."""
    try:
        check_can_assign(actor, grant, existing)
    except (AccessDeniedError, PolicyError):
        return False
    return True
