"""E-mails to beneficiaries: queued in the command's transaction, sent by a loop, never twice.

A queued mail names its recipient by reference (a dossier id). At send time the sender asks a
`ContactResolver` (the dossier service) for the address, renders the message and hands it to
SMTP. A mail is marked `sending` (committed) before the SMTP conversation and `sent` after it:
a crash in between leaves it `uncertain` at the next start, and it is not sent again
automatically, so no beneficiary ever gets a duplicate; operators see it in the metrics
(`bilan_mails_total` by outcome) and the logs.
The write that follows the SMTP step (`sent` and its bookkeeping, or a retry date) is retried
while the database is away, so a database outage never strands a mail in `sending`; and the
loop (`MailSender.run`, stopped by `MailSender.stop`) stops only between two sends.
Refusals that are clearly temporary (connection refused, 4xx) are retried with back-off.
A mail that is of no use past a moment (a session reminder once the session has started)
carries it as `not_after`, and is marked `expired` rather than sent late.
"""

from __future__ import annotations

import asyncio
import inspect
import socket
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any, Protocol, TypeVar

import aiosmtplib
import asyncpg
import httpx
from pydantic import BaseModel

from shared.clock import Clock, MovableClock
from shared.db import Connection
from shared.logging import bound, get_logger
from shared.metrics import MAILS
from shared.settings import MailSettings
from shared.unit_of_work import unit_of_work

log = get_logger(__name__)
T = TypeVar("T")

DATABASE_AWAY: tuple[type[BaseException], ...] = (
    OSError,
    asyncpg.InterfaceError,  # the connection was closed under us
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,  # admin shutdown, crash recovery
    asyncpg.exceptions.InsufficientResourcesError,
)
"""Errors that say the database is unreachable for now, not that the write is wrong."""
STOP_TIMEOUT_S = 30.0
"""How long a service's stop waits for the mail being sent, before cancelling it regardless."""
SETTLE_BACKOFF_S = (0.05, 0.2, 0.5, 1.0, 2.0, 5.0)
"""Pauses between attempts at the write after the SMTP step (the last one repeats)."""


class Contact(BaseModel):
    """How to reach a beneficiary, fetched at send time and never stored by the sender."""

    name: str
    email: str
    phone: str | None = None


ContactResolver = Callable[[str], Awaitable[Contact | None]]
"""The contact of a recipient reference, or None when there is none any more (erased)."""


@dataclass(frozen=True, slots=True)
class Mail:
    """A queued mail."""

    id: int
    mail_key: str
    recipient_ref: str
    template: str
    params: dict[str, Any]
    attempts: int


Renderer = Callable[[Mail, Contact], EmailMessage | Awaitable[EmailMessage]]
"""Builds the message (subject, body, To:) from the mail and the fresh contact; may be async
(a renderer that decrypts what the mail says)."""
OnSent = Callable[[Connection, Mail, datetime], Awaitable[None]]
"""Runs in the transaction that marks the mail sent (e.g. to publish a ReminderSent event)."""


async def enqueue(
    conn: Connection | asyncpg.Pool,
    *,
    key: str,
    recipient_ref: str,
    template: str,
    params: dict[str, Any],
    not_before: datetime,
    not_after: datetime | None = None,
) -> bool:
    """Queue a mail; the same `key` twice queues it once (returns False the second time).

    A mail with `not_after` is never sent from that moment on: it is marked `expired`.
    """
    inserted = await conn.fetchval(
        """INSERT INTO mail_outbox (mail_key, recipient_ref, template, params, not_before,
                                    not_after)
           VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (mail_key) DO NOTHING RETURNING true""",
        key,
        recipient_ref,
        template,
        params,
        not_before,
        not_after,
    )
    return bool(inserted)


async def cancel_mail(conn: Connection | asyncpg.Pool, key: str) -> bool:
    """Cancel a mail not sent yet (a session cancelled before its reminder)."""
    status = await conn.execute(
        "UPDATE mail_outbox SET state = 'cancelled' WHERE mail_key = $1 AND state = 'pending'",
        key,
    )
    return status.endswith(" 1")


class SmtpTransport:
    """aiosmtplib with the service's SMTP settings."""

    def __init__(self, settings: MailSettings) -> None:
        self._settings = settings
        self._local_hostname = settings.smtp_local_hostname

    async def send(self, message: EmailMessage) -> None:
        s = self._settings
        if self._local_hostname is None:
            # aiosmtplib would look the name up for every connection (a thread and, where the
            # resolver is slow, seconds of reverse DNS per mail); it does not change.
            self._local_hostname = await asyncio.to_thread(socket.getfqdn)
        await aiosmtplib.send(
            message,
            hostname=s.smtp_host,
            port=s.smtp_port,
            local_hostname=self._local_hostname,
            username=s.smtp_username,
            password=s.smtp_password.get_secret_value() if s.smtp_password else None,
            start_tls=s.smtp_starttls,
            timeout=30,
        )


class Transport(Protocol):
    async def send(self, message: EmailMessage) -> None: ...


class MailSender:
    """Sends due mails, one at a time, from any number of replicas."""

    def __init__(
        self,
        *,
        service: str,
        pool: asyncpg.Pool,
        clock: Clock,
        transport: Transport,
        resolver: ContactResolver,
        renderers: Mapping[str, Renderer],
        mail_from: str,
        on_sent: Mapping[str, OnSent] | None = None,
        poll_interval_s: float = 1.0,
        max_attempts: int = 8,
    ) -> None:
        self._service = service
        self._pool = pool
        self._clock = clock
        self._transport = transport
        self._resolver = resolver
        self._renderers = dict(renderers)
        self._mail_from = mail_from
        self._on_sent = dict(on_sent or {})
        self._poll_interval_s = poll_interval_s
        self._max_attempts = max_attempts
        self._wake = asyncio.Event()
        self._stopping = False

    def wake(self) -> None:
        """New mail is queued (called after its commit): look now rather than at the poll."""
        self._wake.set()

    def stop(self) -> None:
        """Ask `run` to return; it does so between two sends, never during one."""
        self._stopping = True
        self._wake.set()

    async def aclose(self) -> None:
        """Release what the resolver holds (an HTTP client), if it holds anything."""
        await close_resolver(self._resolver)

    async def recover(self) -> int:
        """At start: mails left `sending` by a crash may have gone out; never resend them."""
        status = await self._pool.execute(
            """UPDATE mail_outbox SET state = 'uncertain',
                      last_error = 'interrupted during the SMTP conversation'
               WHERE state = 'sending'"""
        )
        count = int(status.split()[-1])
        if count:
            self._count("uncertain", count)
            log.warning("mail_uncertain_after_restart", count=count)
        return count

    async def run(self) -> None:
        """Send due mails until `stop`; a mail being sent is finished first, bookkeeping included.

        Cancelling the task instead would cut a mail between the SMTP server's acceptance and
        its bookkeeping: left `uncertain`, never resent, its follow-up event never published.
        """
        self._stopping = False
        while not self._stopping:
            try:
                await self.recover()
                break
            except DATABASE_AWAY as exc:
                log.warning("mail_loop_interrupted", error=type(exc).__name__)
                await self._pause(self._poll_interval_s)
        while not self._stopping:
            # Cleared before looking, not after: a wake-up during the look is not lost.
            self._wake.clear()
            try:
                sent = await self.send_due()
            except DATABASE_AWAY as exc:
                log.warning("mail_loop_interrupted", error=type(exc).__name__)
                sent = 0
            except Exception as exc:
                # A bug in one mail's path must not end the mailing of every other one.
                log.error("mail_loop_failed", error=type(exc).__name__)
                sent = 0
            if sent == 0:
                await self._pause(self._poll_interval_s)

    async def _pause(self, seconds: float) -> None:
        """Sleep until a wake-up (new mail, a stop, the clock moved) or for `seconds`."""
        waits: list[asyncio.Future[Any]] = [asyncio.ensure_future(self._wake.wait())]
        if isinstance(self._clock, MovableClock):
            # A development clock moved forward: mails may have fallen due in the jump.
            waits.append(asyncio.ensure_future(self._clock.wait_moved()))
        try:
            await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in waits:
                waiting.cancel()

    async def next_due(self, until: datetime) -> datetime | None:
        """When the earliest pending mail falls due, at or before `until` (the development
        clock stops there, `shared.devclock`)."""
        due: datetime | None = await self._pool.fetchval(
            """SELECT min(not_before) FROM mail_outbox
               WHERE state = 'pending' AND not_before <= $1""",
            until,
        )
        return due

    async def run_due(self) -> int:
        return await self.send_due()

    async def send_due(self) -> int:
        """Send every due mail (up to a stop request); returns how many were attempted."""
        await self._expire()
        attempted = 0
        while not self._stopping and (mail := await self._claim()) is not None:
            attempted += 1
            with bound(mail_id=mail.id, template=mail.template):
                await self._deliver(mail)
        return attempted

    async def _claim(self) -> Mail | None:
        row = await self._pool.fetchrow(
            """UPDATE mail_outbox SET state = 'sending', attempts = attempts + 1
               WHERE id = (SELECT id FROM mail_outbox
                           WHERE state = 'pending' AND not_before <= $1
                             AND (not_after IS NULL OR not_after > $1)
                           ORDER BY not_before, id LIMIT 1 FOR UPDATE SKIP LOCKED)
               RETURNING id, mail_key, recipient_ref, template, params, attempts""",
            self._clock.now(),
        )
        return Mail(**dict(row)) if row else None

    async def _expire(self) -> int:
        """Mark `expired` the pending mails past their `not_after`: too late to be of use."""
        status = await self._pool.execute(
            """UPDATE mail_outbox SET state = 'expired', last_error = 'not sent before not_after'
               WHERE state = 'pending' AND not_after <= $1""",
            self._clock.now(),
        )
        expired = int(status.split()[-1])
        if expired:
            self._count("expired", expired)
            log.warning("mails_expired", count=expired)
        return expired

    def _count(self, outcome: str, n: int = 1) -> None:
        MAILS.labels(self._service, outcome).inc(n)

    async def _deliver(self, mail: Mail) -> None:
        try:
            contact = await self._resolver(mail.recipient_ref)
        except Exception as exc:
            await self._retry_or_fail(mail, f"contact lookup failed: {type(exc).__name__}")
            return
        if contact is None:
            await self._finish(mail, "failed", "no contact (erased or unknown)")
            return
        try:
            rendered = self._renderers[mail.template](mail, contact)
            message = await rendered if inspect.isawaitable(rendered) else rendered
        except Exception as exc:
            await self._finish(mail, "failed", f"rendering failed: {type(exc).__name__}")
            return
        message["From"] = self._mail_from
        message["Message-ID"] = f"<{mail.mail_key.replace(':', '.')}@bilan>"
        try:
            await self._transport.send(message)
        except (aiosmtplib.SMTPConnectError, aiosmtplib.SMTPServerDisconnected, OSError) as exc:
            # Nothing was accepted by the server: safe to try again later.
            await self._retry_or_fail(mail, f"SMTP unreachable: {type(exc).__name__}")
            return
        except aiosmtplib.SMTPResponseException as exc:
            if 400 <= exc.code < 500:
                await self._retry_or_fail(mail, f"SMTP temporary refusal {exc.code}")
            else:
                await self._finish(mail, "failed", f"SMTP refusal {exc.code}")
            return
        except Exception as exc:
            await self._finish(mail, "uncertain", f"SMTP error {type(exc).__name__}")
            return
        sent_at = self._clock.now()

        async def mark_sent() -> None:
            async with unit_of_work(self._pool) as conn:
                await conn.execute(
                    "UPDATE mail_outbox SET state = 'sent', sent_at = $2 WHERE id = $1",
                    mail.id,
                    sent_at,
                )
                callback = self._on_sent.get(mail.template)
                if callback is not None:
                    await callback(conn, mail, sent_at)

        try:
            await self._settle(mark_sent)
        except Exception as exc:
            # The mail went: record it so, even though its bookkeeping (a bug) cannot be done.
            error = f"bookkeeping failed: {type(exc).__name__}"
            await self._settle(
                lambda: self._pool.execute(
                    """UPDATE mail_outbox SET state = 'sent', sent_at = $2, last_error = $3
                       WHERE id = $1""",
                    mail.id,
                    sent_at,
                    error,
                )
            )
            log.error("mail_bookkeeping_failed", error=error)
        self._count("sent")
        log.info("mail_sent")

    async def _settle(self, write: Callable[[], Awaitable[T]]) -> T:
        """Run the write that follows an SMTP step until the database takes it.

        The row is `sending` until then; given up, it would stay so for good (no other sender
        takes a `sending` mail), its bookkeeping never done. A stop request does not end this:
        the database coming back does (or the process being killed, when the mail is left
        `uncertain` at the next start, as any crash mid-send leaves it).
        """
        attempt = 0
        while True:
            try:
                return await write()
            except DATABASE_AWAY as exc:
                pause = SETTLE_BACKOFF_S[min(attempt, len(SETTLE_BACKOFF_S) - 1)]
                attempt += 1
                log.warning("mail_bookkeeping_retried", error=type(exc).__name__, attempt=attempt)
                await asyncio.sleep(pause)

    async def _retry_or_fail(self, mail: Mail, error: str) -> None:
        if mail.attempts >= self._max_attempts:
            await self._finish(mail, "failed", error)
            return
        retry_at = self._clock.now() + timedelta(seconds=min(30 * 2**mail.attempts, 3600))
        await self._settle(
            lambda: self._pool.execute(
                """UPDATE mail_outbox SET state = 'pending', not_before = $2, last_error = $3
                   WHERE id = $1""",
                mail.id,
                retry_at,
                error,
            )
        )
        self._count("retried")
        log.warning("mail_retry_later", error=error, attempts=mail.attempts)

    async def _finish(self, mail: Mail, state: str, error: str) -> None:
        await self._settle(
            lambda: self._pool.execute(
                "UPDATE mail_outbox SET state = $2, last_error = $3 WHERE id = $1",
                mail.id,
                state,
                error,
            )
        )
        self._count(state)
        log.warning("mail_not_sent", state=state, error=error)


async def close_resolver(resolver: ContactResolver) -> None:
    """Close a resolver that holds resources (`aclose`); resolvers without any have none."""
    close = getattr(resolver, "aclose", None)
    if close is not None:
        await close()


class HttpContactResolver:
    """Asks the dossier service's internal endpoint for a beneficiary's contact."""

    def __init__(self, url_template: str, token: Callable[[], str]) -> None:
        self._url_template = url_template
        self._token = token
        self._client: httpx.AsyncClient | None = None

    async def __call__(self, recipient_ref: str) -> Contact | None:
        url = self._url_template.format(ref=recipient_ref)
        if self._client is None:
            # One client for the sender's life: a new one per mail builds a TLS context
            # (milliseconds of CPU) and a new connection each time.
            self._client = httpx.AsyncClient(timeout=10)
        response = await self._client.get(url, headers={"Authorization": f"Bearer {self._token()}"})
        if response.status_code in (404, 410):
            return None
        response.raise_for_status()
        return Contact.model_validate(response.json())

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
