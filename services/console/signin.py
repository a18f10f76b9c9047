"""Passwordless sign-in: an e-mailed one-time link.

Asking for a link always gives the same answer, whether the address is known or not, and
counts against two rate limits: per address (its blind index) and per client. For a known
address a link row is written and a mail queued, naming the person by id only. The link's
token is drawn when the mail is rendered and exists only in the mail; when the mail leaves,
`link_sent` stores its SHA-256 and the expiry (15 minutes from then). Using a link marks it
used in the same statement that checks it, so it works once.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from enum import StrEnum

import asyncpg

from services.console.i18n import _
from services.console.people import People, Person
from services.console.settings import ConsoleSettings
from shared.blind_index import email_index
from shared.centre_contact import centre_contact
from shared.db import Connection
from shared.logging import get_logger
from shared.mail import Contact, Mail, enqueue
from shared.unit_of_work import after_commit, unit_of_work

log = get_logger(__name__)
TEMPLATE = "console.sign_in_link"
LINK_PATH = "/connexion/lien/"


class Requested(StrEnum):
    SENT_IF_KNOWN = "sent_if_known"
    RATE_LIMITED = "rate_limited"


class LinkOutcome(StrEnum):
    OK = "ok"
    USED = "used"
    EXPIRED = "expired"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class UsedLink:
    outcome: LinkOutcome
    person: Person | None = None


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


class SignInLinks:
    def __init__(self, pool: asyncpg.Pool, settings: ConsoleSettings, people: People) -> None:
        self._pool = pool
        self._settings = settings
        self._people = people
        self._key = settings.blind_index_key_bytes()
        self._centre = centre_contact(settings)
        # Tokens drawn at render time, waiting for `link_sent` (same process, moments later).
        self._drawn: dict[str, str] = {}
        self.wake_mail: Callable[[], None] = lambda: None

    async def request(self, address: str, client: str, now: datetime) -> Requested:
        index = email_index(self._key, address)
        buckets = (f"address:{index}", "client:" + hashlib.sha256(client.encode()).hexdigest())
        limits = (self._settings.sign_in_per_address, self._settings.sign_in_per_client)
        since = now - self._settings.sign_in_window()
        async with unit_of_work(self._pool) as conn:
            for bucket, limit in zip(buckets, limits, strict=True):
                recent = await conn.fetchval(
                    "SELECT count(*) FROM sign_in_attempts WHERE bucket = $1 AND at > $2",
                    bucket,
                    since,
                )
                if recent >= limit:
                    log.warning("sign_in_rate_limited", bucket=bucket.split(":")[0])
                    return Requested.RATE_LIMITED
            await conn.executemany(
                "INSERT INTO sign_in_attempts (bucket, at) VALUES ($1, $2)",
                [(bucket, now) for bucket in buckets],
            )
        person = await self._people.by_email_index(index)
        if person is None:
            log.info("sign_in_link_requested", known=False)
            return Requested.SENT_IF_KNOWN
        link_id = uuid.uuid4()
        async with unit_of_work(self._pool) as conn:
            await conn.execute(
                """INSERT INTO sign_in_links (link_id, subject, roles, sites, requested_at)
                   VALUES ($1, $2, $3, $4, $5)""",
                link_id,
                person.subject,
                list(person.roles),
                list(person.sites),
                now,
            )
            await enqueue(
                conn,
                key=f"sign-in:{link_id}",
                recipient_ref=person.recipient_ref,
                template=TEMPLATE,
                params={"link_id": str(link_id)},
                not_before=now,
                # A link mail stuck longer than a link lives would arrive dead: not sent.
                not_after=now + self._settings.sign_in_link_lifetime(),
            )
            after_commit(self.wake_mail)
        log.info("sign_in_link_requested", known=True, link_id=str(link_id))
        return Requested.SENT_IF_KNOWN

    def render(self, mail: Mail, contact: Contact) -> EmailMessage:
        """The sign-in mail; the token is drawn here and known to nobody else."""
        token = secrets.token_urlsafe(32)
        self._drawn[mail.params["link_id"]] = token
        minutes = int(self._settings.sign_in_link_minutes)
        link = self._settings.public_url.rstrip("/") + LINK_PATH + token
        message = EmailMessage()
        message["To"] = contact.email
        message["Subject"] = _("Your sign-in link to Bilan")
        message.set_content(
            (_("Hello {name},").format(name=contact.name) if contact.name else _("Hello,"))
            + "\n\n"
            + _("To sign in to your space, open this link within {minutes} minutes:").format(
                minutes=minutes
            )
            + f"\n\n{link}\n\n"
            + _("The link works once. If you did not ask for it, ignore this message.")
            + "\n\n"
            # The centre's contact (French, as every mail of the platform): whom to ask.
            + self._centre.footer()
            + "\n"
        )
        return self._centre.sign(message)

    async def link_sent(self, conn: Connection, mail: Mail, sent_at: datetime) -> None:
        token = self._drawn.pop(mail.params["link_id"], None)
        if token is None:
            return  # rendered by another process that crashed: the link stays dead
        await conn.execute(
            "UPDATE sign_in_links SET token_hash = $2, expires_at = $3 WHERE link_id = $1",
            uuid.UUID(mail.params["link_id"]),
            token_hash(token),
            sent_at + self._settings.sign_in_link_lifetime(),
        )

    async def use(self, token: str, now: datetime) -> UsedLink:
        """Spend a link: the person, or why not (in words for the page)."""
        if not token or len(token) > 100:
            return UsedLink(LinkOutcome.UNKNOWN)
        hashed = token_hash(token)
        row = await self._pool.fetchrow(
            """UPDATE sign_in_links SET used_at = $2
               WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2
               RETURNING subject, roles, sites""",
            hashed,
            now,
        )
        if row is not None:
            return UsedLink(
                LinkOutcome.OK, Person(row["subject"], tuple(row["roles"]), tuple(row["sites"]))
            )
        state = await self._pool.fetchrow(
            "SELECT used_at FROM sign_in_links WHERE token_hash = $1", hashed
        )
        if state is None:
            return UsedLink(LinkOutcome.UNKNOWN)
        return UsedLink(LinkOutcome.USED if state["used_at"] else LinkOutcome.EXPIRED)

    async def purge(self, now: datetime) -> None:
        """Forget old links and attempts (a background chore)."""
        horizon = now - 4 * self._settings.sign_in_window() - self._settings.sign_in_link_lifetime()
        await self._pool.execute("DELETE FROM sign_in_attempts WHERE at < $1", horizon)
        await self._pool.execute("DELETE FROM sign_in_links WHERE requested_at < $1", horizon)
