"""Telling the referent consultant that their beneficiary left feedback (a session's or the
end of the bilan's questionnaire answered).

Queued in the transaction that records the answer, keyed by the survey (`feedback-notice:
<survey id>`: an answer is recorded once, and so is its mail), to `staff:<referent id>`; the
address comes from the scheduling service's staff directory at send time. The mail says
only that an answer came and links to the dossier in the console: never a score or a word of
the answer (the free text is for the roles allowed to read it, in the console).
"""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

from services.survey.adapters import known_dossiers
from services.survey.domain import survey as s
from shared.centre_contact import CentreContact, staff_dossier_page
from shared.db import Connection
from shared.mail import Contact, enqueue

TEMPLATE = "beneficiary_feedback"
STAFF_REF = "staff:"
"""Mail recipient reference of a staff member (as the scheduling service names them)."""
CAMPAIGNS = {
    "session_feedback": "au questionnaire sur sa séance",
    "end_of_bilan": "au questionnaire de fin de bilan",
}
"""The beneficiary's answers the referent is told of (six months later, the bilan is over)."""


async def queue_feedback_notice(conn: Connection, survey: s.Survey, now: datetime) -> bool:
    """Queue the referent's mail about an answered survey of their beneficiary, if any."""
    if (
        survey.dossier_id is None
        or survey.respondent_role != "beneficiary"
        or survey.campaign not in CAMPAIGNS
    ):
        return False
    referent = await known_dossiers.referent_of(conn, survey.dossier_id)
    if referent is None:
        return False
    return await enqueue(
        conn,
        key=f"feedback-notice:{survey.survey_id}",
        recipient_ref=f"{STAFF_REF}{referent}",
        template=TEMPLATE,
        params={
            "dossier_id": str(survey.dossier_id),
            "campaign": survey.campaign,
            "answered_at": (survey.answered_at or now).isoformat(),
        },
        not_before=now,
    )


def render_feedback_notice(
    params: dict[str, Any],
    contact: Contact,
    centre: CentreContact,
    *,
    timezone: str,
    console_url: str,
) -> EmailMessage:
    """The consultant's mail in French: which dossier, when, and where to look."""
    zone = ZoneInfo(timezone)
    answered = datetime.fromisoformat(params["answered_at"]).astimezone(zone)
    dossier_id = str(params["dossier_id"])
    what = CAMPAIGNS.get(str(params["campaign"]), "à un questionnaire de satisfaction")
    page = console_url.rstrip("/") + staff_dossier_page(dossier_id)
    greeting = f"Bonjour {contact.name}," if contact.name else "Bonjour,"
    message = EmailMessage()
    message["To"] = contact.email
    message["Subject"] = f"Avis reçu du bénéficiaire du dossier {dossier_id[:8]}"
    message.set_content(
        f"{greeting}\n\n"
        f"Le bénéficiaire du dossier {dossier_id[:8]} a répondu {what} le "
        f"{answered.strftime('%d/%m/%Y à %H:%M')}.\n\n"
        f"Le dossier dans la console : {page}\n"
        "Les réponses se lisent dans la console, selon les droits de chacun ; elles ne sont "
        "pas recopiées dans ce message.\n\n"
        "Ce message vous est adressé par Bilan ; il est confidentiel.\n\n"
        f"{centre.footer()}\n"
    )
    return centre.sign(message)
