"""Telling a consultant that the beneficiary moved a session or will be absent.

The mail is queued in the transaction that records the change, to `staff:<consultant_id>`
(the address comes from the directory at send time, never from the queue). The beneficiary's
own words go in the mail only: sealed under a key made for this one mail (in the queue's
parameters, which are otherwise plain), read when the mail is rendered, and shredded once it
was sent. Neither the words nor the address reach Kafka or the logs.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from email.message import EmailMessage
from typing import Literal
from zoneinfo import ZoneInfo

from services.scheduling.application.directory import STAFF_REF
from services.scheduling.domain.sessions import Session
from services.scheduling.domain.values import CancellationReason
from shared.centre_contact import CentreContact, staff_dossier_page
from shared.db import Connection
from shared.keystore import KeyStore
from shared.mail import Contact, Mail, enqueue

TEMPLATE = "beneficiary_session_notice"
MESSAGE_PURPOSE = "session.beneficiary_message"
NoticeKind = Literal["move", "absence"]
REASONS = {
    "illness": "maladie",
    "force_majeure": "cas de force majeure",
    "scheduling_conflict": "empêchement (autre engagement)",
    "other": "autre raison",
}


async def queue_notice(
    conn: Connection,
    keys: KeyStore,
    *,
    before: Session,
    version: int,
    kind: NoticeKind,
    message: str,
    now: datetime,
    new_starts_at: datetime | None = None,
    reason: CancellationReason | None = None,
) -> bool:
    """Queue the consultant's mail about the beneficiary's change (in its transaction)."""
    subject = f"notice-{uuid.uuid4()}"
    (sealed,) = await keys.encrypt_many(
        subject, [(message, MESSAGE_PURPOSE)], conn=conn, new_subject=True
    )
    return await enqueue(
        conn,
        key=f"beneficiary-notice:{before.session_id}:{version}",
        recipient_ref=STAFF_REF + str(before.consultant_id),
        template=TEMPLATE,
        params={
            "kind": kind,
            "session_id": str(before.session_id),
            "dossier_id": str(before.dossier_id),
            "starts_at": before.starts_at.isoformat(),
            "new_starts_at": new_starts_at.isoformat() if new_starts_at else None,
            "minutes": before.planned_minutes,
            "reason": reason,
            "message_key": subject,
            "message_sealed": sealed.text,
        },
        not_before=now,
    )


def notice_renderer(
    keys: Callable[[], KeyStore],
    timezone: str,
    centre: CentreContact | None = None,
    console_url: str | None = None,
) -> Callable[[Mail, Contact], Awaitable[EmailMessage]]:
    """Renders the consultant's mail in French, the times in the centre's time zone, with
    the dossier's page in the console (when given)."""
    zone = ZoneInfo(timezone)

    def when(text: str) -> str:
        return datetime.fromisoformat(text).astimezone(zone).strftime("%d/%m/%Y à %H:%M")

    async def render(mail: Mail, contact: Contact) -> EmailMessage:
        p = mail.params
        words = await keys().decrypt(p["message_key"], p["message_sealed"], purpose=MESSAGE_PURPOSE)
        said = words if isinstance(words, str) else "(message effacé)"
        dossier = f"dossier {str(p['dossier_id'])[:8]}"
        greeting = f"Bonjour {contact.name}," if contact.name else "Bonjour,"
        message = EmailMessage()
        message["To"] = contact.email
        if p["kind"] == "move":
            message["Subject"] = (
                f"Séance déplacée par le bénéficiaire : {when(p['starts_at'])} → "
                f"{when(p['new_starts_at'])}"
            )
            what = (
                f"Le bénéficiaire du {dossier} a déplacé sa séance du {when(p['starts_at'])} "
                f"au {when(p['new_starts_at'])} ({p['minutes']} minutes), sur l'un de vos "
                "créneaux libres. Votre agenda et les rappels sont à jour."
            )
        else:
            message["Subject"] = f"Absence signalée par le bénéficiaire : {when(p['starts_at'])}"
            what = (
                f"Le bénéficiaire du {dossier} a prévenu de son absence à sa séance du "
                f"{when(p['starts_at'])} (motif : {REASONS.get(p['reason'], 'autre raison')}). "
                "La séance est annulée ; proposez-lui une autre date."
            )
        page = (
            f"Le dossier dans la console : "
            f"{console_url.rstrip('/')}{staff_dossier_page(str(p['dossier_id']))}\n\n"
            if console_url
            else ""
        )
        message.set_content(
            f"{greeting}\n\n{what}\n\nSon message :\n{said}\n\n{page}"
            "Ce message vous est adressé par Bilan ; il est confidentiel.\n"
            + (f"\n{centre.footer()}\n" if centre else "")
        )
        return message

    return render


async def forget_message(keys: KeyStore, conn: Connection, mail: Mail) -> None:
    """Once the mail went, the beneficiary's words are erased from the queue (key shredded)."""
    await keys.shred(mail.params["message_key"], conn=conn)
