"""Every role x service action x own/other body, against the policy file.

0 unexpected allows; every denial is in the audit log with its reason.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

import pytest

from governance.access import Subject
from governance.access_policy import PERMISSIONS, load_access_policy
from governance.errors import AccessDeniedError, GovernanceError
from governance.models import AuditQuery
from governance.service import Service
from governance.tablespec import TableSpec
from tests.api_support import CHECK_TABLE, released
from tests.factories import make_row, principal, write_extract

ROLES = ("admin", "data_manager", "analyst", "ig_officer", "publisher", "downstream")
OWN, OTHER = "7A1", "7A2"

Call = Callable[[Service, Subject, Path, str | None], object]


def _ingest(s: Service, c: Subject, tmp: Path, body: str | None) -> object:
    path = write_extract(
        tmp / f"staff-{body}.csv",
        "staff",
        [make_row("staff", 0, organisation_code=body or OWN)],
    )
    return s.ingest(c, path, kind="staff", org=body or OWN, period=2026)


SPEC = TableSpec(
    name="t", source="staff", measure="headcount", dimensions=("body", "wres_group")
)


def _create(s: Service, c: Subject, tmp: Path, body: str | None) -> object:
    return s.create_request(
        c, purpose="Access matrix request purpose", period=2026, tables=[SPEC]
    )


def _approve(s: Service, c: Subject, tmp: Path, body: str | None) -> object:
    return s.approve_request(c, _checked_request(s))


def _checked_request(s: Service) -> int:
    analyst = s.caller_for("matrix-analyst")
    info = s.create_request(
        analyst, purpose="Access matrix request purpose", period=2026, tables=[SPEC]
    )
    return s.submit_request(analyst, info.id).id


def _draft(s: Service, c: Subject, *, own: bool = True) -> int:
    """A draft request: the caller's own when it may create one, else an analyst's."""
    requester = c if own and c.decide("request.create", body=None).allowed else None
    info = s.create_request(
        requester or s.caller_for("matrix-analyst"),
        purpose="Access matrix request purpose",
        period=2026,
        tables=[SPEC],
    )
    return info.id


def _own_checked(s: Service, c: Subject) -> int:
    rid = _draft(s, c)
    if c.decide("request.submit", body=None).allowed:
        return s.submit_request(c, rid).id
    return s.submit_request(s.caller_for("matrix-analyst"), rid).id


def _extract(s: Service, tmp: Path, body: str) -> int:
    """An extract of ``body``, ingested once per test by that body's data manager."""
    name = f"matrix-dm-{body.lower()}"
    path = write_extract(
        tmp / f"matrix-{body}.csv",
        "staff",
        [make_row("staff", 0, organisation_code=body)],
    )
    return s.ingest(
        s.caller_for(name), path, kind="staff", org=body, period=2025
    ).extract_id


_NAMES = itertools.count()


def _grant_target(s: Service, tmp: Path) -> str:
    name = f"target{next(_NAMES)}"
    s.add_principal(s.caller_for("admin"), name, role="downstream")
    return name


_RELEASES: dict[int, tuple[Service, str]] = {}


def _release(s: Service, tmp: Path) -> str:
    """A release readable by all-Wales readers, made once per service.

    The service is kept with its release: keyed by ``id()`` alone, a later test's
    service could reuse a collected one's id and be handed a release of another
    store (not found, which the matrix would count as not denied).
    """
    held = _RELEASES.get(id(s))
    if held is None or held[0] is not s:
        held = (s, released(s, tmp, prefix="matrix-release")[1])
        _RELEASES[id(s)] = held
    return held[1]


def _revoke_grant(s: Service, c: Subject, tmp: Path, body: str | None) -> object:
    admin = s.caller_for("admin")
    grant = s.add_grant(admin, _grant_target(s, tmp), role="analyst")
    s.revoke_grant(c, grant)
    return grant


def _held(*permissions: str) -> Callable[[str, str | None], bool]:
    """Expected outcome: the role holds any of ``permissions`` (unscoped actions)."""

    def expected(role: str, body: str | None) -> bool:
        held = load_access_policy().permissions_of(role)
        return any(p in held for p in permissions)

    return expected


def _creator_holds(permission: str) -> Callable[[str, str | None], bool]:
    """Own-request actions: only a role that can create requests is a requester."""

    def expected(role: str, body: str | None) -> bool:
        held = load_access_policy().permissions_of(role)
        return "request.create" in held and permission in held

    return expected


def _never(role: str, body: str | None) -> bool:
    return False


#: (service call, permission it needs, whether the body matters)
ACTIONS: dict[str, tuple[Call, str, bool]] = {
    "ingest": (_ingest, "extract.ingest", True),
    "extracts": (lambda s, c, t, b: s.extracts(c, org=b), "extract.read_completeness", True),
    "quarantine": (
        lambda s, c, t, b: s.quarantine(c, _extract(s, t, b or OWN)),
        "extract.read_quarantine",
        True,
    ),
    "audit_log": (lambda s, c, t, b: s.audit_log(c, AuditQuery(limit=1)), "audit.read", False),
    "audit_verify": (lambda s, c, t, b: s.verify_audit(c), "audit.verify", False),
    "audit_checkpoint": (lambda s, c, t, b: s.checkpoint(c), "audit.checkpoint", False),
    "audit_report": (lambda s, c, t, b: s.audit_report(c), "audit.read", False),
    "request_create": (_create, "request.create", False),
    "request_approve": (_approve, "request.review", False),
    "request_reject": (
        lambda s, c, t, b: s.reject_request(c, _checked_request(s)), "request.review", False
    ),
    "request_return": (
        lambda s, c, t, b: s.return_request(c, _checked_request(s)), "request.review", False
    ),
    "release_revoke": (
        # a checked request is not released: a permitted caller gets past access
        # control and is stopped by the workflow
        lambda s, c, t, b: s.revoke_release(c, _checked_request(s)),
        "release.revoke",
        False,
    ),
    "principal_add": (
        lambda s, c, t, b: s.add_principal(c, f"p{next(_NAMES)}", role="downstream"),
        "principal.manage",
        False,
    ),
    "principal_revoke": (
        lambda s, c, t, b: s.revoke_principal(c, _grant_target(s, t)),
        "principal.manage",
        False,
    ),
    "grant_add": (
        lambda s, c, t, b: s.add_grant(c, _grant_target(s, t), role="analyst"),
        "grant.manage",
        False,
    ),
    "grant_revoke": (_revoke_grant, "grant.manage", False),
    "catalogue": (lambda s, c, t, b: s.catalogue(c), "catalogue.read", False),
    "policies": (lambda s, c, t, b: s.policies(c), "policy.read", False),
    "policy": (lambda s, c, t, b: s.policy(c, "wres-wales"), "policy.read", False),
    "check_upload": (
        lambda s, c, t, b: s.check_upload(c, CHECK_TABLE.encode()), "check.run", False
    ),
    "releases": (lambda s, c, t, b: s.releases(c), "release.read", False),
    "release": (lambda s, c, t, b: s.release(c, _release(s, t)), "release.read", False),
    "release_artefact": (
        lambda s, c, t, b: s.release_artefact(c, _release(s, t), "manifest.json"),
        "release.read",
        False,
    ),
}  # fmt: skip

#: Actions whose expected outcome is not one permission: a relation to the request
#: (its requester) or a choice between permissions decides.
RELATIONAL: dict[str, tuple[Call, Callable[[str, str | None], bool]]] = {
    "request_submit": (
        lambda s, c, t, b: s.submit_request(c, _draft(s, c)), _creator_holds("request.submit")
    ),
    "request_withdraw": (
        lambda s, c, t, b: s.withdraw_request(c, _draft(s, c)),
        _creator_holds("request.withdraw"),
    ),
    "request_submit_others": (
        lambda s, c, t, b: s.submit_request(c, _draft(s, c, own=False)), _never
    ),
    "release_export": (
        # the caller's own checked request: past access control, stopped by the
        # workflow (not approved); anyone else's is denied
        lambda s, c, t, b: s.export_release(c, _own_checked(s, c), t / "out"),
        _creator_holds("release.export"),
    ),
    "request_show": (
        lambda s, c, t, b: s.show_request(c, _draft(s, c)),
        lambda role, body: _held("request.read_any")(role, body)
        or _creator_holds("request.read_own")(role, body),
    ),
    "request_show_others": (
        lambda s, c, t, b: s.show_request(c, _draft(s, c, own=False)),
        _held("request.read_any"),
    ),
    "request_list": (
        lambda s, c, t, b: s.list_requests(c), _held("request.read_any", "request.read_own")
    ),
    "principal_list": (
        lambda s, c, t, b: s.principals(c), _held("principal.manage", "grant.read")
    ),
}  # fmt: skip


def _allowed(role: str, permission: str, body: str | None, scoped: bool) -> bool:
    policy = load_access_policy()
    if permission not in policy.permissions_of(role):
        return False
    grant_body = OWN if role == "data_manager" else None
    if not PERMISSIONS[permission].body_scoped:
        return True  # decided without regard to any body
    if not scoped or grant_body is None:
        return grant_body is None or body is not None
    return body == grant_body


def _attempt(
    call: Call, service: Service, caller: Subject, tmp: Path, body: str | None
) -> bool:
    """Whether the call got past access control."""
    try:
        call(service, caller, tmp, body)
    except AccessDeniedError:
        return False
    except GovernanceError:
        return True  # past access control, stopped by the workflow or the data
    return True


@pytest.mark.parametrize("role", ROLES)
def test_access_matrix(service: Service, tmp_path: Path, role: str) -> None:
    caller = principal(
        service, f"the-{role}", role, OWN if role == "data_manager" else None
    )
    principal(service, "matrix-analyst", "analyst")
    for org in (OWN, OTHER):
        principal(service, f"matrix-dm-{org.lower()}", "data_manager", org)
    unexpected: list[str] = []
    denials = 0
    cases: list[tuple[str, Call, bool, str | None]] = []
    for name, (call, permission, scoped) in ACTIONS.items():
        for body in (OWN, OTHER, None) if scoped else (None,):
            if name in ("ingest", "quarantine") and body is None:
                continue  # an extract always belongs to one body
            cases.append((name, call, _allowed(role, permission, body, scoped), body))
    for name, (call, expect) in RELATIONAL.items():
        cases.append((name, call, expect(role, None), None))
    for name, call, expected, body in cases:
        outcome = _attempt(call, service, caller, tmp_path, body)
        denials += not outcome
        if outcome and not expected:
            unexpected.append(f"{role} {name} {body}: allowed")
        if expected and not outcome:
            unexpected.append(f"{role} {name} {body}: denied")
    assert unexpected == []
    ig = principal(service, f"auditor-{role}", "ig_officer")
    recorded = service.audit_log(
        ig, AuditQuery(principal=f"the-{role}", outcome="deny")
    )
    assert len(recorded) == denials
    assert all('"reason":' in entry.detail for entry in recorded)


def test_the_matrix_covers_every_service_action() -> None:
    """A new public service method must be added to the matrix (or listed here)."""
    not_actions = {
        "init", "bootstrap_admin", "authenticate", "caller_for", "close", "store",
        "reference", "policy_dir", "ingest_policy", "ingest_policy_with_hash",
        "access_policy", "signing_key", "check_store", "release_policy",
        "disclosure_policy", "trusted_audit_keys", "checkpoints",
    }  # fmt: skip
    covered = {
        "ingest", "extracts", "quarantine", "audit_log", "verify_audit", "checkpoint",
        "audit_report", "create_request", "approve_request", "reject_request",
        "return_request", "revoke_release", "add_principal", "revoke_principal",
        "add_grant", "revoke_grant", "submit_request", "withdraw_request",
        "export_release", "show_request", "list_requests", "principals",
        "catalogue", "policies", "policy", "check_upload", "releases", "release",
        "release_artefact",
    }  # fmt: skip
    public = {
        name
        for name in dir(Service)
        if not name.startswith("_") and callable(getattr(Service, name, None))
    }
    assert public - not_actions - covered == set()
