"""Survey e-mails: the invitation and reminders, each with its own single-use answer link.

The link token is drawn when the message is rendered, just before it goes to SMTP, and handed
to the `on_sent` callback of the same sender, which records only its SHA-256 hash with the
fact that the mail left. So the token exists in clear only in the e-mail itself: never in the
mail queue, the events or the logs. A crash between SMTP and that record leaves the mail
`uncertain` (the platform never resends it) and its link unusable; the next reminder carries a
fresh one.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Awaitable, Callable
from email.message import EmailMessage
from uuid import UUID

from shared.centre_contact import CentreContact
from shared.keystore import KeyStore
from shared.mail import Contact, ContactResolver, Mail, close_resolver

INVITATION = "survey_invitation"
REMINDER = "survey_reminder"
STAKEHOLDER_REF_PREFIX = "stakeholder:"
STAFF_REF_PREFIX = "staff:"
STAKEHOLDER_EMAIL_PURPOSE = "stakeholder.email"

_SUBJECTS = {
    "end_of_bilan": "Votre avis sur votre bilan de compétences",
    "six_months": "Six mois après votre bilan de compétences : où en êtes-vous ?",
    "session_feedback": "Votre avis sur votre séance",
    "stakeholder": "Votre avis sur notre centre de bilans de compétences",
}


def token_hash(token: str) -> str:
    """SHA-256 of a link token, as stored and looked up."""
    return hashlib.sha256(token.encode()).hexdigest()


def mail_key(survey_id: UUID, reminder_number: int | None = None) -> str:
    """`survey:<id>:invite` or `survey:<id>:reminder:<n>`: one mail each, ever."""
    if reminder_number is None:
        return f"survey:{survey_id}:invite"
    return f"survey:{survey_id}:reminder:{reminder_number}"


def stakeholder_contact_subject(survey_id: UUID | str) -> str:
    """The key-store subject of a stakeholder's address: shredded when the survey closes."""
    return f"stakeholder-contact:{survey_id}"


class LinkTokens:
    """Tokens drawn at rendering, waiting for their mail's `on_sent` (same process)."""

    def __init__(self) -> None:
        self._pending: dict[int, str] = {}

    def draw(self, mail_id: int) -> str:
        token = secrets.token_urlsafe(32)
        self._pending[mail_id] = token
        return token

    def take(self, mail_id: int) -> str | None:
        return self._pending.pop(mail_id, None)


class SurveyMailRenderer:
    """Builds invitation and reminder messages with a fresh link."""

    def __init__(
        self, tokens: LinkTokens, answer_url: str, centre: CentreContact | None = None
    ) -> None:
        self._tokens = tokens
        self._answer_url = answer_url
        self._centre = centre

    def invitation(self, mail: Mail, contact: Contact) -> EmailMessage:
        return self._render(mail, contact, reminder=False)

    def reminder(self, mail: Mail, contact: Contact) -> EmailMessage:
        return self._render(mail, contact, reminder=True)

    def _render(self, mail: Mail, contact: Contact, *, reminder: bool) -> EmailMessage:
        link = self._answer_url.format(token=self._tokens.draw(mail.id))
        campaign = str(mail.params.get("campaign", "end_of_bilan"))
        subject = _SUBJECTS.get(campaign, _SUBJECTS["end_of_bilan"])
        message = EmailMessage()
        message["To"] = contact.email
        message["Subject"] = f"Rappel : {subject}" if reminder else subject
        greeting = f"Bonjour {contact.name}," if contact.name else "Bonjour,"
        opening = (
            "Vous n'avez pas encore répondu à notre questionnaire ; il ne vous prendra que "
            "quelques minutes."
            if reminder
            else "Votre avis nous aide à améliorer notre accompagnement. Merci de répondre à "
            "ce court questionnaire."
        )
        footer = f"\n{self._centre.footer()}\n" if self._centre else ""
        message.set_content(
            f"{greeting}\n\n{opening}\n\n{link}\n\n"
            f"Ce lien est personnel et ne peut servir qu'une fois.\n{footer}"
        )
        return self._centre.sign(message) if self._centre else message


class SurveyContactResolver:
    """Beneficiaries' contacts from the dossier service; stakeholders' from their sealed row."""

    def __init__(
        self,
        dossier_contacts: ContactResolver,
        keys: Callable[[], KeyStore],
        fetch_sealed: Callable[[UUID], Awaitable[str | None]],
        staff_contacts: ContactResolver | None = None,
    ) -> None:
        self._dossier_contacts = dossier_contacts
        self._staff_contacts = staff_contacts
        self._keys = keys
        self._fetch_sealed = fetch_sealed

    async def __call__(self, recipient_ref: str) -> Contact | None:
        if recipient_ref.startswith(STAFF_REF_PREFIX):
            if self._staff_contacts is None:
                return None
            return await self._staff_contacts(recipient_ref)
        if not recipient_ref.startswith(STAKEHOLDER_REF_PREFIX):
            return await self._dossier_contacts(recipient_ref)
        survey_id = UUID(recipient_ref.removeprefix(STAKEHOLDER_REF_PREFIX))
        sealed = await self._fetch_sealed(survey_id)
        if sealed is None:
            return None
        email = await self._keys().decrypt(
            stakeholder_contact_subject(survey_id), sealed, purpose=STAKEHOLDER_EMAIL_PURPOSE
        )
        if not isinstance(email, str):
            return None  # shredded: the survey closed before its mail could leave
        return Contact(name="", email=email)

    async def aclose(self) -> None:
        await close_resolver(self._dossier_contacts)
        if self._staff_contacts is not None and self._staff_contacts is not self._dossier_contacts:
            await close_resolver(self._staff_contacts)
