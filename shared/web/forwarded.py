"""Which client a request comes from, behind the console or an ingress."""

from __future__ import annotations

from fastapi import FastAPI
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware


def trust_forwarded_for(app: FastAPI, trusted: str) -> None:
    """Believe `X-Forwarded-For` from the `trusted` addresses (comma-separated, or `*`).

    The client is then the browser, not the console or the ingress relaying it: a per-client
    limit (a guessed survey link) must not make every beneficiary behind the console wait.
    Applied by the app rather than by the server (`shared.serve` turns uvicorn's off), so that
    tests see what production does. Call it after every other `add_middleware`: outermost,
    everything inside sees the real client."""
    app.add_middleware(
        ProxyHeadersMiddleware, trusted_hosts=[h.strip() for h in trusted.split(",")]
    )
