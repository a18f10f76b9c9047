"""What the dossier's mails to the beneficiary say: French, the deadline in Paris time, the
console's page, the centre's contact; never the bilan's content."""

from __future__ import annotations

import pytest

from services.dossier.application.notifications import (
    CONVENTION_REFUSED,
    CONVENTION_SENT,
    SYNTHESIS_DELIVERED,
    render_dossier_mail,
)
from shared.centre_contact import CentreContact
from shared.mail import Contact

CONTACT = Contact(name="Camille Martin", email="camille@example.org")
CENTRE = CentreContact(
    name="Centre Horizon",
    address="1 place Bellecour, 69002 Lyon",
    phone="04 72 00 00 00",
    email="contact@horizon.example",
)
DOSSIER = "5b1f6c1e-0000-4000-8000-0000000000d0"
PARAMS = {
    "dossier_id": DOSSIER,
    "convention_id": "c0",
    "acceptance_deadline": "2026-03-12T09:00:00+00:00",
    "synthesis_version": 2,
}


def _render(template: str) -> tuple[str, str, str, str]:
    message = render_dossier_mail(
        template,
        PARAMS,
        CONTACT,
        CENTRE,
        timezone="Europe/Paris",
        console_url="https://console.horizon.example",
    )
    return (
        str(message["Subject"]),
        message.get_content(),
        str(message["To"]),
        str(message["Reply-To"]),
    )


def test_a_convention_to_sign_gives_the_deadline_and_the_page() -> None:
    subject, body, to, reply_to = _render(CONVENTION_SENT)
    assert subject == "Votre convention de bilan de compétences est prête à signer"
    assert to == "camille@example.org"
    assert body.startswith("Bonjour Camille Martin,")
    assert "avant le 12/03/2026 à 10:00" in body
    assert f"https://console.horizon.example/mon-bilan/{DOSSIER}/convention" in body
    assert "réputée refusée" in body
    assert "Centre Horizon\n1 place Bellecour, 69002 Lyon\nTéléphone : 04 72 00 00 00" in body
    assert "Centre Horizon <contact@horizon.example>" in reply_to


def test_a_convention_deemed_refused_says_why_and_what_next() -> None:
    subject, body, _, _ = _render(CONVENTION_REFUSED)
    assert subject == "Votre convention de bilan de compétences n'a pas été signée à temps"
    assert "a pris fin le 12/03/2026 à 10:00" in body
    assert "réputée refusée" in body
    assert "contactez-nous" in body
    assert f"/mon-bilan/{DOSSIER}/convention" in body


def test_a_delivered_synthesis_links_to_it_and_keeps_it_theirs() -> None:
    subject, body, _, _ = _render(SYNTHESIS_DELIVERED)
    assert subject == "Votre document de synthèse est disponible"
    assert f"https://console.horizon.example/mon-bilan/{DOSSIER}/synthese" in body
    assert "sans votre accord écrit" in body


@pytest.mark.parametrize("template", [CONVENTION_SENT, CONVENTION_REFUSED, SYNTHESIS_DELIVERED])
def test_no_english_and_no_bare_no_reply(template: str) -> None:
    _, body, _, _ = _render(template)
    for word in ("Dear", "convention_id", "synthesis", "no-reply"):
        assert word not in body
    assert "Une question ? Écrivez à contact@horizon.example ou appelez le 04 72 00 00 00" in body


def test_an_unknown_template_is_refused() -> None:
    with pytest.raises(ValueError, match="not a dossier mail"):
        _render("session_booked")
