"""Plain functions that make principals, grants and subjects for access tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count

from governance.access import Grant, Principal, Subject
from governance.access_policy import AccessPolicy, load_access_policy
from governance.release_policy import ReleasePolicy, release_policy_from_mapping

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
YEAR = timedelta(days=365)
OWN_BODY = "7A1"
OTHER_BODY = "7A2"

ACCESS: AccessPolicy = load_access_policy()
_ids = count(1)


def release_policy(approvals: int = 2, evidence: tuple[str, ...] = ()) -> ReleasePolicy:
    section: dict[str, object] = {"approvals_required": approvals}
    if evidence:
        section["approvable_evidence"] = list(evidence)
    return release_policy_from_mapping(
        {"id": "release", "version": 1, "release": section}
    )


def make_grant(
    principal_id: str,
    role: str,
    body: str | None = None,
    *,
    valid_from: datetime = NOW - YEAR,
    valid_until: datetime | None = NOW + YEAR,
    revoked_at: datetime | None = None,
) -> Grant:
    return Grant(
        principal_id=principal_id,
        role=role,
        body=body,
        valid_from=valid_from,
        valid_until=valid_until,
        revoked_at=revoked_at,
        id=next(_ids),
    )


def make_actor(
    principal_id: str,
    *roles: str | tuple[str, str | None],
    active: bool = True,
    now: datetime = NOW,
    policy: AccessPolicy = ACCESS,
) -> Subject:
    """An actor holding live grants; a role given as ``(role, body)`` is body-scoped."""
    grants = []
    for role in roles:
        name, body = (role, None) if isinstance(role, str) else role
        grants.append(make_grant(principal_id, name, body))
    principal = Principal(principal_id, name=f"Test {principal_id}", active=active)
    return Subject(principal, tuple(grants), policy, now)
