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
    415: "unsupported_media_type",
    422: "invalid_request",
    428: "precondition_required",
    429: "too_many_requests",
    500: "internal_error",
    503: "unavailable",
}

RETRY_AFTER_S = 2
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
        errors = [
            {"loc": list(err.get("loc", ())), "type": err.get("type"), "msg": err.get("msg")}
            for err in exc.errors()
        ]
        return problem_response(
            request, 422, "invalid_request", "the request does not match the schema", errors=errors
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
