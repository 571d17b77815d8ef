"""RFC 9457 problem details: every error the API returns, in one shape.

A problem's ``detail`` comes from the service's error message, which by the core's
rules names files, rows, fields, requests and permissions, never a value from an
extract. Validation errors keep only where and what (``loc``, ``msg``), never the
rejected input. Anything unexpected becomes a bare 500 whose detail says nothing.
"""

from __future__ import annotations

from typing import Final

import structlog
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from governance.errors import (
    AccessDeniedError,
    AuditIntegrityError,
    AuthenticationError,
    ConfigError,
    ConflictError,
    DisclosureError,
    GovernanceError,
    InvalidTransitionError,
    NotFoundError,
    ReleaseError,
)

MEDIA_TYPE: Final = "application/problem+json"
TYPE_BASE: Final = "https://github.com/wresgov/wresgov/blob/main/docs/http-api.md#"

log = structlog.get_logger()


class RateLimitedError(Exception):
    """A token (or an anonymous client) went over its rate limit."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("rate limit exceeded")
        self.retry_after = retry_after


class TimedOutError(Exception):
    """A request took longer than the API timeout."""


#: (error class, HTTP status, problem type, title), most specific first.
_MAPPING: Final[tuple[tuple[type[Exception], int, str, str], ...]] = (
    (AuthenticationError, 401, "unauthenticated", "Authentication required"),
    (AccessDeniedError, 403, "forbidden", "Access denied"),
    (NotFoundError, 404, "not-found", "Not found"),
    (InvalidTransitionError, 409, "invalid-transition", "Not allowed in this state"),
    (ConflictError, 409, "conflict", "Conflict"),
    (DisclosureError, 409, "disclosure", "Disclosure control refused"),
    (ReleaseError, 409, "release-unavailable", "Release unavailable"),
    (AuditIntegrityError, 503, "audit-integrity", "Audit log unavailable"),
    (ConfigError, 503, "server-configuration", "Server not configured"),
    (GovernanceError, 422, "invalid-input", "Invalid input"),
)


def problem(
    status: int,
    kind: str,
    title: str,
    *,
    detail: str | None = None,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: object,
) -> JSONResponse:
    body: dict[str, object] = {
        "type": TYPE_BASE + kind,
        "title": title,
        "status": status,
    }
    if detail is not None:
        body["detail"] = detail
    if instance is not None:
        body["instance"] = instance
    body.update({k: v for k, v in extra.items() if v is not None})
    return JSONResponse(
        body, status_code=status, headers=headers, media_type=MEDIA_TYPE
    )


async def governance_error(request: Request, exc: Exception) -> JSONResponse:
    found = next((row for row in _MAPPING if isinstance(exc, row[0])), None)
    if found is None:  # pragma: no cover - GovernanceError closes the mapping
        return await unexpected_error(request, exc)
    _cls, status, kind, title = found
    detail: str | None = str(exc)
    if status == 503:
        # Server-side trouble: the operator reads the log, the client gets no paths.
        log.error("api_server_error", exc_type=type(exc).__name__)
        detail = "the server cannot do this now; its operators have been told"
    headers = None
    if isinstance(exc, AuthenticationError):
        # The service's message speaks of the CLI's WRESGOV_TOKEN; say it for HTTP.
        detail = f"send a valid token as 'Authorization: Bearer <token>' ({exc.reason})"
        headers = {"WWW-Authenticate": "Bearer"}
    reason = exc.reason if isinstance(exc, AccessDeniedError) else None
    return problem(
        status, kind, title, detail=detail, instance=request.url.path,
        headers=headers, reason=reason,
    )  # fmt: skip


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)  # noqa: S101 - registered for it
    errors = [
        {"loc": ".".join(str(p) for p in err.get("loc", ())), "msg": str(err["msg"])}
        for err in exc.errors()
    ]
    return problem(
        422, "invalid-request", "Invalid request",
        detail=f"{len(errors)} invalid field(s)", instance=request.url.path,
        errors=errors,
    )  # fmt: skip


async def http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)  # noqa: S101 - registered for it
    titles = {404: "Not found", 405: "Method not allowed", 413: "Content too large"}
    return problem(
        exc.status_code,
        f"http-{exc.status_code}",
        titles.get(exc.status_code, "HTTP error"),
        detail=str(exc.detail) if exc.detail else None,
        instance=request.url.path,
        headers=dict(exc.headers) if exc.headers else None,
    )


async def rate_limited(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RateLimitedError)  # noqa: S101 - registered for it
    return problem(
        429, "rate-limited", "Too many requests",
        detail=f"retry after {exc.retry_after} s", instance=request.url.path,
        headers={"Retry-After": str(exc.retry_after)},
    )  # fmt: skip


async def timed_out(request: Request, exc: Exception) -> JSONResponse:
    return problem(
        503, "timeout", "Request timed out",
        detail="the request took too long; an action either completed in full or not"
        " at all: read its state before retrying",
        instance=request.url.path, headers={"Retry-After": "5"},
    )  # fmt: skip


async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    # The type only: an exception's message could carry anything.
    log.error("api_unexpected_error", exc_type=type(exc).__name__)
    return problem(500, "internal", "Internal server error", instance=request.url.path)


HANDLERS: Final = (
    (GovernanceError, governance_error),
    (RequestValidationError, validation_error),
    (HTTPException, http_error),
    (RateLimitedError, rate_limited),
    (TimedOutError, timed_out),
    (Exception, unexpected_error),
)
