"""Staff sign in with the organisation's OpenID Connect provider: a real provider over HTTP
(tests/integration/console/oidc_provider.py), the authorization-code flow with PKCE, state and
nonce; the verified e-mail maps to a staff member through the blind index, and a tampered
state, a wrong nonce, an unverified or unknown address open no session."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from tests.integration.console.conftest import Console
from tests.integration.console.oidc_provider import (
    CLIENT_ID,
    CLIENT_SECRET,
    Provider,
    RunningProvider,
)
from tests.integration.console.test_staff_sign_in import onboard, open_site


@pytest.fixture
def provider() -> Iterator[Provider]:
    with RunningProvider(Provider()) as running:
        yield running


@pytest.fixture
def console_overrides(provider: Provider) -> dict[str, Any]:
    return {
        "oidc_issuer": provider.url,
        "oidc_client_id": CLIENT_ID,
        "oidc_client_secret": CLIENT_SECRET,
        "oidc_provider_name": "Entra ID du centre",
    }


async def _through_the_provider(
    browser: httpx.AsyncClient, *, tamper_state: bool = False
) -> tuple[httpx.Response, str]:
    """The browser's round trip: console → provider (real HTTP) → console's callback. Returns
    the callback's answer and the callback address (to replay it)."""
    start = await browser.get("/connexion/oidc")
    assert start.status_code == 303, start.text
    authorize = start.headers["location"]
    sent = parse_qs(urlsplit(authorize).query)
    assert sent["code_challenge_method"] == ["S256"]
    assert sent["nonce"][0]
    assert sent["state"][0]
    async with httpx.AsyncClient() as outside:
        at_provider = await outside.get(authorize)
    assert at_provider.status_code == 302, at_provider.text
    back = urlsplit(at_provider.headers["location"])
    assert back.path == "/connexion/oidc/retour"
    query = parse_qs(back.query)
    if tamper_state:
        query["state"] = [query["state"][0][:-2] + "xx"]
    callback = f"{back.path}?{urlencode({k: v[0] for k, v in query.items()})}"
    return await browser.get(callback), callback


async def _sessions(c: Console) -> int:
    return int(
        await c.app.state.console_runtime.pool.fetchval("SELECT count(*) FROM console_sessions")
    )


async def test_a_staff_member_signs_in_with_the_provider(
    console: Console, provider: Provider
) -> None:
    c = console
    assert c.scheduling is not None
    site_id = await open_site(c.scheduling)
    email = f"claire.{uuid.uuid4().hex[:8]}@centre-bilan.fr"
    staff_id = await onboard(c.scheduling, site_id, email, ("site_manager",))
    provider.email = email.upper()  # the provider's spelling: the same address
    async with c.browser() as browser:
        page = await browser.get("/connexion")
        assert "Se connecter avec Entra ID du centre" in page.text
        signed, callback = await _through_the_provider(browser)
        assert (signed.status_code, signed.headers["location"]) == (303, "/")
        home = await browser.get("/")
        assert home.status_code == 200
        session = await c.app.state.console_runtime.pool.fetchrow(
            "SELECT subject, roles, sites, via FROM console_sessions"
        )
        assert dict(session) == {
            "subject": staff_id,
            "roles": ["site_manager"],
            "sites": [site_id],
            "via": "oidc",
        }
        # The same callback again (a replay): its state was spent.
        replayed = await browser.get(callback)
        assert replayed.status_code == 400
        assert "n'a pas pu être vérifiée" in replayed.text
    assert await _sessions(c) == 1


async def test_tampered_state_wrong_nonce_and_unknown_addresses_open_no_session(
    console: Console, provider: Provider
) -> None:
    c = console
    assert c.scheduling is not None
    site_id = await open_site(c.scheduling)
    email = f"paul.{uuid.uuid4().hex[:8]}@centre-bilan.fr"
    await onboard(c.scheduling, site_id, email, ("consultant",))
    provider.email = email
    async with c.browser() as browser:
        tampered, _ = await _through_the_provider(browser, tamper_state=True)
        assert tampered.status_code == 400
        assert "n'a pas pu être vérifiée" in tampered.text
        assert provider.tokens_issued == 0, "no code is exchanged for a tampered state"

        provider.wrong_nonce = True
        wrong_nonce, _ = await _through_the_provider(browser)
        assert wrong_nonce.status_code == 400
        assert "n'a pas confirmé votre connexion" in wrong_nonce.text
        provider.wrong_nonce = False

        provider.email_verified = False
        unverified, _ = await _through_the_provider(browser)
        assert unverified.status_code == 403
        assert "n'a pas confirmé votre adresse e-mail" in unverified.text
        provider.email_verified = True

        provider.email = f"inconnu.{uuid.uuid4().hex[:8]}@centre-bilan.fr"
        unknown, _ = await _through_the_provider(browser)
        assert unknown.status_code == 403
        assert "n'est pas celui d'un membre de l'équipe du centre" in unknown.text

        # A beneficiary's address does not sign in through the staff provider either.
        beneficiary = f"camille.{uuid.uuid4().hex[:8]}@example.org"
        await c.open_dossier(beneficiary)
        provider.email = beneficiary
        not_staff, _ = await _through_the_provider(browser)
        assert not_staff.status_code == 403

    async with c.browser() as other:
        # A callback in a browser that did not start the sign-in: no state cookie.
        start = await other.get("/connexion/oidc")
        async with httpx.AsyncClient() as outside:
            back = (await outside.get(start.headers["location"])).headers["location"]
    async with c.browser() as stranger:
        parts = urlsplit(back)
        elsewhere = await stranger.get(f"{parts.path}?{parts.query}")
        assert elsewhere.status_code == 400
    assert await _sessions(c) == 0
