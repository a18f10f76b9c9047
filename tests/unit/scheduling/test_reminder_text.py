"""What a session reminder says: the time in Paris, where, and for a remote session the
charter's confidentiality asked of the beneficiary (issue 18)."""

from __future__ import annotations

from email.message import EmailMessage

from services.scheduling.application.reminders import REMOTE_PRIVACY, reminder_renderer
from shared.mail import Contact, Mail

CONTACT = Contact(name="Camille Martin", email="camille@example.org")


def _render(**params: object) -> EmailMessage:
    mail = Mail(
        id=1,
        mail_key="reminder:x",
        recipient_ref="dossier",
        template="session_reminder",
        params={"starts_at": "2026-03-03T09:00:00+00:00", "minutes": 120, **params},
        attempts=0,
    )
    message = reminder_renderer("Europe/Paris")(mail, CONTACT)
    assert isinstance(message, EmailMessage)
    return message


def test_a_remote_reminder_asks_for_a_closed_quiet_place() -> None:
    message = _render(modality="remote", join_link="https://visio.example/abc", place=None)
    body = message.get_content()
    assert "le 03/03/2026 à 10:00" in body
    assert "Lien de connexion : https://visio.example/abc" in body
    assert REMOTE_PRIVACY in body
    assert "lieu fermé et calme" in body


def test_an_in_person_reminder_gives_the_place_and_no_remote_advice() -> None:
    message = _render(modality="in_person", join_link=None, place="Lyon, salle B12")
    body = message.get_content()
    assert "Lieu : Lyon, salle B12" in body
    assert REMOTE_PRIVACY not in body
