"""What one API server process shares, and the credential each request presents.

``Api`` holds the service, the rate limiter and the worker threads that run
service calls (the service is synchronous); ``Who`` is the dependency that takes
a request's bearer token, after the rate limit, for ``Api.act`` to authenticate
with the call itself.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Annotated, Any, Final, TypeVar

from fastapi import Depends
from fastapi.security import HTTPBearer
from starlette.requests import HTTPConnection

from api import schemas
from api.limits import RateLimiter, rate_key
from api.problems import RateLimitedError, TimedOutError
from governance.config import Settings
from governance.service import Service
from governance.service_outputs import CatalogueView

T = TypeVar("T")

#: Worker threads for service calls, within the store's pool of 10 connections (and
#: 5 more at most, ``governance.storage.sql.POOL_SIZE`` and ``POOL_OVERFLOW``). Most
#: calls hold one connection; an ingest holds two (its background writer has its
#: own), so 8 threads stay within 15 even when all of them ingest. More threads only
#: contend for the GIL: under the bench, 16 gave about the same throughput as 8 with
#: more than twice the p99.
WORKER_THREADS: Final = 8


class Api:
    """The service, limits and settings one server process shares."""

    def __init__(self, settings: Settings, service: Service | None = None) -> None:
        self.settings = settings
        self.service = service or Service(settings)
        self.limiter = RateLimiter(settings.api_rate_limit)
        # No more threads than the store's connection pool can serve at once: more
        # would only queue for a connection while contending for the GIL.
        self.threads = ThreadPoolExecutor(WORKER_THREADS, "wresgov-api")
        self._catalogue: tuple[CatalogueView, bytes] | None = None

    async def call(self, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run one service call in a worker thread, within the API timeout.

        On timeout the client is answered at once; the call itself runs on to the
        end of its transaction, so the action happens in full or not at all.
        (A plain executor: anyio's worker threads and cancel scopes cost several
        times as much CPU per call.)
        """
        bound = functools.partial(func, *args, **kwargs)
        context = contextvars.copy_context()
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self.settings.api_timeout):
                return await loop.run_in_executor(self.threads, context.run, bound)
        except TimeoutError:
            raise TimedOutError() from None

    def catalogue_json(self, view: CatalogueView) -> bytes:
        """The catalogue's response body, encoded once for the service's one view."""
        kept = self._catalogue
        if kept is None or kept[0] is not view:
            body = schemas.Catalogue(
                version=view.catalogue.version,
                tables=list(view.catalogue.tables),
                packs={
                    name: [s.name for s in specs] for name, specs in view.packs.items()
                },
                indicators=[
                    i.model_dump(mode="json", exclude_none=True)
                    for i in view.catalogue.indicators
                ],
            )
            kept = self._catalogue = (
                view,
                body.model_dump_json(by_alias=True).encode(),
            )
        return kept[1]

    async def act(
        self, func: Callable[..., T], who: Credential, *args: Any, **kwargs: Any
    ) -> T:
        """Authenticate ``who`` and run one service call, in one worker thread."""

        def run() -> T:
            return func(self.service.authenticate(who.token), *args, **kwargs)

        return await self.call(run)


@dataclass(frozen=True)
class Credential:
    """The bearer token a request presented (never shown in a repr)."""

    token: str | None = field(repr=False)


class _Bearer(HTTPBearer):
    """The presented bearer token, after the rate limit; ``Api.act`` authenticates
    it with the service call. (One dependency rather than a second one over
    ``HTTPBearer``: FastAPI's dependency resolution is a good part of a request.)"""

    async def __call__(  # type: ignore[override]  # a Credential, never None
        self, request: HTTPConnection
    ) -> Credential:
        credentials = await super().__call__(request)
        api: Api = request.app.state.api
        client = request.client.host if request.client else None
        wait = api.limiter.take(rate_key(request.headers.get("authorization"), client))
        if wait is not None:
            raise RateLimitedError(wait)
        return Credential(credentials.credentials if credentials is not None else None)


# The scheme keeps HTTPBearer's name in the OpenAPI document.
_bearer = _Bearer(
    auto_error=False, scheme_name="HTTPBearer", description="A wresgov token (wgv_...)."
)


#: The credential a request presented; ``Api.act`` authenticates it (401, audited).
Who = Annotated[Credential, Depends(_bearer)]
