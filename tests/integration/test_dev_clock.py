"""Moving the development clock stops at each due time: timers and mails see their own time.

A jump would fire everything at its end (documents destroyed after their deadline, a reminder
expired unsent); the stepping of `shared.devclock` is checked here with a real timer loop, a
real mail sender and SMTP server, on PostgreSQL, and through the HTTP endpoints.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime, timedelta
from email.message import EmailMessage

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from deploy.tokens import dev_token
from shared.auth import TokenVerifier
from shared.clock import OffsetClock
from shared.db import Connection
from shared.devclock import advance_through, dev_clock_router
from shared.mail import Contact, Mail, MailSender, SmtpTransport, enqueue
from shared.settings import ServiceSettings
from shared.timers import Timer, TimerLoop, schedule
from shared.web import install_problem_handlers
from tests.integration.smtp_server import SmtpServer


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


async def _resolve(_ref: str) -> Contact | None:
    return Contact(name="Nina", email="nina@example.fr")


def _render(mail: Mail, contact: Contact) -> EmailMessage:
    message = EmailMessage()
    message["To"] = contact.email
    message["Subject"] = "Rappel"
    message.set_content("Bonjour")
    return message


async def _world(
    pool: asyncpg.Pool, smtp: SmtpServer
) -> tuple[OffsetClock, TimerLoop, MailSender, list[tuple[str, datetime, datetime]], datetime]:
    """A clock, a timer loop and a mail sender with work due at +20 min, +1 h and +2 h."""
    clock = OffsetClock()
    seen: list[tuple[str, datetime, datetime]] = []

    async def record(conn: Connection, timer: Timer) -> None:
        seen.append((timer.payload["label"], timer.due_at, clock.now()))
        if timer.payload["label"] == "ended":
            # What a timer schedules inside the move fires inside it too, at its own time.
            await schedule(
                conn,
                due_at=timer.due_at + timedelta(minutes=30),
                kind="k",
                payload={"label": "destroy"},
            )

    async def mailed(conn: Connection, mail: Mail, at: datetime) -> None:
        seen.append(("mail", datetime.fromisoformat(mail.params["due"]), at))

    timers = TimerLoop(service="t", pool=pool, clock=clock, handlers={"k": record})
    sender = MailSender(
        service="t",
        pool=pool,
        clock=clock,
        transport=SmtpTransport(ServiceSettings(smtp_port=smtp.port)),
        resolver=_resolve,
        renderers={"reminder": _render},
        mail_from="Centre <noreply@centre.fr>",
        on_sent={"reminder": mailed},
    )
    start = clock.now()
    for label, hours in (("second", 2.0), ("ended", 1.0)):
        await schedule(
            pool, due_at=start + timedelta(hours=hours), kind="k", payload={"label": label}
        )
    due = start + timedelta(minutes=20)
    await enqueue(
        pool,
        key="reminder",
        recipient_ref="d",
        template="reminder",
        params={"due": due.isoformat()},
        not_before=due,
        # Of use for ten minutes only: a jump past it would expire it unsent.
        not_after=due + timedelta(minutes=10),
    )
    return clock, timers, sender, seen, start


async def test_each_due_work_runs_at_its_own_time_in_order(
    pool: asyncpg.Pool, smtp: SmtpServer
) -> None:
    clock, timers, sender, seen, start = await _world(pool, smtp)
    stops = await advance_through(clock, timedelta(hours=3), [timers, sender])
    assert [label for label, _, _ in seen] == ["mail", "ended", "destroy", "second"]
    for label, due, at in seen:
        assert at == due, f"{label} ran at {at}, due at {due}"
    assert stops == 4
    assert clock.now() >= start + timedelta(hours=3)
    assert len(smtp.messages) == 1
    # The clock flows again after the move.
    before = clock.now()
    await asyncio.sleep(0.01)
    assert clock.now() > before


async def test_the_endpoints_step_and_tell_the_next_due_work(
    pool: asyncpg.Pool, smtp: SmtpServer
) -> None:
    clock, timers, sender, seen, start = await _world(pool, smtp)
    app = FastAPI()
    install_problem_handlers(app)
    settings = ServiceSettings()
    dev_token(["admin"])  # the development key pair exists before it is read
    app.state.token_verifier = TokenVerifier.from_file(
        settings.jwt_public_key_file, issuer=settings.jwt_issuer, audience=settings.jwt_audience
    )
    app.include_router(dev_clock_router(clock, lambda: [timers, sender]))
    admin = {"Authorization": f"Bearer {dev_token(['admin'])}"}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://clock"
    ) as client:
        until = (start + timedelta(hours=3)).isoformat()
        nxt = await client.get("/dev/clock/next-due", params={"until": until}, headers=admin)
        assert nxt.status_code == 200, nxt.text
        assert datetime.fromisoformat(nxt.json()["next_due"]) == start + timedelta(minutes=20)
        naive = await client.get(
            "/dev/clock/next-due", params={"until": "2026-01-01T00:00:00"}, headers=admin
        )
        assert naive.status_code == 422
        moved = await client.post("/dev/clock/advance", json={"seconds": 3 * 3600}, headers=admin)
        assert moved.status_code == 200, moved.text
        assert moved.json()["stops"] == 4
        assert all(at == due for _, due, at in seen)
        later = await client.get("/dev/clock/next-due", params={"until": until}, headers=admin)
        assert later.json()["next_due"] is None
        staff = {"Authorization": f"Bearer {dev_token(['consultant'])}"}
        refused = await client.post("/dev/clock/advance", json={"seconds": 60}, headers=staff)
        assert refused.status_code == 403
