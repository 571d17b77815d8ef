"""Request limits: a per-token rate limit and a request-body size limit.

The rate limit is a token bucket per credential, kept in the server process: with
several server processes each holds its own buckets, so a client's effective limit
is the per-process limit times the processes its requests reach (docs/http-api.md).
The key is the token's public lookup id, never the token; requests without a
well-formed token are limited per client address.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import problem
from governance.tokens import ID_CHARS, TOKEN_PREFIX

#: Buckets kept before the oldest idle ones are dropped.
MAX_BUCKETS: Final = 10_000


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Token buckets: ``per_minute`` requests a minute, bursts up to the same."""

    def __init__(
        self, per_minute: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}

    def take(self, key: str) -> int | None:
        """Spend one request for ``key``; None if allowed, else seconds to wait."""
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= MAX_BUCKETS:
                self._forget_idle(now)
            bucket = self._buckets[key] = _Bucket(self.capacity, now)
        else:
            elapsed = now - bucket.updated
            bucket.tokens = min(self.capacity, bucket.tokens + elapsed * self.rate)
            bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return None
        return max(1, math.ceil((1.0 - bucket.tokens) / self.rate))

    def _forget_idle(self, now: float) -> None:
        full = self.capacity / self.rate  # seconds for an empty bucket to refill
        for key in [k for k, b in self._buckets.items() if now - b.updated >= full]:
            del self._buckets[key]
        if len(self._buckets) >= MAX_BUCKETS:
            self._buckets.clear()


def rate_key(authorization: str | None, client: str | None) -> str:
    """The public id of a bearer token, or the client's address."""
    if authorization:
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() == "bearer" and token.startswith(TOKEN_PREFIX):
            token_id = token[len(TOKEN_PREFIX) : len(TOKEN_PREFIX) + ID_CHARS]
            if len(token_id) == ID_CHARS:
                return f"token:{token_id}"
    return f"client:{client or '-'}"


class BodyLimit:
    """ASGI middleware: refuse request bodies over ``max_bytes`` with 413.

    A declared Content-Length over the limit is refused before reading; a body
    streamed without one is counted and cut off when it passes the limit.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None:
            try:
                too_big = int(declared) > self.max_bytes
            except ValueError:
                too_big = False
            if too_big:
                await self._refuse(scope, receive, send)
                return
        seen = 0
        started = False

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _TooLarge()
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited, tracking_send)
        except _TooLarge:
            if not started:
                await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem(
            413,
            "http-413",
            "Content too large",
            detail=f"request bodies are limited to {self.max_bytes:,} bytes",
            instance=scope.get("path"),
        )
        await response(scope, receive, send)


class _TooLarge(HTTPException):
    """Raised from ``receive``; the app's handlers turn it into a 413 problem."""

    def __init__(self) -> None:
        super().__init__(413, "the request body is too large")
