"""Survey e-mails: a fresh single-use link per message, handed over once to `on_sent`."""

import re

from services.survey.adapters.mail import (
    LinkTokens,
    SurveyMailRenderer,
    mail_key,
    token_hash,
)
from shared.mail import Contact, Mail

URL = "https://avis.centre.example/s/{token}"


def _mail(mail_id: int, campaign: str = "end_of_bilan") -> Mail:
    return Mail(
        mail_id, f"survey:x:{mail_id}", "d-1", "survey_invitation", {"campaign": campaign}, 1
    )


def _link(body: str) -> str:
    found = re.search(r"https://avis\.centre\.example/s/(\S+)", body)
    assert found
    return found.group(1)


def test_each_message_carries_its_own_unguessable_link_handed_over_once() -> None:
    tokens = LinkTokens()
    renderer = SurveyMailRenderer(tokens, URL)
    contact = Contact(name="Jeanne Martin", email="jeanne@example.fr")
    first = renderer.invitation(_mail(1), contact)
    second = renderer.reminder(_mail(2, "six_months"), contact)
    assert first["To"] == "jeanne@example.fr"
    assert second["Subject"].startswith("Rappel : Six mois")
    link_one = _link(first.get_content())
    link_two = _link(second.get_content())
    assert link_one != link_two
    assert len(link_one) >= 43  # 32 random bytes, URL-safe base64
    assert tokens.take(1) == link_one
    assert tokens.take(1) is None, "handed over once"
    assert tokens.take(2) == link_two


def test_a_retried_rendering_replaces_the_link_of_that_mail() -> None:
    tokens = LinkTokens()
    renderer = SurveyMailRenderer(tokens, URL)
    contact = Contact(name="", email="rh@opco.example")
    renderer.invitation(_mail(7, "stakeholder"), contact)
    retried = renderer.invitation(_mail(7, "stakeholder"), contact)
    assert tokens.take(7) == _link(retried.get_content())
    assert retried.get_content().startswith("Bonjour,")


def test_hashes_and_keys_are_stable() -> None:
    assert token_hash("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert mail_key("s-1", None) == "survey:s-1:invite"  # type: ignore[arg-type]
    assert mail_key("s-1", 2) == "survey:s-1:reminder:2"  # type: ignore[arg-type]
