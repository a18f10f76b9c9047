"""Calls to the services' public APIs, as the signed-in person (their own short-lived token),
or as the console itself (role `service`) for the few internal look-ups of sign-in.

The person's token keeps the services' need-to-know checks and access log working: the
console never reads a person's data with more rights than that person has.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import httpx

from services.console.issuer import TokenIssuer
from services.console.sessions import Session
from services.console.settings import ConsoleSettings
from shared.auth import ALL_SITES, Role
from shared.web import Problem

ServiceName = Literal["dossier", "scheduling", "survey", "reporting"]
TOKEN_CACHE_SIZE = 10_000


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: Any
    headers: httpx.Headers
    content: bytes

    @property
    def etag(self) -> str | None:
        value: str | None = self.headers.get("etag")
        return value


def _wall_time() -> datetime:
    """Tokens carry the real time: the services check `iat`/`exp` against their wall clocks,
    whatever business clock (a test's, the demo's) the console runs on."""
    return datetime.now(UTC)


class Backend:
    """One HTTP client for the console's life; tokens minted per session and reused."""

    def __init__(
        self,
        settings: ConsoleSettings,
        issuer: TokenIssuer,
        transports: Mapping[ServiceName, httpx.AsyncBaseTransport] | None = None,
    ) -> None:
        self._settings = settings
        self._issuer = issuer
        urls: dict[ServiceName, str] = {
            "dossier": settings.dossier_url,
            "scheduling": settings.scheduling_url,
            "survey": settings.survey_url,
            "reporting": settings.reporting_url,
        }
        # One client per service, kept for the console's life (connections are reused);
        # tests hand in transports that reach the services in the same process.
        self._clients = {
            name: httpx.AsyncClient(
                base_url=url, timeout=10, transport=(transports or {}).get(name)
            )
            for name, url in urls.items()
        }
        self._tokens: dict[bytes, tuple[str, float]] = {}

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()

    def token_for(self, session: Session) -> str:
        """The person's access token, renewed when less than half its life is left."""
        cached = self._tokens.get(session.id_hash)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        lifetime = self._settings.access_token_lifetime()
        token = self._issuer.issue(
            subject=session.subject,
            roles=session.roles,
            sites=session.sites,
            lifetime=lifetime,
            now=_wall_time(),
        )
        if len(self._tokens) >= TOKEN_CACHE_SIZE:
            self._tokens.clear()
        self._tokens[session.id_hash] = (token, time.monotonic() + lifetime.total_seconds() / 2)
        return token

    def forget(self, session: Session) -> None:
        self._tokens.pop(session.id_hash, None)

    def service_token(self) -> str:
        """The console's own token for internal look-ups (never for a person's reads)."""
        return self._issuer.issue(
            subject="console",
            roles=[Role.SERVICE],
            sites=[ALL_SITES],
            lifetime=self._settings.access_token_lifetime(),
            now=_wall_time(),
        )

    def admin_token(self) -> str:
        """Development only: lists the demo's people on the development sign-in page."""
        assert self._settings.environment == "development"
        return self._issuer.issue(
            subject="console-dev",
            roles=[Role.ADMIN],
            sites=[ALL_SITES],
            lifetime=self._settings.access_token_lifetime(),
            now=_wall_time(),
        )

    async def call(
        self,
        service: ServiceName,
        method: str,
        path: str,
        *,
        token: str | None,
        json: Any = None,
        headers: dict[str, str] | None = None,
        expect: tuple[int, ...] = (200,),
        client: str | None = None,
        read_timeout_s: float | None = None,
    ) -> Reply:
        """A call; statuses outside `expect` become the console's own problems (404, 403…).

        `client` is the browser's address, for the calls a service limits per client (the
        public survey links): the service believes the console's `X-Forwarded-For`."""
        sent = dict(headers or {})
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        if client is not None:
            sent["X-Forwarded-For"] = client
        try:
            response = await self._clients[service].request(
                method,
                path,
                json=json,
                headers=sent,
                timeout=httpx.USE_CLIENT_DEFAULT if read_timeout_s is None else read_timeout_s,
            )
        except httpx.HTTPError:
            raise Problem(
                502, "service_unavailable", f"the {service} service does not answer"
            ) from None
        body: Any = None
        if response.headers.get("content-type", "").startswith(
            ("application/json", "application/problem+json")
        ):
            body = response.json()
        reply = Reply(response.status_code, body, response.headers, response.content)
        if response.status_code in expect:
            return reply
        code = body.get("code", "error") if isinstance(body, dict) else "error"
        detail = body.get("detail", "") if isinstance(body, dict) else ""
        if response.status_code in (401, 403):
            raise Problem(403, "forbidden", str(detail or "not allowed"), upstream=code)
        if response.status_code in (404, 410):
            raise Problem(404, "not_found", str(detail or "not found"), upstream=code)
        if response.status_code in (409, 412, 422, 428):
            raise Problem(409, "refused", str(detail), upstream=code)
        if response.status_code == 429:
            raise Problem(
                429,
                "rate_limited",
                "too many attempts",
                retry_after=response.headers.get("retry-after", "60"),
            )
        raise Problem(502, "service_error", f"the {service} service failed", upstream=code)

    async def as_person(
        self, session: Session, service: ServiceName, method: str, path: str, **kwargs: Any
    ) -> Reply:
        return await self.call(service, method, path, token=self.token_for(session), **kwargs)
