"""The console refuses development-only settings elsewhere, and sends its security headers."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from services.console.security import SecurityHeadersMiddleware, csrf_matches
from services.console.settings import ConsoleSettings


def test_development_only_settings_are_refused_in_production(tmp_path: Path) -> None:
    public = tmp_path / "issuer.pem"
    public.write_text("-----BEGIN PUBLIC KEY-----\n...\n-----END PUBLIC KEY-----\n")
    with pytest.raises(ValidationError) as caught:
        ConsoleSettings(
            environment="production",
            master_key=base64.b64encode(os.urandom(32)).decode(),
            jwt_public_key_file=public,
            database_url="postgresql://console:s3cret@db:5432/bilan_console",
            dev_sign_in_enabled=True,
            oidc_issuer="http://idp.example",
            oidc_client_id="bilan",
        )
    message = str(caught.value)
    assert "oidc_issuer must be https" in message
    assert "dev_sign_in_enabled is for development only" in message
    assert "signing_key_file is the development key" in message
    assert "public_url must be https" in message
    assert ConsoleSettings().secure_cookies is False
    assert ConsoleSettings().http_port == 8000
    assert ConsoleSettings().oidc_enabled is False
    assert ConsoleSettings(oidc_issuer="https://idp.example").oidc_enabled is False
    assert ConsoleSettings(oidc_issuer="https://idp.example", oidc_client_id="x").oidc_enabled


def test_every_response_carries_the_security_headers() -> None:
    app = Starlette(routes=[Route("/", lambda _r: PlainTextResponse("ok"))])
    client = TestClient(SecurityHeadersMiddleware(app, hsts=True))
    headers = client.get("/").headers
    csp = headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["cache-control"] == "no-store"
    assert headers["strict-transport-security"].startswith("max-age=")


def test_csrf_tokens_compare_exactly() -> None:
    assert csrf_matches("a" * 43, "a" * 43)
    assert not csrf_matches("a" * 43, "b" * 43)
    assert not csrf_matches("a" * 43, None)
    assert not csrf_matches(None, "a" * 43)
    assert not csrf_matches("", "")
