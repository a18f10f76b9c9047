"""Mails to the beneficiary when the centre books, moves or cancels one of their sessions.

Queued in the transaction of the session's change (the shared mail outbox, as reminders
are), so that a mail exists if and only if the change was committed, and sent once by the
mail loop. The key names the session and its revision: a redelivered command queues nothing
more. The address is the dossier service's, fetched at send time; an erased or restricted
beneficiary has none, and the mail is not sent. What the mail says is what a reminder says
(when, how long, where or the join link) and the console page of the bilan: never the
phase, the assessment or anything else of the bilan's content.

A change the beneficiary made themselves in the console (moving their session, warning of an
absence) is confirmed on the page and told to the consultant (`beneficiary_notices`); it is
not mailed back to them. A session booked and changed before its first mail went out keeps
only what is true now: a booking not told yet is re-told at its new time, and a
cancellation of a session never told is not mailed at all.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from email.message import EmailMessage
from typing import Any, Literal
from uuid import UUID
from zoneinfo import ZoneInfo

from services.scheduling.application.reminders import REMOTE_PRIVACY
from services.scheduling.domain.sessions import Session
from shared.centre_contact import CentreContact, beneficiary_page
from shared.db import Connection
from shared.mail import Contact, Mail, cancel_mail, enqueue

BOOKED = "session_booked"
MOVED = "session_moved"
CANCELLED = "session_cancelled"
TEMPLATES = (BOOKED, MOVED, CANCELLED)
Change = Literal["booked", "moved", "cancelled"]


def notice_key(template: str, session_id: UUID, revision: int) -> str:
    return f"{template}:{session_id}:{revision}"


def _params(session: Session, place: str | None) -> dict[str, Any]:
    return {
        "session_id": str(session.session_id),
        "dossier_id": str(session.dossier_id),
        "site_id": str(session.site_id),
        "starts_at": session.starts_at.isoformat(),
        "minutes": session.planned_minutes,
        "modality": session.modality,
        "place": place,
        "join_link": session.join_link,
    }


async def _withdraw_untold(conn: Connection, session: Session) -> tuple[bool, bool]:
    """Cancel the notices of the session's current revision not sent yet; whether the
    booking, and a move, were still untold."""
    booked = await cancel_mail(conn, notice_key(BOOKED, session.session_id, session.revision))
    moved = await cancel_mail(conn, notice_key(MOVED, session.session_id, session.revision))
    return booked, moved


async def session_booked(
    conn: Connection, session: Session, *, place: str | None, now: datetime
) -> bool:
    """Queue the mail of a new booking."""
    return await enqueue(
        conn,
        key=notice_key(BOOKED, session.session_id, session.revision),
        recipient_ref=str(session.dossier_id),
        template=BOOKED,
        params=_params(session, place),
        not_before=now,
        # Of no use once the session started (the sender was down all along).
        not_after=session.starts_at,
    )


async def session_moved(
    conn: Connection, before: Session, after: Session, *, place: str | None, now: datetime
) -> bool:
    """Queue the mail of a move (the session's earlier notices not sent yet are replaced)."""
    booking_untold, _ = await _withdraw_untold(conn, before)
    if booking_untold:
        # They never heard of the first time: tell them of the booking, at its new time.
        return await session_booked(conn, after, place=place, now=now)
    return await enqueue(
        conn,
        key=notice_key(MOVED, after.session_id, after.revision),
        recipient_ref=str(after.dossier_id),
        template=MOVED,
        params={**_params(after, place), "previous_starts_at": before.starts_at.isoformat()},
        not_before=now,
        not_after=after.starts_at,
    )


async def session_cancelled(conn: Connection, before: Session, *, now: datetime) -> bool:
    """Queue the mail of a cancellation by the centre (none if the booking was never told)."""
    booking_untold, _ = await _withdraw_untold(conn, before)
    if booking_untold:
        return False
    return await enqueue(
        conn,
        key=notice_key(CANCELLED, before.session_id, before.revision),
        recipient_ref=str(before.dossier_id),
        template=CANCELLED,
        params=_params(before, None),
        not_before=now,
        not_after=before.starts_at,
    )


async def withdraw(conn: Connection, session: Session) -> None:
    """The session ended otherwise (held, no-show, the beneficiary's own cancellation, the
    convention's end): its notices not sent yet would tell of something no longer true."""
    await _withdraw_untold(conn, session)


# --- rendering -------------------------------------------------------------------------------


def render_session_mail(
    template: str,
    params: dict[str, Any],
    contact: Contact,
    centre: CentreContact,
    *,
    timezone: str,
    console_url: str,
) -> EmailMessage:
    """The mail in French: subject and body, the centre's contact and the console's link."""
    zone = ZoneInfo(timezone)

    def when(text: str) -> str:
        return datetime.fromisoformat(text).astimezone(zone).strftime("%d/%m/%Y à %H:%M")

    p = params
    starts = when(p["starts_at"])
    page = console_url.rstrip("/") + beneficiary_page(p["dossier_id"])
    if p["modality"] == "remote":
        where = (
            f"La séance a lieu à distance. Lien de connexion : {p['join_link']}\n{REMOTE_PRIVACY}"
        )
    else:
        where = f"Lieu : {p['place']}" if p.get("place") else "Lieu : à confirmer par le centre."
    calendar = f"{page}/seances/{p['session_id']}.ics"
    if template == BOOKED:
        subject = f"Séance de bilan prévue le {starts}"
        what = (
            f"Une séance de votre bilan de compétences est prévue le {starts} "
            f"({p['minutes']} minutes).\n{where}\n\n"
            f"Ajoutez-la à votre agenda : {calendar}"
        )
    elif template == MOVED:
        subject = f"Séance de bilan déplacée au {starts}"
        what = (
            f"Votre séance de bilan de compétences du {when(p['previous_starts_at'])} est "
            f"déplacée au {starts} ({p['minutes']} minutes).\n{where}\n\n"
            f"Ajoutez la nouvelle date à votre agenda : {calendar}"
        )
    elif template == CANCELLED:
        subject = f"Séance de bilan annulée : {starts}"
        what = (
            f"Votre séance de bilan de compétences du {starts} est annulée. "
            "Votre consultant vous proposera une autre date."
        )
    else:
        raise ValueError(f"not a session mail: {template}")
    greeting = f"Bonjour {contact.name}," if contact.name else "Bonjour,"
    absent = (
        ""
        if template == CANCELLED
        else "\n\nSi vous ne pouvez pas venir, prévenez-nous dès que possible depuis votre "
        "espace, ou en nous contactant ci-dessous."
    )
    message = EmailMessage()
    message["To"] = contact.email
    message["Subject"] = subject
    message.set_content(
        f"{greeting}\n\n{what}{absent}\n\n"
        f"Vos séances et votre bilan dans votre espace : {page}\n\n"
        f"{centre.footer()}\n"
    )
    return centre.sign(message)


SiteOf = Callable[[UUID], Awaitable[tuple[str | None, str | None]]]
"""The name and address of a site (`adapters.site_contact`)."""


def session_mail_renderer(
    template: str, centre: CentreContact, site_of: SiteOf, *, timezone: str, console_url: str
) -> Callable[[Mail, Contact], Awaitable[EmailMessage]]:
    """The sender's renderer of one template: signed by the session's site."""

    async def render(mail: Mail, contact: Contact) -> EmailMessage:
        name, address = await site_of(UUID(mail.params["site_id"]))
        return render_session_mail(
            template,
            mail.params,
            contact,
            centre.at_site(name, address),
            timezone=timezone,
            console_url=console_url,
        )

    return render
