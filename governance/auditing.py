"""What the service records in the audit log: the action catalogue and safe detail keys.

Every service action appends entries to the chain in the same transaction as the
action (``Transaction.append_audit``); a denial or a failed action is recorded in its
own short transaction after the rollback. This module owns the closed list of actions
(documented in docs/audit-log.md; a test keeps the two in step) and the allowlist of
``detail`` keys, none of which can carry a personal value, a pseudonym or an
unsuppressed count. It never touches the store or the clock itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Final

from audit import AuditEvent, DetailValue, EventRules, Outcome, format_time
from governance.models import Actor

#: Every action the service records, with what it means (docs/audit-log.md).
ACTIONS: Final[Mapping[str, str]] = {
    "store.init": "the store's schema was created or upgraded",
    "extract.ingest": "an extract was ingested (or rejected, outcome error)",
    "extract.list": "the list of extracts was read",
    "extract.read_quarantine": "an extract's quarantine report was read",
    "principal.add": "a principal was created with a first grant",
    "principal.list": "the list of principals was read",
    "principal.revoke": "a principal was deactivated and its token revoked",
    "grant.add": "a role was granted to a principal",
    "grant.revoke": "a grant was revoked",
    "authenticate": "a token was presented (deny: missing, malformed or unknown)",
    "request.create": "an analyst drafted a request",
    "request.update": "a draft or returned request was changed",
    "request.submit": "a request was submitted for checking",
    "request.check": "the disclosure engine checked a request",
    "request.approve": "an IG officer approved a request",
    "request.reject": "an IG officer rejected a request",
    "request.return": "an IG officer returned a request to its author",
    "request.withdraw": "the author withdrew a request",
    "request.read": "a request and its evidence were read",
    "request.list": "the list of requests was read",
    "release.export": "a release's artefacts were written and signed",
    "release.read": "a release or its artefact was read or downloaded",
    "release.revoke": "a release was revoked",
    "release.verify": "a release directory was verified",
    "check.run": "a pre-publication check ran on a table",
    "policy.read": "policies or the indicator catalogue were read",
    "audit.read": "the audit log was read or exported",
    "audit.report": "the audit report was produced",
    "audit.verify": "the audit chain was verified",
    "audit.checkpoint": "a signed checkpoint of the chain head was written",
    "key.export": "a public key was exported",
}

#: ``detail`` keys that can never hold a personal value or an unsuppressed count.
#: Row counts of extracts are deliberately absent: a small body's ER-case extract
#: has a handful of rows, and its size would be a count of people.
DETAIL_KEYS: Final = frozenset(
    {
        "kind",
        "period",
        "outcome",
        "reason",
        "permission",
        "superseded",
        "error",
        "checkpoint_size",
        "entries",
        "problems",
        "first_bad_seq",
        "state",
        "from_state",
        "to_state",
        "approvals",
        "approvals_lapsed",
        "tables",
        "cells",
        "primary",
        "secondary",
        "unsafe",
        "method",
        "format",
        "artefact",
        "grant_id",
        "role",
        "expires",
        "filter",
        "count",
        "safe",
    }
)

RULES: Final = EventRules.of(detail_keys=DETAIL_KEYS, actions=ACTIONS)


def event(
    actor: Actor,
    action: str,
    outcome: Outcome,
    *,
    now: datetime,
    resource: str = "-",
    body: str | None = None,
    purpose: str | None = None,
    policy_sha256: str | None = None,
    result_digest: str | None = None,
    detail: Mapping[str, DetailValue] | None = None,
) -> AuditEvent:
    """Build one audit event for ``actor`` (validated by the audit package)."""
    return AuditEvent(
        time=format_time(now),
        principal=actor.principal,
        role=actor.role,
        action=action,
        resource=resource,
        outcome=outcome,
        body=body if body is not None else actor.body,
        purpose=purpose,
        policy_sha256=policy_sha256,
        result_digest=result_digest,
        detail=dict(detail or {}),
    )
