"""What a request looks like to the people who read it, never a hidden value.

:class:`RequestInfo` is a request as its requester and reviewers see it: the
stored record, its table specifications, its releases and the approvals that
still count. :func:`recorded_view` is the workflow's view of a request whose
approvals are history. ``governance.service_requests`` builds both.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from governance.models import ReleaseRecord, RequestRecord, RequestSummary
from governance.tablespec import TableSpec
from governance.workflow import RequestView


@dataclass(frozen=True)
class RequestInfo:
    """A request as its requester and reviewers see it (never a hidden value)."""

    record: RequestRecord
    specs: tuple[TableSpec, ...]
    releases: tuple[ReleaseRecord, ...]
    standing: tuple[str, ...] = ()
    """The approvers whose approvals count now (see ``governance.service_requests``)."""

    @property
    def id(self) -> int:
        return self.record.id

    @property
    def lapsed(self) -> frozenset[str]:
        """Approvers on the record whose approvals no longer count: the officer's
        grant was revoked, expired or moved to another body, or the officer was
        deactivated."""
        return frozenset(p for p, _ in self.record.approvals) - set(self.standing)

    @property
    def state(self) -> str:
        return self.record.state

    def evidence(self) -> dict[str, Any] | None:
        raw = self.record.evidence_json
        return None if raw is None else dict(json.loads(raw))


def recorded_view(request: RequestRecord | RequestSummary) -> RequestView:
    """A request's view with every recorded approval, standing or not.

    The workflow's view for a request no longer awaiting its release (released,
    revoked, ...), whose approvals are history; ``governance.service_requests`` narrows a
    request that still awaits its release to its standing approvals.
    """
    return RequestView(
        id=request.id,
        requester_id=request.requester,
        state=request.state,  # type: ignore[arg-type]  # stored from State values
        body=request.body,
        approvals=tuple(principal for principal, _ in request.approvals)
        if isinstance(request, RequestRecord)
        else request.approvals,
        evidence=request.evidence,  # type: ignore[arg-type]  # stored Evidence
    )
