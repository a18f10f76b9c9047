"""Session reminders: queued with the session, cancelled with it, sent by the mail loop.

Each reminder has a key `reminder:<session_id>:<revision>:<offset>`: the same session and
start never queue it twice (a redelivered command changes nothing), and a moved session
(a new revision) gets fresh reminders while the old ones are cancelled. The e-mail itself is
rendered at send time with the contact fetched from the dossier service, never stored here.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from services.scheduling.domain.sessions import Session
from shared.centre_contact import CentreContact, beneficiary_page
from shared.db import Connection
from shared.mail import Contact, Mail, Renderer, cancel_mail, enqueue

TEMPLATE = "session_reminder"


def reminder_key(session_id: UUID, revision: int, offset_minutes: int) -> str:
    return f"reminder:{session_id}:{revision}:{offset_minutes}"


async def queue_reminders(
    conn: Connection,
    session: Session,
    *,
    offsets_minutes: tuple[int, ...],
    place: str | None,
    now: datetime,
) -> int:
    """Queue the reminders still ahead of us; returns how many were queued."""
    queued = 0
    for offset in offsets_minutes:
        send_at = session.starts_at - timedelta(minutes=offset)
        if send_at <= now:
            continue  # too late for this one: a reminder after the fact helps nobody
        params: dict[str, Any] = {
            "session_id": str(session.session_id),
            "offset_minutes": offset,
            "starts_at": session.starts_at.isoformat(),
            "minutes": session.planned_minutes,
            "modality": session.modality,
            "place": place,
            "join_link": session.join_link,
        }
        queued += await enqueue(
            conn,
            key=reminder_key(session.session_id, session.revision, offset),
            recipient_ref=str(session.dossier_id),
            template=TEMPLATE,
            params=params,
            not_before=send_at,
            # Sent late (the mail loop or SMTP was down), it would remind of a past session.
            not_after=session.starts_at,
        )
    return queued


async def cancel_reminders(
    conn: Connection, session: Session, *, offsets_minutes: tuple[int, ...]
) -> None:
    """Cancel the reminders of the session's current start that are not sent yet."""
    for offset in offsets_minutes:
        await cancel_mail(conn, reminder_key(session.session_id, session.revision, offset))


REMOTE_PRIVACY = (
    "L'entretien est confidentiel : installez-vous seul(e) dans un lieu fermé et calme, où "
    "personne ne vous entend, avec un casque ou des écouteurs si possible."
)
"""The charter's confidentiality, which a remote session depends on the beneficiary for."""


def reminder_renderer(
    timezone: str, centre: CentreContact | None = None, console_url: str | None = None
) -> Renderer:
    """Renders a reminder in French, with the time in the centre's time zone, signed with
    the centre's contact and linking to the bilan's page in the console (when given)."""
    zone = ZoneInfo(timezone)

    def render(mail: Mail, contact: Contact) -> EmailMessage:
        p = mail.params
        starts = datetime.fromisoformat(p["starts_at"]).astimezone(zone)
        when = starts.strftime("%d/%m/%Y à %H:%M")
        where = (
            f"Lien de connexion : {p['join_link']}\n{REMOTE_PRIVACY}"
            if p["modality"] == "remote"
            else f"Lieu : {p['place']}"
        )
        message = EmailMessage()
        message["To"] = contact.email
        message["Subject"] = f"Rappel : votre séance de bilan le {when}"
        page = (
            f"\nVos séances et votre bilan dans votre espace : "
            f"{console_url.rstrip('/')}{beneficiary_page(str(mail.recipient_ref))}\n"
            if console_url
            else ""
        )
        message.set_content(
            f"Bonjour {contact.name},\n\n"
            f"Nous vous rappelons votre séance de bilan de compétences le {when} "
            f"({p['minutes']} minutes).\n{where}\n\n"
            "Si vous ne pouvez pas venir, merci de nous prévenir dès que possible afin que "
            f"nous convenions d'un autre rendez-vous.\n{page}"
            + (f"\n{centre.footer()}\n" if centre else "")
        )
        return centre.sign(message) if centre else message

    return render
