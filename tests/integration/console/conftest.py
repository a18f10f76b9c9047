"""The console on a fresh database, in front of a real dossier service (its own fresh
database, the real Kafka) and the real SMTP test server; the console's clock is a fake one,
so that link expiry and session timeouts can be passed without waiting."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import Message
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from deploy.tokens import dev_token
from services.console.bootstrap import create_app
from services.console.issuer import TokenIssuer, ensure_signing_key
from services.console.settings import ConsoleSettings
from shared.clock import FakeClock
from shared.settings import ServiceSettings
from tests.conftest import PG_HOST
from tests.integration.harness import DOSSIER, SCHEDULING, ServiceHarness, eventually
from tests.integration.smtp_server import SmtpServer
from tests.integration.survey.harness import Harness as SurveyHarness

LINK = re.compile(r"https?://\S+/connexion/lien/([A-Za-z0-9_\-]+)")
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
async def fresh_db(template_db: str) -> AsyncIterator[Callable[[], Awaitable[str]]]:
    """Makes more fresh databases (the console and the dossier service each own one)."""
    made: list[str] = []
    admin = await asyncpg.connect(f"{PG_HOST}/postgres")

    async def make() -> str:
        name = f"bilan_test_{uuid.uuid4().hex[:12]}"
        await admin.execute(f"CREATE DATABASE {name} TEMPLATE {template_db}")
        made.append(name)
        return f"{PG_HOST}/{name}"

    try:
        yield make
    finally:
        for name in made:
            await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await admin.close()


@dataclass
class Console:
    """The running console and dossier service, and helpers to act as a browser."""

    app: FastAPI
    dossier: httpx.AsyncClient
    clock: FakeClock
    smtp: SmtpServer
    settings: ConsoleSettings
    console_transport: httpx.ASGITransport
    site: str
    survey: SurveyHarness
    scheduling: httpx.AsyncClient | None = None
    """The scheduling service (its directory: staff, their work addresses)."""
    mailers: tuple[asyncpg.Pool, ...] = ()
    """The databases of the other services that mail through the SMTP server (scheduling,
    survey), whose mail outbox records each mail SMTP took."""

    def browser(self, client_ip: str = "203.0.113.7") -> httpx.AsyncClient:
        """A new browser (its own cookies) at a given address."""
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app, client=(client_ip, 50000)),
            base_url="http://console.test",
            headers={"Accept": "text/html"},
        )

    async def open_dossier(self, email: str) -> tuple[str, str]:
        """A dossier of a new beneficiary with that address: (dossier_id, beneficiary_id)."""
        manager = {"Authorization": f"Bearer {dev_token(['site_manager'], [self.site])}"}
        response = await self.dossier.post(
            "/dossiers",
            headers=manager,
            json={
                "site_id": self.site,
                "funding_route": "employer_plan",
                "enquiry_received_at": (datetime.now(UTC) - timedelta(days=3)).isoformat(),
                "name": "Camille Zéphyrine Martin",
                "email": email,
            },
        )
        assert response.status_code == 201, response.text
        return str(response.json()["id"]), response.headers["x-beneficiary-id"]

    async def mails_to(self, address: str, count: int = 1) -> list[Any]:
        async def arrived() -> bool:
            return len([m for m in self.smtp.messages if m["To"] == address]) >= count

        await eventually(arrived, timeout_s=60)
        received = len(self.smtp.messages)

        async def recorded() -> bool:
            # A link's hash (the console's sign-in links, the survey service's answer links)
            # is stored once SMTP took the mail: a test faster than a person waits for that
            # commit, at whichever service sent each mail.
            sent = 0
            for pool in (self.app.state.console_runtime.pool, *self.mailers):
                sent += await pool.fetchval("SELECT count(*) FROM mail_outbox WHERE state = 'sent'")
            return bool(sent >= received)

        await eventually(recorded, timeout_s=60)
        return [m for m in self.smtp.messages if m["To"] == address]

    def link_token(self, message: Any) -> str:
        found = LINK.search(body_of(message))
        assert found is not None, "no sign-in link in the mail"
        return found.group(1)


def body_of(message: Message) -> str:
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode()


async def csrf_of(browser: httpx.AsyncClient, path: str) -> str:
    page = await browser.get(path, follow_redirects=True)
    found = CSRF.search(page.text)
    assert found is not None, f"no CSRF token on {path}"
    return found.group(1)


async def ask_for_link(browser: httpx.AsyncClient, email: str) -> httpx.Response:
    token = await csrf_of(browser, "/connexion")
    return await browser.post("/connexion", data={"email": email, "csrf_token": token})


async def use_link(browser: httpx.AsyncClient, link_token: str) -> httpx.Response:
    token = await csrf_of(browser, f"/connexion/lien/{link_token}")
    return await browser.post("/connexion/lien", data={"token": link_token, "csrf_token": token})


async def sign_in(c: Console, email: str, browser: httpx.AsyncClient) -> None:
    before = len(await c.mails_to(email, 0))
    await ask_for_link(browser, email)
    mails = await c.mails_to(email, before + 1)
    signed = await use_link(browser, c.link_token(mails[-1]))
    assert signed.status_code == 303, signed.text
    assert signed.headers["location"] == "/"


@pytest.fixture
def console_overrides() -> dict[str, Any]:
    """Console settings a test module changes (by defining a fixture of this name)."""
    return {}


@pytest.fixture
async def console(
    fresh_db: Callable[[], Awaitable[str]],
    kafka_bootstrap: str,
    tmp_path: Path,
    console_overrides: dict[str, Any],
) -> AsyncIterator[Console]:
    dev_token(["admin"])  # the development key pair (the dossier service's PEM key)
    key_file = tmp_path / "console-signing.pem"
    ensure_signing_key(key_file)
    jwks = tmp_path / "jwks.json"
    issuer = TokenIssuer.from_file(key_file, issuer="bilan-console", audience="bilan")
    jwks.write_text(json.dumps(issuer.jwks()))
    jwks_source = {"jwt_jwks_source": str(jwks)}
    # The dossier and scheduling services poll at their settings' pace, not the harness's:
    # on the dossier's real clock, the acceptance timer of a convention a test sent "twenty
    # days ago" is due at once, and polled every 50 ms it fires between the test's reading of
    # the version and its signatures.
    usual_polling = {
        name: ServiceSettings.model_fields[name].default
        for name in ("relay_poll_interval_s", "timer_poll_interval_s")
    }
    # The dossier service keeps the real clock and asks nobody for contacts: it owns them.
    dossier = ServiceHarness(
        DOSSIER,
        await fresh_db(),
        kafka_bootstrap,
        overrides={**jwks_source, **usual_polling},
        real_clock=True,
    )
    smtp = SmtpServer()
    smtp.start()
    # The console and the scheduling service share one business clock (as the demo's
    # development clocks move together): free slots and "still to come" agree.
    clock = FakeClock(NOW)
    scheduling = ServiceHarness(
        SCHEDULING,
        await fresh_db(),
        kafka_bootstrap,
        clock=clock,
        smtp_port=smtp.port,
        overrides={**jwks_source, **usual_polling},
        fake_contacts=False,
    )
    survey = SurveyHarness(
        await fresh_db(),
        smtp.port,
        kafka_bootstrap,
        public_answer_url="http://console.test/public/surveys/{token}",
        **jwks_source,
    )
    settings = ConsoleSettings(
        database_url=await fresh_db(),
        signing_key_file=key_file,
        smtp_port=smtp.port,
        smtp_local_hostname="console.test",
        mail_poll_interval_s=0.05,
        sign_in_per_address=3,
        sign_in_per_client=6,
        **console_overrides,
    )
    dossier_app, scheduling_app, survey_app = dossier.app(), scheduling.app(), survey.app()
    app = create_app(
        settings,
        clock=clock,
        transports={
            "dossier": httpx.ASGITransport(app=dossier_app),
            "scheduling": httpx.ASGITransport(app=scheduling_app),
            "survey": httpx.ASGITransport(app=survey_app),
        },
    )
    try:
        async with AsyncExitStack() as stack:
            survey_service = await stack.enter_async_context(survey.running(survey_app))
            dossier_service = await stack.enter_async_context(dossier.running(dossier_app))
            scheduling_service = await stack.enter_async_context(scheduling.running(scheduling_app))
            await stack.enter_async_context(app.router.lifespan_context(app))
            yield Console(
                app=app,
                dossier=dossier_service.client,
                clock=clock,
                smtp=smtp,
                settings=settings,
                console_transport=httpx.ASGITransport(app=app),
                site=str(uuid.uuid4()),
                survey=survey,
                scheduling=scheduling_service.client,
                mailers=(scheduling_service.runtime.pool, survey_service.runtime.pool),
            )
    finally:
        smtp.stop()
