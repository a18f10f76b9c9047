"""Mails reach a real SMTP server once each: retried while it is down, never duplicated."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage

import asyncpg
import pytest
from prometheus_client import REGISTRY

from shared.clock import FakeClock
from shared.db import Connection
from shared.mail import Contact, Mail, MailSender, SmtpTransport, enqueue
from shared.settings import ServiceSettings
from tests.integration.smtp_server import SmtpServer, free_port

CONTACTS = {"d-1": Contact(name="Jeanne Martin", email="jeanne@example.fr")}


async def _resolve(ref: str) -> Contact | None:
    return CONTACTS.get(ref)


def _render(mail: Mail, contact: Contact) -> EmailMessage:
    message = EmailMessage()
    message["To"] = contact.email
    message["Subject"] = f"Rendez-vous {mail.params['when']}"
    message.set_content(f"Bonjour {contact.name}, prévenez-nous si vous ne pouvez pas venir.")
    return message


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


def _sender(pool: asyncpg.Pool, clock: FakeClock, port: int, sent: list[str]) -> MailSender:
    async def on_sent(conn: Connection, mail: Mail, at: object) -> None:
        sent.append(mail.mail_key)

    return MailSender(
        service="test",
        pool=pool,
        clock=clock,
        transport=SmtpTransport(ServiceSettings(smtp_port=port)),
        resolver=_resolve,
        renderers={"reminder": _render},
        mail_from="Centre <noreply@centre.fr>",
        on_sent={"reminder": on_sent},
    )


async def test_sent_once_when_due_even_across_restarts(
    pool: asyncpg.Pool, smtp: SmtpServer
) -> None:
    clock = FakeClock()
    key = f"reminder:{uuid.uuid4()}:48h"
    for _ in range(2):  # queued twice by a redelivered event: kept once
        await enqueue(
            pool,
            key=key,
            recipient_ref="d-1",
            template="reminder",
            params={"when": "lundi 10h"},
            not_before=clock.now() + timedelta(hours=1),
        )
    sent: list[str] = []
    first = _sender(pool, clock, smtp.port, sent)
    assert await first.send_due() == 0
    clock.advance(timedelta(hours=1))
    assert await first.send_due() == 1
    restarted = _sender(pool, clock, smtp.port, sent)
    await restarted.recover()
    assert await restarted.send_due() == 0
    assert len(smtp.messages) == 1
    message = smtp.messages[0]
    assert message["To"] == "jeanne@example.fr"
    assert message["Subject"] == "Rendez-vous lundi 10h"
    assert sent == [key]
    # The address was used, never stored.
    assert "jeanne" not in str(await pool.fetch("SELECT * FROM mail_outbox"))


async def test_retried_while_the_server_is_down(pool: asyncpg.Pool) -> None:
    clock = FakeClock()
    port = free_port()
    await enqueue(
        pool,
        key="k1",
        recipient_ref="d-1",
        template="reminder",
        params={"when": "x"},
        not_before=clock.now(),
    )
    sent: list[str] = []
    sender = _sender(pool, clock, port, sent)
    assert await sender.send_due() == 1  # attempted, refused: nobody listens
    row = await pool.fetchrow("SELECT state, attempts FROM mail_outbox WHERE mail_key = 'k1'")
    assert row is not None
    assert (row["state"], row["attempts"]) == ("pending", 1)
    server = SmtpServer(port)
    server.start()
    try:
        assert await sender.send_due() == 0, "not before its back-off"
        clock.advance(timedelta(minutes=5))
        assert await sender.send_due() == 1
    finally:
        server.stop()
    assert len(server.messages) == 1
    assert sent == ["k1"]


async def test_a_crash_mid_conversation_is_never_resent(
    pool: asyncpg.Pool, smtp: SmtpServer
) -> None:
    clock = FakeClock()
    await enqueue(
        pool,
        key="k2",
        recipient_ref="d-1",
        template="reminder",
        params={"when": "x"},
        not_before=clock.now(),
    )
    # A sender claimed it (state sending, committed), then the process died.
    await pool.execute("UPDATE mail_outbox SET state = 'sending', attempts = 1")
    restarted = _sender(pool, clock, smtp.port, [])
    assert await restarted.recover() == 1
    assert await restarted.send_due() == 0
    assert smtp.messages == []
    assert await pool.fetchval("SELECT state FROM mail_outbox") == "uncertain"


async def test_erased_recipient_is_not_mailed(pool: asyncpg.Pool, smtp: SmtpServer) -> None:
    clock = FakeClock()
    await enqueue(
        pool,
        key="k3",
        recipient_ref="gone",
        template="reminder",
        params={"when": "x"},
        not_before=clock.now(),
    )
    await _sender(pool, clock, smtp.port, []).send_due()
    assert smtp.messages == []
    assert await pool.fetchval("SELECT state FROM mail_outbox") == "failed"


async def test_a_mail_past_its_not_after_is_expired_not_sent_late(
    pool: asyncpg.Pool, smtp: SmtpServer
) -> None:
    clock = FakeClock()
    for key, useful_for in (("still-useful", timedelta(hours=1)), ("too-late", timedelta(0))):
        await enqueue(
            pool,
            key=key,
            recipient_ref="d-1",
            template="reminder",
            params={"when": key},
            not_before=clock.now() - timedelta(hours=2),
            not_after=clock.now() + useful_for,
        )
    sent: list[str] = []
    before = {outcome: _mails(outcome) for outcome in ("sent", "expired")}
    # The sender was down for two hours: only the mail still of use goes.
    assert await _sender(pool, clock, smtp.port, sent).send_due() == 1
    assert sent == ["still-useful"]
    assert [m["Subject"] for m in smtp.messages] == ["Rendez-vous still-useful"]
    # Operators see both outcomes in the metrics.
    assert {outcome: _mails(outcome) - n for outcome, n in before.items()} == {
        "sent": 1,
        "expired": 1,
    }
    rows = await pool.fetch("SELECT mail_key, state FROM mail_outbox")
    states = {r["mail_key"]: r["state"] for r in rows}
    assert states == {"still-useful": "sent", "too-late": "expired"}


async def test_a_mail_retried_past_its_not_after_is_expired(pool: asyncpg.Pool) -> None:
    clock = FakeClock()
    port = free_port()
    await enqueue(
        pool,
        key="k4",
        recipient_ref="d-1",
        template="reminder",
        params={"when": "x"},
        not_before=clock.now(),
        not_after=clock.now() + timedelta(minutes=10),
    )
    sent: list[str] = []
    sender = _sender(pool, clock, port, sent)
    assert await sender.send_due() == 1  # attempted, refused: nobody listens
    server = SmtpServer(port)
    server.start()
    try:
        clock.advance(timedelta(minutes=15))  # the back-off ends after the mail's use
        assert await sender.send_due() == 0
    finally:
        server.stop()
    assert server.messages == []
    assert sent == []
    assert await pool.fetchval("SELECT state FROM mail_outbox") == "expired"


def _mails(outcome: str) -> float:
    value = REGISTRY.get_sample_value("bilan_mails_total", {"service": "test", "outcome": outcome})
    return value or 0.0


async def test_the_ehlo_name_is_the_configured_one_or_looked_up_once(
    smtp: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    def message() -> EmailMessage:
        built = EmailMessage()
        built["From"], built["To"], built["Subject"] = "a@centre.fr", "b@example.fr", "x"
        built.set_content("x")
        return built

    configured = SmtpTransport(
        ServiceSettings(smtp_port=smtp.port, smtp_local_hostname="bilan.centre.fr")
    )
    await configured.send(message())
    lookups: list[str] = []

    def getfqdn() -> str:
        lookups.append("looked up")
        return "host.centre.fr"

    monkeypatch.setattr("socket.getfqdn", getfqdn)
    default = SmtpTransport(ServiceSettings(smtp_port=smtp.port))
    for _ in range(3):
        await default.send(message())
    assert smtp.client_names == ["bilan.centre.fr", *["host.centre.fr"] * 3]
    assert lookups == ["looked up"], "the name does not change: one lookup per process"


async def test_a_connection_lost_after_smtp_never_strands_the_mail(
    pool: asyncpg.Pool, smtp: SmtpServer
) -> None:
    """The database drops the connection that records the sent mail: it is recorded anyway."""
    clock = FakeClock()
    await enqueue(
        pool,
        key="k5",
        recipient_ref="d-1",
        template="reminder",
        params={"when": "x"},
        not_before=clock.now(),
    )
    recorded: list[str] = []
    attempts = 0

    async def on_sent(conn: Connection, mail: Mail, at: object) -> None:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            # A real fault: the server ends this backend mid-transaction (as a crash would).
            await conn.execute("SELECT pg_terminate_backend(pg_backend_pid())")
        recorded.append(mail.mail_key)

    sender = MailSender(
        service="test",
        pool=pool,
        clock=clock,
        transport=SmtpTransport(ServiceSettings(smtp_port=smtp.port)),
        resolver=_resolve,
        renderers={"reminder": _render},
        mail_from="Centre <noreply@centre.fr>",
        on_sent={"reminder": on_sent},
    )
    assert await sender.send_due() == 1
    assert len(smtp.messages) == 1, "sent once: the bookkeeping is retried, not the mail"
    assert attempts == 2
    assert recorded == ["k5"]
    row = await pool.fetchrow("SELECT state, sent_at FROM mail_outbox WHERE mail_key = 'k5'")
    assert row is not None
    assert row["state"] == "sent"
    assert row["sent_at"] == clock.now()


class _HeldTransport:
    """The real SMTP transport, held at the door until the test lets the mail through."""

    def __init__(self, port: int) -> None:
        self._smtp = SmtpTransport(ServiceSettings(smtp_port=port))
        self.entered = asyncio.Event()
        self.release = asyncio.Event()

    async def send(self, message: EmailMessage) -> None:
        self.entered.set()
        await self.release.wait()
        await self._smtp.send(message)


async def test_the_loop_stops_only_between_sends(pool: asyncpg.Pool, smtp: SmtpServer) -> None:
    clock = FakeClock()
    for n in range(2):
        await enqueue(
            pool,
            key=f"s{n}",
            recipient_ref="d-1",
            template="reminder",
            params={"when": str(n)},
            not_before=clock.now(),
        )
    recorded: list[str] = []

    async def on_sent(conn: Connection, mail: Mail, at: object) -> None:
        recorded.append(mail.mail_key)

    transport = _HeldTransport(smtp.port)
    sender = MailSender(
        service="test",
        pool=pool,
        clock=clock,
        transport=transport,
        resolver=_resolve,
        renderers={"reminder": _render},
        mail_from="Centre <noreply@centre.fr>",
        on_sent={"reminder": on_sent},
    )
    task = asyncio.create_task(sender.run())
    await asyncio.wait_for(transport.entered.wait(), 10)
    sender.stop()  # while the first mail is in the SMTP conversation
    transport.release.set()
    await asyncio.wait_for(task, 10)
    states = {r["mail_key"]: r["state"] for r in await pool.fetch("SELECT * FROM mail_outbox")}
    assert states == {"s0": "sent", "s1": "pending"}, "the mail in flight finished, no other"
    assert recorded == ["s0"]
    assert len(smtp.messages) == 1


async def test_the_loop_wakes_on_new_mail(pool: asyncpg.Pool, smtp: SmtpServer) -> None:
    clock = FakeClock()
    sent: list[str] = []
    sender = _sender(pool, clock, smtp.port, sent)
    sender._poll_interval_s = 60  # only a wake-up can make it look again within the test
    task = asyncio.create_task(sender.run())
    try:
        await asyncio.sleep(0.3)  # the loop looked, found nothing, sleeps
        await enqueue(
            pool,
            key="w1",
            recipient_ref="d-1",
            template="reminder",
            params={"when": "x"},
            not_before=clock.now(),
        )
        sender.wake()
        for _ in range(100):
            if sent:
                break
            await asyncio.sleep(0.05)
        assert sent == ["w1"]
        # A development clock moving forward wakes it too: the mail due in the jump goes.
        await enqueue(
            pool,
            key="w2",
            recipient_ref="d-1",
            template="reminder",
            params={"when": "y"},
            not_before=clock.now() + timedelta(hours=1),
        )
        clock.advance(timedelta(hours=1))
        for _ in range(100):
            if len(sent) == 2:
                break
            await asyncio.sleep(0.05)
        assert sent == ["w1", "w2"]
    finally:
        sender.stop()
        await asyncio.wait_for(task, 10)
