"""Principals, grants and tokens: who may do what, for which body, until when.

Decisions are made by ``governance.access`` (pure); this module stores principals and
grants, authenticates tokens, and records every decision in the audit log: an allow
in the same transaction as the action, a deny in its own transaction before the
``AccessDeniedError`` propagates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from governance import tokens
from governance.access import Grant, Principal, check_can_assign, validate_grant
from governance.access import Subject as Caller
from governance.errors import (
    AccessDeniedError,
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PolicyError,
)
from governance.models import SYSTEM as SYSTEM_ACTOR
from governance.models import Actor
from governance.service_core import ServiceCore

ANONYMOUS = Actor("anonymous", "none")


@dataclass(frozen=True)
class PrincipalView:
    principal: Principal
    grants: tuple[Grant, ...]


def expiry(day: date | None) -> datetime | None:
    """A grant given ``--expires DAY`` ends at the start of that day (UTC)."""
    return None if day is None else datetime.combine(day, time(0), tzinfo=UTC)


class AccessActions(ServiceCore):
    """Authentication and the administration of principals and grants."""

    def bootstrap_admin(self, name: str = "admin") -> str | None:
        """Create the first admin when the store has no principal; return its token.

        Returns None when principals exist already: the first admin's token is
        shown exactly once, by the ``init`` that created it.
        """
        now = self._clock()
        with self.store.transaction() as tx:
            if tx.count_principals():
                return None
            issued = tokens.issue_token()
            principal = Principal(name, name)
            tx.add_principal(
                principal,
                token_id=issued.token_id,
                token_hash=issued.token_hash,
                created_at=now,
                created_by="wresgov",
            )
            grant = Grant(name, "admin", None, now)
            validate_grant(grant, self.access_policy())
            grant_id = tx.add_grant(grant, created_by="wresgov")
            self._record(
                tx,
                SYSTEM_ACTOR,
                "principal.add",
                outcome="ok",
                resource=f"principal:{name}",
                policy_sha256=self.access_policy().sha256,
                detail={"role": "admin", "grant_id": grant_id},
            )
        return issued.token

    def authenticate(self, token: str | None) -> Caller:
        """Turn a presented token into a caller with its grants, or refuse.

        Raises:
            AuthenticationError: missing, malformed, unknown or revoked token (the
                refusal is audited; the token never is).
        """
        resource = "token"
        try:
            presented = tokens.parse_token(token or "")
            resource = f"token:{presented.token_id}"
            with self.store.reading() as tx:
                found = tx.principal_by_token(presented.token_id)
                tokens.check_token(presented, found[1] if found else None)
                assert found is not None  # noqa: S101 - check_token refused None
                principal, grants = found[0], tuple(found[2])
        except AuthenticationError as exc:
            self._record_failure(
                ANONYMOUS,
                "authenticate",
                outcome="deny",
                resource=resource,
                detail={"reason": exc.reason},
            )
            raise
        return Caller(principal, grants, self.access_policy(), self._clock())

    def caller_for(self, principal_id: str) -> Caller:
        """The caller for a principal without a token (tests, the demo's own steps).

        Raises:
            NotFoundError: no such principal.
        """
        with self.store.transaction() as tx:
            principal = tx.principal(principal_id)
            if principal is None:
                raise NotFoundError(f"no principal {principal_id!r}")
            grants = tuple(tx.grants_of(principal_id))
        return Caller(principal, grants, self.access_policy(), self._clock())

    def add_principal(
        self,
        caller: Caller,
        name: str,
        *,
        role: str,
        body: str | None = None,
        expires: date | None = None,
    ) -> str:
        """Create a principal with one grant; return its token (shown once).

        Raises:
            AccessDeniedError: the caller may not manage principals or give this role.
            ConflictError: the name is taken.
            PolicyError: unknown role, or a body that does not fit it.
        """
        who = self._authorise(
            caller,
            "principal.manage",
            action="principal.add",
            resource=f"principal:{name}",
        )
        now = self._clock()
        try:
            principal = Principal(name, name)
            grant = Grant(
                name, role, body.upper() if body else None, now, expiry(expires)
            )
        except ValueError as exc:
            raise PolicyError(str(exc)) from None
        self._check_assign(caller, who, grant, existing=())
        issued = tokens.issue_token()
        with self.store.transaction() as tx:
            tx.add_principal(
                principal,
                token_id=issued.token_id,
                token_hash=issued.token_hash,
                created_at=now,
                created_by=caller.id,
            )
            grant_id = tx.add_grant(grant, created_by=caller.id)
            self._record(
                tx,
                who,
                "principal.add",
                resource=f"principal:{name}",
                body=grant.body,
                policy_sha256=caller.policy.sha256,
                detail={"role": role, "grant_id": grant_id, "expires": _day(expires)},
            )
        return issued.token

    def add_grant(
        self,
        caller: Caller,
        name: str,
        *,
        role: str,
        body: str | None = None,
        expires: date | None = None,
    ) -> int:
        """Give an existing principal another role (optionally for one body, until)."""
        who = self._authorise(
            caller, "grant.manage", action="grant.add", resource=f"principal:{name}"
        )
        now = self._clock()
        with self.store.transaction() as tx:
            if tx.principal(name) is None:
                raise NotFoundError(f"no principal {name!r}")
            existing = tx.grants_of(name)
        try:
            grant = Grant(
                name, role, body.upper() if body else None, now, expiry(expires)
            )
        except ValueError as exc:
            raise PolicyError(str(exc)) from None
        self._check_assign(caller, who, grant, existing=existing)
        with self.store.transaction() as tx:
            grant_id = tx.add_grant(grant, created_by=caller.id)
            self._record(
                tx,
                who,
                "grant.add",
                resource=f"principal:{name}",
                body=grant.body,
                policy_sha256=caller.policy.sha256,
                detail={"role": role, "grant_id": grant_id, "expires": _day(expires)},
            )
        return grant_id

    def _check_assign(
        self,
        caller: Caller,
        who: Actor,
        grant: Grant,
        existing: list[Grant] | tuple[()],
    ) -> None:
        try:
            check_can_assign(caller, grant, existing)
        except AccessDeniedError as exc:
            self._record_failure(
                who,
                "grant.add",
                outcome="deny",
                resource=f"principal:{grant.principal_id}",
                detail={"permission": "grant.manage", "reason": exc.reason},
            )
            raise

    def revoke_grant(self, caller: Caller, grant_id: int) -> None:
        who = self._authorise(
            caller, "grant.manage", action="grant.revoke", resource=f"grant:{grant_id}"
        )
        with self.store.transaction() as tx:
            grant = tx.grant(grant_id)
            if grant is None:
                raise NotFoundError(f"no grant {grant_id}")
            tx.revoke_grant(grant_id, self._clock())
            self._record(
                tx,
                who,
                "grant.revoke",
                resource=f"grant:{grant_id}",
                body=grant.body,
                detail={"role": grant.role},
            )

    def revoke_principal(self, caller: Caller, name: str) -> None:
        """Deactivate a principal and make its token useless; grants stay recorded."""
        who = self._authorise(
            caller,
            "principal.manage",
            action="principal.revoke",
            resource=f"principal:{name}",
        )
        if name == caller.id:
            raise AccessDeniedError(
                "access denied: principal.manage: nobody revokes themselves",
                permission="principal.manage",
                reason="self_grant",
            )
        with self.store.transaction() as tx:
            if tx.principal(name) is None:
                raise NotFoundError(f"no principal {name!r}")
            tx.deactivate_principal(name)
            self._record(tx, who, "principal.revoke", resource=f"principal:{name}")

    def principals(self, caller: Caller) -> list[PrincipalView]:
        # Admins manage principals; IG officers read grants when reviewing access.
        permission = (
            "principal.manage"
            if caller.decide("principal.manage", body=None).allowed
            else "grant.read"
        )
        who = self._authorise(
            caller, permission, action="principal.list", resource="principals"
        )
        with self.store.transaction() as tx:
            views = [
                PrincipalView(principal, tuple(tx.grants_of(principal.id)))
                for principal in tx.principals()
            ]
            self._record(
                tx,
                who,
                "principal.list",
                resource="principals",
                detail={"count": len(views)},
            )
        return views


def _day(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


__all__ = ["AccessActions", "ConflictError", "PrincipalView"]
