"""What the referent's mail about their beneficiary's feedback says: French, which dossier
and when, the console's page, the centre's contact; never a score or the answer's words."""

from __future__ import annotations

from services.survey.application.feedback_notices import render_feedback_notice
from shared.centre_contact import CentreContact
from shared.mail import Contact

DOSSIER = "5b1f6c1e-0000-4000-8000-0000000000d0"


def _render(campaign: str) -> tuple[str, str]:
    message = render_feedback_notice(
        {"dossier_id": DOSSIER, "campaign": campaign, "answered_at": "2026-07-01T08:15:00+00:00"},
        Contact(name="Claire Dubois", email="claire@centre.example"),
        CentreContact(name="Centre Horizon", email="contact@horizon.example"),
        timezone="Europe/Paris",
        console_url="https://console.horizon.example",
    )
    return str(message["Subject"]), message.get_content()


def test_a_session_feedback_notice_in_french_with_the_dossier_page() -> None:
    subject, body = _render("session_feedback")
    assert subject == "Avis reçu du bénéficiaire du dossier 5b1f6c1e"
    assert body.startswith("Bonjour Claire Dubois,")
    # Paris is UTC+2 in July.
    assert "a répondu au questionnaire sur sa séance le 01/07/2026 à 10:15" in body
    assert f"https://console.horizon.example/equipe/dossiers/{DOSSIER}" in body
    assert "ne sont pas recopiées dans ce message" in body
    assert "E-mail : contact@horizon.example" in body


def test_an_end_of_bilan_notice_names_that_questionnaire() -> None:
    _, body = _render("end_of_bilan")
    assert "a répondu au questionnaire de fin de bilan" in body
