"""What the mails of a booked, moved or cancelled session say: French, the time in Paris,
the place or the remote charter, the console's page and the centre's contact; nothing of the
bilan (no phase, no assessment)."""

from __future__ import annotations

import pytest

from services.scheduling.application.notifications import (
    BOOKED,
    CANCELLED,
    MOVED,
    render_session_mail,
)
from services.scheduling.application.reminders import REMOTE_PRIVACY
from shared.centre_contact import CentreContact
from shared.mail import Contact

CONTACT = Contact(name="Camille Martin", email="camille@example.org")
CENTRE = CentreContact(
    name="Centre Horizon", phone="04 72 00 00 00", email="contact@horizon.example"
).at_site("Lyon Part-Dieu", "20 rue de la Villette, 69003 Lyon")
PARAMS = {
    "session_id": "5b1f6c1e-0000-4000-8000-000000000001",
    "dossier_id": "5b1f6c1e-0000-4000-8000-0000000000d0",
    "site_id": "5b1f6c1e-0000-4000-8000-0000000000s0",
    "starts_at": "2026-03-03T09:00:00+00:00",
    "minutes": 120,
    "modality": "in_person",
    "place": "Lyon Part-Dieu, salle B12",
    "join_link": None,
}


def _render(template: str, **changes: object) -> tuple[str, str, str]:
    message = render_session_mail(
        template,
        {**PARAMS, **changes},
        CONTACT,
        CENTRE,
        timezone="Europe/Paris",
        console_url="https://console.horizon.example/",
    )
    return str(message["Subject"]), message.get_content(), str(message["Reply-To"])


def test_a_booking_gives_when_where_the_page_and_whom_to_call() -> None:
    subject, body, reply_to = _render(BOOKED)
    assert subject == "Séance de bilan prévue le 03/03/2026 à 10:00"
    assert body.startswith("Bonjour Camille Martin,")
    assert "(120 minutes)" in body
    assert "Lieu : Lyon Part-Dieu, salle B12" in body
    page = f"https://console.horizon.example/mon-bilan/{PARAMS['dossier_id']}"
    assert f"Vos séances et votre bilan dans votre espace : {page}" in body
    assert f"{page}/seances/{PARAMS['session_id']}.ics" in body
    assert "Centre Horizon — Lyon Part-Dieu\n20 rue de la Villette, 69003 Lyon" in body
    assert "Téléphone : 04 72 00 00 00" in body
    assert "contact@horizon.example" in reply_to
    assert "prévenez-nous" in body


def test_a_remote_booking_asks_for_a_closed_quiet_place() -> None:
    _, body, _ = _render(BOOKED, modality="remote", place=None, join_link="https://visio/x")
    assert "Lien de connexion : https://visio/x" in body
    assert REMOTE_PRIVACY in body
    assert "Lieu :" not in body


def test_a_move_says_from_when_to_when() -> None:
    subject, body, _ = _render(
        MOVED, starts_at="2026-03-05T13:30:00+00:00", previous_starts_at=PARAMS["starts_at"]
    )
    assert subject == "Séance de bilan déplacée au 05/03/2026 à 14:30"
    assert "du 03/03/2026 à 10:00 est déplacée au 05/03/2026 à 14:30" in body


def test_a_cancellation_says_so_and_gives_no_calendar() -> None:
    subject, body, _ = _render(CANCELLED)
    assert subject == "Séance de bilan annulée : 03/03/2026 à 10:00"
    assert "est annulée" in body
    assert ".ics" not in body


@pytest.mark.parametrize("template", [BOOKED, MOVED, CANCELLED])
def test_nothing_of_the_bilan_and_no_english(template: str) -> None:
    _, body, _ = _render(template, phase="investigation", previous_starts_at=PARAMS["starts_at"])
    for word in ("investigation", "assessment", "preliminary", "conclusion", "session", "Dear"):
        assert word not in body.replace(str(PARAMS["session_id"]), "")


def test_an_unknown_template_is_refused() -> None:
    with pytest.raises(ValueError, match="not a session mail"):
        _render("session_reminder")
