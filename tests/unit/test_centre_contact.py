"""Every mail ends with the centre's contact and answers to it: never a bare no-reply."""

from __future__ import annotations

from email.message import EmailMessage

from services.scheduling.application.beneficiary_notices import notice_renderer
from services.scheduling.application.reminders import reminder_renderer
from services.survey.adapters.mail import LinkTokens, SurveyMailRenderer
from shared.centre_contact import CentreContact, centre_contact
from shared.mail import Contact, Mail
from shared.settings import ServiceSettings

CENTRE = CentreContact(
    name="Centre Horizon",
    address="1 place Bellecour, 69002 Lyon",
    phone="04 72 00 00 00",
    email="contact@horizon.example",
)
CONTACT = Contact(name="Camille Martin", email="camille@example.org")


def test_the_footer_gives_name_address_phone_and_mail_in_french() -> None:
    assert CENTRE.footer().splitlines() == [
        "--",
        "Centre Horizon",
        "1 place Bellecour, 69002 Lyon",
        "Téléphone : 04 72 00 00 00",
        "E-mail : contact@horizon.example",
        "Une question ? Écrivez à contact@horizon.example ou appelez le 04 72 00 00 00 : "
        "l'adresse d'envoi de ce message ne lit pas les réponses.",
    ]


def test_a_site_names_itself_and_gives_its_own_address() -> None:
    site = CENTRE.at_site("Lyon Part-Dieu", "20 rue de la Villette, 69003 Lyon")
    assert site.name == "Centre Horizon — Lyon Part-Dieu"
    assert site.address == "20 rue de la Villette, 69003 Lyon"
    assert CENTRE.at_site(None, None) == CENTRE


def test_reply_to_is_the_centre_even_with_a_comma_in_its_name() -> None:
    message = EmailMessage()
    CentreContact(name="Horizon, Lyon", email="contact@horizon.example").sign(message)
    assert message["Reply-To"].addresses[0].addr_spec == "contact@horizon.example"
    assert message["Reply-To"].addresses[0].display_name == "Horizon, Lyon"


def test_the_settings_give_a_contact_by_default() -> None:
    contact = centre_contact(ServiceSettings())
    assert contact.email == "contact@bilan.localhost"
    assert contact.phone


def _mail(template: str, **params: object) -> Mail:
    return Mail(
        id=1,
        mail_key="k",
        recipient_ref="5b1f6c1e-0000-4000-8000-0000000000d0",
        template=template,
        params=dict(params),
        attempts=0,
    )


def test_a_reminder_is_signed_and_links_to_the_bilan() -> None:
    render = reminder_renderer("Europe/Paris", CENTRE, "https://console.horizon.example")
    message = render(
        _mail(
            "session_reminder",
            starts_at="2026-03-03T09:00:00+00:00",
            minutes=60,
            modality="in_person",
            place="Lyon",
            join_link=None,
        ),
        CONTACT,
    )
    assert isinstance(message, EmailMessage)
    body = message.get_content()
    assert "https://console.horizon.example/mon-bilan/5b1f6c1e-0000-4000-8000-0000000000d0" in body
    assert "Téléphone : 04 72 00 00 00" in body
    assert "contact@horizon.example" in str(message["Reply-To"])


def test_a_survey_invitation_is_signed_too() -> None:
    renderer = SurveyMailRenderer(LinkTokens(), "https://survey/{token}", CENTRE)
    message = renderer.invitation(_mail("survey_invitation", campaign="end_of_bilan"), CONTACT)
    assert "E-mail : contact@horizon.example" in message.get_content()
    assert "contact@horizon.example" in str(message["Reply-To"])


class _Keys:
    async def decrypt(self, subject: str, sealed: str, *, purpose: str) -> str:
        return "Je suis malade, désolée"


async def test_the_consultants_absence_notice_links_to_the_dossier() -> None:
    render = notice_renderer(
        lambda: _Keys(),  # type: ignore[arg-type, return-value]
        "Europe/Paris",
        CENTRE,
        "https://console.horizon.example",
    )
    mail = _mail(
        "beneficiary_session_notice",
        kind="absence",
        dossier_id="5b1f6c1e-0000-4000-8000-0000000000d0",
        starts_at="2026-03-03T09:00:00+00:00",
        new_starts_at=None,
        minutes=60,
        reason="illness",
        message_key="k",
        message_sealed="s",
    )
    message = await render(mail, Contact(name="Claire", email="claire@centre.example"))
    body = message.get_content()
    assert "Absence signalée par le bénéficiaire" in str(message["Subject"])
    assert (
        "Le dossier dans la console : "
        "https://console.horizon.example/equipe/dossiers/5b1f6c1e-0000-4000-8000-0000000000d0"
    ) in body
    assert "E-mail : contact@horizon.example" in body
