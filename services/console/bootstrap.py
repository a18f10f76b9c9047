"""Composition root of the console: database, token issuer, backend clients, sign-in mail
sender, pages and routes."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.gzip import GZipMiddleware

from services.console import signin
from services.console.backend import Backend, ServiceName
from services.console.deps import Console, SignInRequired
from services.console.issuer import TokenIssuer, ensure_signing_key
from services.console.oidc import OidcSignIn
from services.console.pages import STATIC, Pages
from services.console.people import People
from services.console.routes import (
    audit,
    auth,
    complaints,
    convention,
    data,
    quality,
    session_changes,
    space,
    staff_steps,
    staff_steps_conclusion,
    staff_steps_convention,
    staff_steps_investigation,  # noqa: F401  # registers its steps
    staff_steps_preliminary,  # noqa: F401  # registers its steps
    staff_steps_sessions,  # noqa: F401  # registers its steps
    staff_team,
    surveys,
    synthesis,
)
from services.console.security import SecurityHeadersMiddleware
from services.console.sessions import COOKIE, SessionStore
from services.console.settings import ConsoleSettings
from services.console.signin import SignInLinks
from shared.clock import Clock, SystemClock
from shared.db import PLATFORM_MIGRATIONS, create_pool, load_migrations, migrate
from shared.logging import get_logger
from shared.mail import MailSender, SmtpTransport, Transport
from shared.web import Problem, RequestContextMiddleware, operations_router, problem_response
from shared.web.forwarded import trust_forwarded_for

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
PURGE_EVERY_S = 600.0
log = get_logger(__name__)


class ConsoleRuntime:
    """What the console runs: its pool, its mail sender and its chores."""

    def __init__(
        self,
        settings: ConsoleSettings,
        *,
        clock: Clock | None = None,
        transports: Mapping[ServiceName, httpx.AsyncBaseTransport] | None = None,
        mail_transport: Transport | None = None,
        run_background: bool = True,
    ) -> None:
        self.settings = settings
        self.clock = clock or SystemClock()
        if settings.environment == "development":
            ensure_signing_key(settings.signing_key_file)
        self.issuer = TokenIssuer.from_file(
            settings.signing_key_file, issuer=settings.token_issuer, audience=settings.jwt_audience
        )
        self._transports = transports
        self._mail_transport = mail_transport or SmtpTransport(settings)
        self._run_background = run_background
        self._pool: asyncpg.Pool | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.console: Console | None = None
        self.mail: MailSender | None = None

    @property
    def pool(self) -> asyncpg.Pool:
        assert self._pool is not None, "the console is not started"
        return self._pool

    async def start(self) -> Console:
        s = self.settings
        await migrate(s.database_url, load_migrations(PLATFORM_MIGRATIONS, MIGRATIONS))
        self._pool = await create_pool(
            s.database_url, min_size=s.database_pool_min, max_size=s.database_pool_max
        )
        backend = Backend(s, self.issuer, self._transports)
        people = People(backend)
        links = SignInLinks(self._pool, s, people)
        self.mail = MailSender(
            service=s.service_name,
            pool=self._pool,
            clock=self.clock,
            transport=self._mail_transport,
            resolver=people.contact,
            renderers={signin.TEMPLATE: links.render},
            on_sent={signin.TEMPLATE: links.link_sent},
            mail_from=s.mail_from,
            poll_interval_s=s.mail_poll_interval_s,
        )
        links.wake_mail = self.mail.wake
        self.console = Console(
            settings=s,
            clock=self.clock,
            pages=Pages(
                secure_cookies=s.secure_cookies, development=s.environment == "development"
            ),
            backend=backend,
            people=people,
            sessions=SessionStore(self._pool, idle=s.session_idle(), absolute=s.session_absolute()),
            links=links,
            pool=self._pool,
            oidc=OidcSignIn(self._pool, s) if s.oidc_enabled else None,
        )
        if self._run_background:
            self._tasks.append(asyncio.create_task(self._run_mail(), name="console-mail"))
            self._tasks.append(asyncio.create_task(self._purge(), name="console-purge"))
        return self.console

    async def _run_mail(self) -> None:
        assert self.mail is not None
        while True:
            try:
                await self.mail.run()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.error("mail_loop_crashed", error=type(exc).__name__)
                await asyncio.sleep(self.settings.mail_poll_interval_s)

    async def _purge(self) -> None:
        while True:
            await asyncio.sleep(PURGE_EVERY_S)
            assert self.console is not None
            try:
                await self.console.sessions.purge(self.clock.now())
                await self.console.links.purge(self.clock.now())
                if self.console.oidc is not None:
                    await self.console.oidc.purge(self.clock.now())
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("purge_failed", error=type(exc).__name__)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        if self.console is not None:
            await self.console.backend.aclose()
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def check_database(self) -> None:
        await asyncio.wait_for(self.pool.fetchval("SELECT 1"), 2)


def _wants_html(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "text/html" in accept or "json" not in accept


def _error_page(request: Request, status: int, code: str) -> Response:
    console: Console | None = getattr(request.app.state, "console", None)
    if console is None or not _wants_html(request):
        return problem_response(request, status, code, code.replace("_", " "))
    return console.pages.render(request, "error.html", status=status, code=code)


def install_error_pages(app: FastAPI) -> None:
    """Errors as French pages for browsers, as problem documents for machines."""

    @app.exception_handler(SignInRequired)
    async def _sign_in(request: Request, _exc: SignInRequired) -> Response:
        response = RedirectResponse("/connexion", status_code=303)
        if request.cookies.get(COOKIE):
            response.delete_cookie(COOKIE, path="/")  # a dead session's cookie
        return response

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> Response:
        page = _error_page(request, exc.status, exc.code)
        if "retry_after" in exc.extensions:
            page.headers["Retry-After"] = str(exc.extensions["retry_after"])
        return page

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        return _error_page(
            request, exc.status_code, "not_found" if exc.status_code == 404 else "error"
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        # A malformed id in a path is a page that does not exist.
        in_path = any(err.get("loc", ("",))[0] == "path" for err in exc.errors())
        return _error_page(
            request, 404 if in_path else 422, "not_found" if in_path else "invalid_form"
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.error("request_failed", error=type(exc).__name__, exc_info=exc)
        return _error_page(request, 500, "internal_error")


def create_app(
    settings: ConsoleSettings,
    *,
    clock: Clock | None = None,
    transports: Mapping[ServiceName, httpx.AsyncBaseTransport] | None = None,
    mail_transport: Transport | None = None,
    run_background: bool = True,
) -> FastAPI:
    """The console's app; nothing connects before its lifespan starts."""
    runtime = ConsoleRuntime(
        settings,
        clock=clock,
        transports=transports,
        mail_transport=mail_transport,
        run_background=run_background,
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.console = await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    app = FastAPI(
        title="Bilan — console",
        description="The web console (HTML pages; this schema lists the machine routes only).",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.console_runtime = runtime
    install_error_pages(app)
    # Pages and assets compressed (htmx: 51 KB, 16 KB gzipped); outermost but the timing.
    app.add_middleware(GZipMiddleware, minimum_size=1000)
    app.add_middleware(SecurityHeadersMiddleware, hsts=settings.secure_cookies)
    app.add_middleware(RequestContextMiddleware, service=settings.service_name)
    trust_forwarded_for(app, settings.trusted_proxies)
    app.include_router(operations_router({"database": runtime.check_database}))

    @app.get("/.well-known/jwks.json", tags=["tokens"], summary="The console's public keys")
    async def jwks() -> JSONResponse:
        return JSONResponse(runtime.issuer.jwks(), headers={"Cache-Control": "max-age=300"})

    for router in (
        auth.router,
        space.router,
        session_changes.router,
        convention.router,
        synthesis.router,
        complaints.router,
        data.router,
        surveys.router,
        audit.router,
        # The staff's steps: their documents' routes before the generic `/{step}` page.
        staff_steps_convention.router,
        staff_steps_conclusion.router,
        staff_steps.router,
        staff_team.router,
        quality.router,
    ):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app


def app_state(app: FastAPI) -> Any:
    """The runtime behind an app (tests)."""
    return app.state.console_runtime
