"""Mails to the beneficiary about their dossier: a convention to sign, a convention deemed
refused, the synthesis delivered.

The dossier service holds the beneficiary's address, so it sends these itself: each mail is
queued in the shared mail outbox in the transaction of the event it tells of (the
command's, or the deadline timer's), keyed by that fact (`convention-sent:<convention id>`,
...), so that it exists if and only if the fact was committed, once however often the command
or the timer is retried. The address is read at send time from this service's own records
(`contact_for_dossier`): an erased beneficiary or one under a restriction of processing has
none, and the mail is not sent. The parameters hold ids and dates only, and the text says
that something happened and where to read it in the console, never what the bilan holds.
"""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

from services.dossier.domain import dossier as d
from services.dossier.domain.events import DomainEvent
from shared.centre_contact import CentreContact, beneficiary_page
from shared.db import Connection
from shared.mail import Contact, enqueue

CONVENTION_SENT = "convention_sent"
CONVENTION_REFUSED = "convention_deemed_refused"
SYNTHESIS_DELIVERED = "synthesis_delivered"
TEMPLATES = (CONVENTION_SENT, CONVENTION_REFUSED, SYNTHESIS_DELIVERED)


def _mail_of(state: d.Dossier, event: DomainEvent) -> tuple[str, str, dict[str, Any]] | None:
    """(key, template, parameters) of the mail an event of the dossier calls for, if any."""
    dossier_id = state.dossier_id
    match event:
        case d.ConventionSentForSignature():
            convention = next(
                (c for c in state.conventions if c.convention_id == event.convention_id), None
            )
            if convention is not None and "beneficiary" not in convention.required_parties:
                return None  # nothing for them to sign here (e.g. accepted on the CPF platform)
            return (
                f"convention-sent:{event.convention_id}",
                CONVENTION_SENT,
                {
                    "dossier_id": dossier_id,
                    "convention_id": event.convention_id,
                    "acceptance_deadline": event.acceptance_deadline.isoformat(),
                },
            )
        case d.ConventionDeemedRefused():
            return (
                f"convention-refused:{event.convention_id}",
                CONVENTION_REFUSED,
                {
                    "dossier_id": dossier_id,
                    "convention_id": event.convention_id,
                    "acceptance_deadline": event.acceptance_deadline.isoformat(),
                },
            )
        case d.SynthesisDelivered():
            return (
                f"synthesis-delivered:{dossier_id}:{event.synthesis_version}",
                SYNTHESIS_DELIVERED,
                {"dossier_id": dossier_id, "synthesis_version": event.synthesis_version},
            )
        case _:
            return None


async def queue_for(
    conn: Connection, state: d.Dossier, events: list[DomainEvent], now: datetime
) -> int:
    """Queue the mails the dossier's new events call for (in their transaction)."""
    if state.processing_restricted:
        return 0  # only stored (GDPR art. 18): no mail, and the sender would find no address
    queued = 0
    for event in events:
        mail = _mail_of(state, event)
        if mail is None:
            continue
        key, template, params = mail
        queued += await enqueue(
            conn,
            key=key,
            recipient_ref=state.dossier_id,
            template=template,
            params=params,
            not_before=now,
        )
    return queued


# --- rendering -------------------------------------------------------------------------------


def render_dossier_mail(
    template: str,
    params: dict[str, Any],
    contact: Contact,
    centre: CentreContact,
    *,
    timezone: str,
    console_url: str,
) -> EmailMessage:
    """The mail in French: subject, body with the console's page, the centre's contact."""
    zone = ZoneInfo(timezone)
    base = console_url.rstrip("/")
    dossier_id = str(params["dossier_id"])

    def day(text: str) -> str:
        return datetime.fromisoformat(text).astimezone(zone).strftime("%d/%m/%Y à %H:%M")

    if template == CONVENTION_SENT:
        page = base + beneficiary_page(dossier_id, "convention")
        subject = "Votre convention de bilan de compétences est prête à signer"
        what = (
            "La convention de votre bilan de compétences vous attend. Lisez-la et signez-la "
            f"en ligne avant le {day(params['acceptance_deadline'])} : {page}\n\n"
            "Sans signature à cette date, la convention est réputée refusée et le bilan ne "
            "peut pas commencer."
        )
    elif template == CONVENTION_REFUSED:
        page = base + beneficiary_page(dossier_id, "convention")
        subject = "Votre convention de bilan de compétences n'a pas été signée à temps"
        what = (
            "Le délai pour signer la convention de votre bilan de compétences a pris fin le "
            f"{day(params['acceptance_deadline'])} sans que toutes les signatures soient "
            "réunies : la convention est réputée refusée, et les séances prévues sont annulées.\n\n"
            "Si vous souhaitez toujours faire ce bilan, contactez-nous : nous vous proposerons "
            f"une nouvelle convention. Votre dossier : {page}"
        )
    elif template == SYNTHESIS_DELIVERED:
        page = base + beneficiary_page(dossier_id, "synthese")
        subject = "Votre document de synthèse est disponible"
        what = (
            "Le document de synthèse de votre bilan de compétences vous a été remis. Il "
            f"n'appartient qu'à vous ; vous pouvez le lire et le télécharger ici : {page}\n\n"
            "Personne d'autre ne le reçoit sans votre accord écrit."
        )
    else:
        raise ValueError(f"not a dossier mail: {template}")
    greeting = f"Bonjour {contact.name}," if contact.name else "Bonjour,"
    message = EmailMessage()
    message["To"] = contact.email
    message["Subject"] = subject
    message.set_content(f"{greeting}\n\n{what}\n\n{centre.footer()}\n")
    return centre.sign(message)
