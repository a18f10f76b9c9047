"""Security headers on every response, and the CSRF token every form carries.

The CSP allows scripts and styles from the console itself only (no inline script, no CDN);
`frame-ancestors 'none'` forbids framing (click-jacking); pages are never cached by shared
caches. A form is accepted only with the CSRF token of the person's session, or, before any
session exists (sign-in, survey links), the one of a double-submit cookie.
"""

from __future__ import annotations

import hmac
import secrets
import time

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; "
    "object-src 'none'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
CSRF_COOKIE = "bilan_csrf"
CSRF_FIELD = "csrf_token"


class SecurityHeadersMiddleware:
    """Adds `HEADERS` (and HSTS outside development) to every HTTP response."""

    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self._app = app
        self._hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        started = time.perf_counter()

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                # The server's time to the first byte (the console's benchmark reads it).
                elapsed_ms = (time.perf_counter() - started) * 1000
                headers.setdefault("Server-Timing", f"app;dur={elapsed_ms:.1f}")
                for name, value in HEADERS.items():
                    headers.setdefault(name, value)
                if self._hsts:
                    headers.setdefault("Strict-Transport-Security", "max-age=31536000")
                if not path.startswith("/static/"):
                    # Pages hold personal data: no shared cache, no back-button copy kept.
                    headers.setdefault("Cache-Control", "no-store")
            await send(message)

        await self._app(scope, receive, with_headers)


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def csrf_matches(expected: str | None, given: object) -> bool:
    """Constant-time comparison; a missing token on either side never matches."""
    if not expected or not isinstance(given, str) or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())
