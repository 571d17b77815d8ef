"""The HTTP API: a thin ASGI layer over ``governance.Service``.

Each handler authenticates the bearer token, calls one service method in a worker
thread (the service is synchronous and opens one transaction per action), and turns
the result into a response model. Authorisation, auditing and every rule live in the
service: a handler holds no business logic. Errors are RFC 9457 problem details
(``api.problems``).
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any, Final, Literal, TypeVar

import structlog
from fastapi import (
    FastAPI,
    File,
    Form,
    Path,
    Query,
    Request,
    Response,
    UploadFile,
)
from fastapi.responses import PlainTextResponse

from api import schemas
from api.access_log import AccessLog
from api.context import Api, Who
from api.limits import BodyLimit
from api.problems import HANDLERS
from governance import __version__
from governance.access import Subject as Caller
from governance.audit_report import entries_csv, entries_jsonl
from governance.config import Settings
from governance.errors import TableError
from governance.models import MAX_ROW_ID, AuditQuery
from governance.request_specs import pack_specs
from governance.sdc.check_report import result_mapping
from governance.service import Service

T = TypeVar("T")

log = structlog.get_logger()

#: The version prefix of every endpoint but the OpenAPI document.
PREFIX: Final = "/v1"
AUDIT_PAGE_MAX: Final = 100_000
_DOWNLOAD_CSP: Final = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; sandbox"
)


#: A request's id in a path (a stored row id: larger ones cannot exist).
RequestId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]
#: A release's id in a path.
ReleaseId = Annotated[
    str, Path(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9._-]+$")
]


def create_app(settings: Settings, *, service: Service | None = None) -> FastAPI:
    """Build the ASGI application over one service (its store opened lazily)."""
    api = Api(settings, service)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        api.threads.shutdown()  # calls still running finish first
        api.service.close()

    app = FastAPI(
        title="wresgov",
        version=__version__,
        summary="Cleared WRES aggregates, release requests and the audit log.",
        description=(
            "Every call but `/v1/health` needs a bearer token and is recorded in the"
            " tamper-evident audit log, allowed or denied. Errors are RFC 9457"
            " problem details. See docs/http-api.md."
        ),
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
        responses={
            401: {"model": schemas.Problem, "description": "Missing or bad token"},
            403: {"model": schemas.Problem, "description": "Denied by the policy"},
            422: {"model": schemas.Problem, "description": "Invalid input"},
            429: {"model": schemas.Problem, "description": "Rate limit"},
        },
    )
    app.state.api = api
    for error, handler in HANDLERS:
        app.add_exception_handler(error, handler)
    app.add_middleware(BodyLimit, max_bytes=settings.api_max_body)

    app.add_middleware(AccessLog)

    service = api.service

    # -- health and metadata -----------------------------------------------------------

    @app.get(f"{PREFIX}/health", tags=["meta"])
    async def health() -> schemas.Health:
        """Liveness and the store's schema version (no token; not audited)."""
        version = await api.call(service.store.schema_version)
        return schemas.Health(
            status="ok",
            version=__version__,
            database=service.store.dialect,
            schema_version=version or 0,
        )

    @app.get(f"{PREFIX}/catalogue", tags=["meta"], response_model=schemas.Catalogue)
    async def catalogue(who: Who) -> Response:
        """The tables one may request, the named packs and the indicators."""
        view = await api.act(service.catalogue, who)
        return Response(api.catalogue_json(view), media_type="application/json")

    @app.get(f"{PREFIX}/policies", tags=["meta"])
    async def policies(who: Who) -> list[schemas.Policy]:
        """Every policy file in force, with its SHA-256."""
        return [schemas.Policy.of(v) for v in await api.act(service.policies, who)]

    @app.get(f"{PREFIX}/policies/{{policy_id}}", tags=["meta"])
    async def policy(
        who: Who, policy_id: Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9_-]*$")]
    ) -> schemas.Policy:
        """One policy file's text and SHA-256."""
        return schemas.Policy.of(await api.act(service.policy, who, policy_id))

    # -- requests ------------------------------------------------------------------------

    @app.get(f"{PREFIX}/requests", tags=["requests"])
    async def list_requests(who: Who) -> list[schemas.Request]:
        """Every request for IG officers; one's own for analysts."""
        return [
            schemas.Request.of(i) for i in await api.act(service.list_requests, who)
        ]

    @app.post(f"{PREFIX}/requests", status_code=201, tags=["requests"])
    async def create_request(who: Who, body: schemas.RequestCreate) -> schemas.Request:
        """Draft a request for cleared tables (or a named pack) with its purpose."""
        if (body.tables is None) == (body.pack is None):
            raise TableError("give exactly one of 'tables' and 'pack'")
        tables = body.tables if body.tables is not None else pack_specs(body.pack or "")
        info = await api.act(
            service.create_request,
            who,
            purpose=body.purpose,
            period=body.period,
            tables=tables,
            body=body.body,
            pack=body.pack,
            policy_id=body.policy,
        )
        if body.submit:
            info = await api.act(service.submit_request, who, info.id)
        return schemas.Request.of(info, evidence=body.submit)

    @app.get(f"{PREFIX}/requests/{{request_id}}", tags=["requests"])
    async def show_request(who: Who, request_id: RequestId) -> schemas.Request:
        """A request with the engine's evidence (requester and reviewers)."""
        info = await api.act(service.show_request, who, request_id)
        return schemas.Request.of(info, evidence=True)

    def _step(name: str, method: Callable[[Caller, int], Any], doc: str) -> None:
        async def step(who: Who, request_id: RequestId) -> schemas.Request:
            info = await api.act(method, who, request_id)
            return schemas.Request.of(info, evidence=True)

        step.__doc__ = doc
        app.post(
            f"{PREFIX}/requests/{{request_id}}/{name}",
            tags=["requests"],
            name=f"{name}_request",
            response_model=schemas.Request,
        )(step)

    _step("submit", service.submit_request, "Submit; the automated checks run now.")
    _step("withdraw", service.withdraw_request, "Withdraw one's own request.")
    _step(
        "approve", service.approve_request, "Approve (IG officer, not the requester)."
    )
    _step("reject", service.reject_request, "Reject (IG officer).")
    _step("return", service.return_request, "Return to the requester (IG officer).")
    _step("revoke", service.revoke_release, "Revoke the release (IG officer).")

    @app.post(
        f"{PREFIX}/requests/{{request_id}}/release", status_code=201, tags=["releases"]
    )
    async def release_request(who: Who, request_id: RequestId) -> schemas.Release:
        """Write the approved request's tables as a signed release (its requester)."""
        record = await api.act(service.export_release, who, request_id)
        view = await api.act(service.release, who, record.id)
        return schemas.Release.of(view, files=True)

    # -- releases ------------------------------------------------------------------------

    @app.get(f"{PREFIX}/releases", tags=["releases"])
    async def list_releases(who: Who) -> list[schemas.Release]:
        """The releases the caller may read (released, not revoked, in scope)."""
        return [schemas.Release.of(v) for v in await api.act(service.releases, who)]

    @app.get(f"{PREFIX}/releases/{{release_id}}", tags=["releases"])
    async def show_release(who: Who, release_id: ReleaseId) -> schemas.Release:
        """A release and its files, each with its SHA-256 from the signed manifest."""
        return schemas.Release.of(
            await api.act(service.release, who, release_id), files=True
        )

    @app.get(
        f"{PREFIX}/releases/{{release_id}}/files/{{path:path}}",
        tags=["releases"],
        response_class=Response,
        responses={
            200: {
                "content": {"application/octet-stream": {}},
                "description": "The file",
            },
            304: {"description": "Not modified (If-None-Match matched the ETag)"},
        },
    )
    async def release_file(
        request: Request, who: Who, release_id: ReleaseId, path: str
    ) -> Response:
        """Download one file of a release; the ETag is its SHA-256."""
        artefact = await api.act(service.release_artefact, who, release_id, path)
        etag = f'"{artefact.info.sha256}"'
        headers = {
            "ETag": etag,
            "Cache-Control": "private, no-cache",
            # Released HTML and SVG are downloads, never active content on this origin.
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": _DOWNLOAD_CSP,
            "Content-Disposition": (
                f'attachment; filename="{artefact.info.path.rsplit("/", 1)[-1]}"'
            ),
        }
        match = request.headers.get("if-none-match", "")
        if etag in {tag.strip() for tag in match.split(",")} or match.strip() == "*":
            return Response(status_code=304, headers=headers)
        return Response(
            artefact.data, media_type=artefact.info.media_type, headers=headers
        )

    # -- checks --------------------------------------------------------------------------

    @app.post(f"{PREFIX}/checks", tags=["checks"])
    async def run_check(
        who: Who,
        table: Annotated[UploadFile, File(description="Tidy CSV table to check.")],
        structure: Annotated[
            UploadFile | None, File(description="Structure file (YAML or JSON).")
        ] = None,
        policy: Annotated[str, Form(pattern=r"^[a-z0-9][a-z0-9_-]*$")] = "wres-wales",
    ) -> schemas.CheckReport:
        """Check a table before publication with the exact attacker audit.

        200 with ``safe`` true or false when the check ran; 422 when the table cannot
        be read as a count table.
        """
        table_bytes = await table.read()
        structure_bytes = await structure.read() if structure is not None else None
        result = await api.act(
            service.check_upload,
            who,
            table_bytes,
            name=_upload_name(table.filename),
            structure=structure_bytes,
            policy_id=policy,
        )
        return schemas.CheckReport.model_validate(result_mapping(result))

    # -- the audit log -------------------------------------------------------------------

    @app.get(
        f"{PREFIX}/audit/entries",
        tags=["audit"],
        responses={
            200: {
                "content": {
                    "text/csv": {},
                    "application/x-ndjson": {},
                }
            }
        },
    )
    async def audit_entries(
        who: Who,
        principal: str | None = None,
        role: str | None = None,
        action: str | None = None,
        body: str | None = None,
        outcome: Literal["allow", "deny", "ok", "error"] | None = None,
        request_id: Annotated[int | None, Query(alias="request", ge=1)] = None,
        since: str | None = None,
        until: str | None = None,
        limit: Annotated[int, Query(ge=1, le=AUDIT_PAGE_MAX)] = 1000,
        format: Literal["json", "csv", "jsonl"] = "json",  # noqa: A002 - the query name
    ) -> Any:
        """Audit entries matching the filters (IG officers); csv/jsonl export them."""
        query = AuditQuery.of(
            principal=principal,
            role=role,
            action=action,
            body=body,
            outcome=outcome,
            request=request_id,
            since=since,
            until=until,
            limit=limit,
        )
        export = None if format == "json" else format
        entries = await api.act(service.audit_log, who, query, export=export)
        if format == "csv":
            return PlainTextResponse(entries_csv(entries), media_type="text/csv")
        if format == "jsonl":
            return PlainTextResponse(
                entries_jsonl(entries), media_type="application/x-ndjson"
            )
        return [schemas.AuditEntry.model_validate(e.to_export()) for e in entries]

    @app.post(f"{PREFIX}/audit/verify", tags=["audit"])
    async def audit_verify(who: Who) -> schemas.Verification:
        """Verify the whole chain and every signed checkpoint."""
        result = await api.act(service.verify_audit, who)
        return schemas.Verification(
            ok=result.ok,
            entries=result.report.entries,
            stored_size=result.stored_size,
            checkpoints=result.checkpoints,
            first_bad_seq=result.first_bad_seq,
            summary=result.summary(),
            problems=[str(p) for p in result.report.problems[:100]],
        )

    @app.post(f"{PREFIX}/audit/checkpoints", status_code=201, tags=["audit"])
    async def audit_checkpoint(who: Who) -> schemas.Checkpoint:
        """Sign the chain head now and keep the checkpoint outside the store."""
        result = await api.act(service.checkpoint, who)
        return schemas.Checkpoint(size=result.size, head_hash=result.head_hex)

    @app.get(f"{PREFIX}/audit/report", tags=["audit"])
    async def audit_report(
        who: Who, since: str | None = None, until: str | None = None
    ) -> schemas.AuditReport:
        """Activity per principal and action, denials, and flags to review."""
        report = await api.act(service.audit_report, who, since=since, until=until)
        return schemas.AuditReport(
            entries=report.entries,
            first_time=report.first_time,
            last_time=report.last_time,
            denials=report.denials,
            activity=[schemas.Activity(**vars(row)) for row in report.activity],
            flags=[schemas.ReportFlag(**vars(flag)) for flag in report.flags],
        )

    return app


def _upload_name(filename: str | None) -> str:
    """A safe name for messages: the upload's base name, or ``upload.csv``."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    printable = "".join(ch for ch in name if ch.isprintable())[:80]
    return printable or "upload.csv"


def ready_to_serve(app: FastAPI) -> FastAPI:
    """Move what start-up made out of the garbage collector's way; the app.

    A full collection walks every object that survived start-up (about 120,000:
    modules, models, routes), holding the GIL: 60 to 180 ms per collection under the
    bench, a stall for every request in the process. Frozen, they are not walked
    again (nor freed; they live as long as the process anyway).
    """
    gc.collect()
    gc.freeze()
    return app


def app_from_environment() -> FastAPI:
    """The application configured from ``WRESGOV_*`` variables (uvicorn's factory)."""
    import os

    from governance.config import load_settings
    from governance.logging import configure

    settings = load_settings(os.environ)
    configure(renderer=settings.log_format, level=settings.log_level)
    return ready_to_serve(create_app(settings))
