"""Every role x service action x own/other body, against the policy file.

0 unexpected allows; every denial is in the audit log with its reason.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from governance.access import Subject
from governance.access_policy import load_access_policy
from governance.errors import AccessDeniedError, GovernanceError
from governance.models import AuditQuery
from governance.service import Service
from governance.tablespec import TableSpec
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


#: (service call, permission it needs, whether the body matters)
ACTIONS: dict[str, tuple[Call, str, bool]] = {
    "ingest": (_ingest, "extract.ingest", True),
    "extracts": (lambda s, c, t, b: s.extracts(c, org=b), "extract.read_completeness", True),
    "audit_log": (lambda s, c, t, b: s.audit_log(c, AuditQuery(limit=1)), "audit.read", False),
    "audit_verify": (lambda s, c, t, b: s.verify_audit(c), "audit.verify", False),
    "audit_checkpoint": (lambda s, c, t, b: s.checkpoint(c), "audit.checkpoint", False),
    "audit_report": (lambda s, c, t, b: s.audit_report(c), "audit.read", False),
    "request_create": (_create, "request.create", False),
    "request_approve": (_approve, "request.review", False),
    "principal_add": (
        lambda s, c, t, b: s.add_principal(c, f"p{id(t) % 10**6}{b}", role="downstream"),
        "principal.manage",
        False,
    ),
}  # fmt: skip


def _allowed(role: str, permission: str, body: str | None, scoped: bool) -> bool:
    policy = load_access_policy()
    if permission not in policy.permissions_of(role):
        return False
    grant_body = OWN if role == "data_manager" else None
    if not scoped or grant_body is None:
        return grant_body is None or body is not None
    return body == grant_body


@pytest.mark.parametrize("role", ROLES)
def test_access_matrix(service: Service, tmp_path: Path, role: str) -> None:
    caller = principal(
        service, f"the-{role}", role, OWN if role == "data_manager" else None
    )
    principal(service, "matrix-analyst", "analyst")
    unexpected: list[str] = []
    denials = 0
    for name, (call, permission, scoped) in ACTIONS.items():
        for body in (OWN, OTHER, None) if scoped else (None,):
            if name == "ingest" and body is None:
                continue  # an extract always belongs to one body
            expected = _allowed(role, permission, body, scoped)
            try:
                call(service, caller, tmp_path, body)
                outcome = True
            except AccessDeniedError:
                outcome = False
                denials += 1
            except GovernanceError:
                outcome = True  # got past access control
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
