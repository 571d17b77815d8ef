"""Every exception the governance core raises.

Messages name files, rows, fields and policy ids; they never quote a value from an
extract, because the value may be personal data. Third-party exceptions (pydantic,
SQLAlchemy, csv) are re-raised ``from None`` with our own message, since theirs can
embed input values.

GovernanceError                 base, never raised itself; anything else is a bug (exit 1)
├── UserError                   the user can fix it; one line, no traceback
│   ├── ConfigError             10  settings, key directory, database URL
│   ├── PolicyError             11  a policy file is missing, malformed or has unknown keys
│   ├── IngestError             12  an extract was rejected; the store is unchanged
│   ├── AccessDeniedError       13  the principal is not granted the action
│   │   └── AuthenticationError 13  the token is missing, malformed or unknown
│   ├── InvalidTransitionError  14  a request cannot move to that state
│   ├── TableError              15  a table or structure file cannot be used
│   ├── NotFoundError           16  no such request, release or principal
│   ├── ConflictError           17  it already exists
│   └── ReleaseError            18  release artefacts cannot be written as asked
├── DisclosureError             20  a release would breach policy: stop, tell the officer
└── AuditIntegrityError         21  the chain does not verify: stop, alert an operator
"""

from __future__ import annotations

from typing import ClassVar


class GovernanceError(Exception):
    """Base of every exception the core raises on purpose."""

    exit_code: ClassVar[int] = 1


class UserError(GovernanceError):
    """Expected failure the user can fix; shown as one line, never a traceback."""

    exit_code = 2


class ConfigError(UserError):
    exit_code = 10


class PolicyError(UserError):
    exit_code = 11


class IngestError(UserError):
    """An extract was rejected as a whole; nothing was written to the store."""

    exit_code = 12

    def __init__(
        self,
        problem: str,
        *,
        file: str | None = None,
        row: int | None = None,
        field: str | None = None,
    ) -> None:
        where = []
        if file is not None:
            where.append(file)
        if row is not None:
            where.append(f"row {row}")
        if field is not None:
            where.append(f"field {field!r}")
        prefix = ": ".join([", ".join(where)]) + ": " if where else ""
        super().__init__(f"{prefix}{problem}")
        self.file, self.row, self.field, self.problem = file, row, field, problem


class AccessDeniedError(UserError):
    """The principal may not do this; ``reason`` is machine-readable for the audit."""

    exit_code = 13

    def __init__(
        self, message: str, *, permission: str | None = None, reason: str | None = None
    ) -> None:
        super().__init__(message)
        self.permission, self.reason = permission, reason


class AuthenticationError(AccessDeniedError):
    """No usable token: missing, malformed, unknown, revoked. Never quotes the token."""


class InvalidTransitionError(UserError):
    exit_code = 14


class TableError(UserError):
    exit_code = 15


class NotFoundError(UserError):
    exit_code = 16


class ConflictError(UserError):
    """The thing already exists (a principal name, a request id)."""

    exit_code = 17


class ReleaseError(UserError):
    """A release cannot be written: unsafe file name, mismatched policy, bad inputs."""

    exit_code = 18


class DisclosureError(GovernanceError):
    exit_code = 20


class AuditIntegrityError(GovernanceError):
    exit_code = 21
