"""HTTP plumbing every service's FastAPI app shares: RFC 9457 problems, correlation ids,
request metrics, and the /healthz, /readyz and /metrics endpoints."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import structlog
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.eventstore import ConcurrencyError
from shared.idempotency import AlreadyDone
from shared.logging import get_logger
from shared.metrics import HTTP_LATENCY, HTTP_REQUESTS
from shared.transient import is_transient

PROBLEM_JSON = "application/problem+json"
CORRELATION_HEADER = "x-correlation-id"
_CORRELATION_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_STATUS_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    410: "gone",
    412: "precondition_failed",
    413: "content_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    428: "precondition_required",
    429: "too_many_requests",
    500: "internal_error",
    503: "unavailable",
}

RETRY_AFTER_S = 2
MAX_ECHOED_ERRORS = 20
"""A 422 lists at most this many validation errors: a body of a million wrong keys must not
answer a hundred megabytes."""
_MAX_ERROR_MESSAGE = 300

log = get_logger(__name__)


class Problem(Exception):
    """An error answered as `application/problem+json` with a machine-readable `code`."""

    def __init__(self, status: int, code: str, detail: str, **extensions: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.extensions = extensions


def problem_response(
    request: Request, status: int, code: str, detail: str, **extensions: Any
) -> JSONResponse:
    body = {
        "type": f"urn:bilan:problem:{code}",
        "title": code.replace("_", " ").capitalize(),
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        "code": code,
        "correlation_id": structlog.contextvars.get_contextvars().get("correlation_id"),
        **extensions,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def install_problem_handlers(app: FastAPI) -> None:
    """Every error, ours or the framework's, leaves as a problem document."""

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(request, exc.status, exc.code, exc.detail, **exc.extensions)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _STATUS_CODES.get(exc.status_code, "error")
        response = problem_response(request, exc.status_code, code, str(exc.detail))
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        # Where and what, never the submitted value: it may be personal data.
        found = exc.errors()
        errors = [
            {
                "loc": [str(part)[:_MAX_ERROR_MESSAGE] for part in err.get("loc", ())][:10],
                "type": err.get("type"),
                "msg": str(err.get("msg", ""))[:_MAX_ERROR_MESSAGE],
            }
            for err in found[:MAX_ECHOED_ERRORS]
        ]
        return problem_response(
            request,
            422,
            "invalid_request",
            "the request does not match the schema",
            errors=errors,
            errors_total=len(found),
        )

    @app.exception_handler(ConcurrencyError)
    async def _conflict(request: Request, exc: ConcurrencyError) -> JSONResponse:
        return problem_response(
            request,
            409,
            "concurrency_conflict",
            "the resource changed since you read it; read it again and retry",
            expected_version=exc.expected,
        )

    @app.exception_handler(AlreadyDone)
    async def _already_done(request: Request, exc: AlreadyDone) -> JSONResponse:
        # Replaced by the first outcome in IdempotencyMiddleware; never reaches a client.
        return problem_response(request, 409, "idempotent_replay", "answered by the first request")

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        if is_transient(exc):
            # The database (or a service this one calls) is away: nothing was committed
            # unless the commit itself went through, which an Idempotency-Key makes safe to
            # retry. 503 with Retry-After tells a client to do just that.
            log.warning("request_unavailable", error=type(exc).__name__)
            response = problem_response(
                request,
                503,
                "service_unavailable",
                "a service this request needs is unavailable; retry in a few seconds "
                "(with the same Idempotency-Key for a creating request)",
            )
            response.headers["Retry-After"] = str(RETRY_AFTER_S)
            return response
        log.error("request_failed", error=type(exc).__name__, exc_info=exc)
        return problem_response(request, 500, "internal_error", "an unexpected error occurred")


PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "description": "An RFC 9457 problem document; `code` is stable and machine-readable.",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "code": {"type": "string"},
        "correlation_id": {"type": ["string", "null"]},
    },
    "additionalProperties": True,
}
DECLARED_PROBLEMS: dict[int, str] = {
    400: "Malformed request (an unreadable body, a bad If-Match)",
    401: "No valid bearer token",
    403: "The caller may not do this",
    404: "No such resource, or not one the caller may know of",
    409: "The current state forbids it, or the version is stale",
    410: "Gone for good (erased, destroyed, expired)",
    413: "The request body is too large",
    415: "The body is not JSON",
    422: "The request does not match the schema or breaks a rule",
    428: "If-Match is required",
    429: "Too many requests from this client",
    500: "An unexpected error",
    503: "A dependency does not answer (yet)",
}
"""The problems any route may answer, declared on every operation with their media type."""


def declare_problems(app: FastAPI) -> None:
    """Make the app's OpenAPI document say what it answers: every operation lists the problem
    responses with `application/problem+json` (FastAPI's own 422 says `application/json` and a
    schema the app never sends), so a schema-driven client is told the truth."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = build()
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        schemas["Problem"] = PROBLEM_SCHEMA
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)
        reference = {"$ref": "#/components/schemas/Problem"}
        for operations in document.get("paths", {}).values():
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                for status, description in DECLARED_PROBLEMS.items():
                    declared = responses.setdefault(str(status), {"description": description})
                    if status == 422:
                        declared["description"] = description
                    # Only the problem media type, keeping a route's own example of it.
                    kept = declared.get("content", {}).get(PROBLEM_JSON, {})
                    declared["content"] = {PROBLEM_JSON: {**kept, "schema": reference}}
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]


class RequestContextMiddleware:
    """Binds the correlation id (from `X-Correlation-ID`, or new) and records request metrics."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self._app = app
        self._service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        incoming = _header(scope, CORRELATION_HEADER)
        correlation_id = (
            incoming if incoming and _CORRELATION_ID.match(incoming) else str(uuid.uuid4())
        )
        request_id = str(uuid.uuid4())
        status_holder = {"status": 500}

        async def send_with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                headers = list(message.get("headers", []))
                headers.append((CORRELATION_HEADER.encode(), correlation_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        started = time.perf_counter()
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(
            service=self._service, correlation_id=correlation_id, request_id=request_id
        )
        try:
            await self._app(scope, receive, send_with_header)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", "unmatched")
            HTTP_REQUESTS.labels(
                self._service, scope["method"], template, str(status_holder["status"])
            ).inc()
            HTTP_LATENCY.labels(self._service, scope["method"], template).observe(
                time.perf_counter() - started
            )


class BodySizeLimitMiddleware:
    """Refuses a request body larger than `max_bytes` with 413 before anything parses it.

    A declared `Content-Length` over the limit is refused at once; a body sent without one
    (chunked) is read up to the limit and refused as soon as it goes beyond. Parsing a 20 MB
    JSON document of a million keys would hold the event loop for seconds, every other request
    of the process (its health check too) waiting behind it."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self._app = app
        self._max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        declared = _header(scope, "content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self._max_bytes):
            await self._refuse(scope, send)
            return
        if declared is not None:
            await self._app(scope, receive, send)  # the server holds it to the declared length
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self._max_bytes:
                await self._refuse(scope, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": b"".join(chunks), "more_body": False}

        await self._app(scope, replay, send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        response = problem_response(
            Request(scope),
            413,
            "content_too_large",
            f"the request body is larger than {self._max_bytes} bytes",
            max_bytes=self._max_bytes,
        )
        response.headers["Connection"] = "close"
        await response(scope, _no_receive, send)


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}


def _header(scope: Scope, name: str) -> str | None:
    wanted = name.encode()
    for key, value in scope.get("headers", []):
        if key.lower() == wanted:
            text: str = value.decode("latin-1")
            return text
    return None


ReadinessCheck = Callable[[], Awaitable[None]]
LoopStates = Callable[[], Mapping[str, str]]
"""Each background loop's state: `running`, or why it is not (`died: KeyError`)."""

RUNNING = "running"


def operations_router(
    checks: Mapping[str, ReadinessCheck],
    *,
    informational: Mapping[str, ReadinessCheck] | None = None,
    loops: LoopStates | None = None,
) -> APIRouter:
    """`/healthz` (alive), `/readyz` (can serve its requests) and `/metrics`.

    Readiness means "this process can serve its requests": `checks` are what a request needs
    (the database); `informational` dependencies are reported but do not make the process
    unready (Kafka: commands keep being accepted through the outbox during a broker outage,
    and taking every pod out of its Service for it would turn a broker blip into an outage).
    A background loop that died (the relay, the consumer, the timers) makes the process both
    unready and not alive, so that the supervisor (`bilan up`'s, or Kubernetes' liveness
    probe) restarts it rather than leave it accepting work it will never finish.
    """
    router = APIRouter(tags=["operations"])
    extra = dict(informational or {})

    def dead_loops() -> dict[str, str]:
        states = dict(loops() if loops is not None else {})
        return {name: state for name, state in states.items() if state != RUNNING}

    @router.get("/healthz", summary="The process is alive", response_model=None)
    async def healthz(request: Request) -> JSONResponse | dict[str, Any]:
        dead = dead_loops()
        if not dead:
            return {"status": "ok"}
        return problem_response(
            request, 503, "unavailable", "a background loop of this process died", loops=dead
        )

    @router.get("/readyz", summary="The process can serve its requests", response_model=None)
    async def readyz(request: Request) -> JSONResponse | dict[str, Any]:
        results = {name: await _run_check(check) for name, check in checks.items()}
        dependencies = {name: await _run_check(check) for name, check in extra.items()}
        states = dict(loops() if loops is not None else {})
        body: dict[str, Any] = {"checks": results}
        if dependencies:
            body["dependencies"] = dependencies
        if states:
            body["loops"] = states
        if all(v == "ok" for v in results.values()) and all(v == RUNNING for v in states.values()):
            return {"status": "ready", **body}
        return problem_response(
            request, 503, "unavailable", "this process cannot serve its requests", **body
        )

    @router.get("/metrics", summary="Prometheus metrics", response_class=Response)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router


async def _run_check(check: ReadinessCheck) -> str:
    try:
        await check()
        return "ok"
    except Exception as exc:
        return f"unavailable: {type(exc).__name__}"


# The command kit (If-Match, ETag, transaction, refusals) lives in shared.web.commands; it is
# imported last because it builds on the problems above.
from shared.web.commands import (  # noqa: E402
    CommandContext,
    GuardedCommandContext,
    IfMatch,
    IfMatchHeader,
    OnAggregate,
    OnGuardedAggregate,
    Tx,
    install_refusal_handler,
    parse_if_match,
    set_etag,
)

__all__ = [
    "RUNNING",
    "BodySizeLimitMiddleware",
    "CommandContext",
    "GuardedCommandContext",
    "IfMatch",
    "IfMatchHeader",
    "OnAggregate",
    "OnGuardedAggregate",
    "Problem",
    "RequestContextMiddleware",
    "Tx",
    "declare_problems",
    "install_problem_handlers",
    "install_refusal_handler",
    "operations_router",
    "parse_if_match",
    "problem_response",
    "set_etag",
]
