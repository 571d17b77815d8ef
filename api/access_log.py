"""ASGI middleware: one operational log line per request, without ids or query."""

from __future__ import annotations

import time

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = structlog.get_logger()


class AccessLog:
    """ASGI middleware: one operational log line per request, without ids or query.

    Logs the route's template (``/v1/releases/{release_id}``), never the path, so no
    request or release id, filter value or token reaches the operational log.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def remember(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, remember)
        finally:
            log.info(
                "api_request",
                method=scope["method"],
                route=getattr(scope.get("route"), "path", "-"),
                status=status,
                seconds=round(time.perf_counter() - started, 4),
            )
