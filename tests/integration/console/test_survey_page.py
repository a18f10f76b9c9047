"""The e-mailed survey link opens an HTML questionnaire (no sign-in, no JavaScript needed),
against the real survey service: answered once, then said in words; unknown and expired links
too."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

from shared.mail import Contact
from tests.integration.console.conftest import Console, body_of, csrf_of
from tests.integration.survey.harness import Publisher

SURVEY_LINK = re.compile(r"http://console\.test(/public/surveys/\S+)")
ANSWERS = {
    "overall_satisfaction": "5",
    "objectives_met": "8",
    "consultant_listening": "9",
    "tools_relevance": "7",
    "project_clarity": "8",
    "would_recommend": "10",
    "comments": "Très utile, merci à Claire.",
}


async def _invitation(c: Console, kafka_bootstrap: str) -> str:
    """A completed bilan's survey invitation: the path of its answer link."""
    dossier, beneficiary = uuid.uuid4(), uuid.uuid4()
    email = f"camille.{uuid.uuid4().hex[:8]}@example.org"
    c.survey.contacts.known[str(dossier)] = Contact(name="Camille Martin", email=email)
    publisher = Publisher(kafka_bootstrap)
    await publisher.start()
    try:
        await publisher.complete_bilan(dossier, beneficiary, c.site, c.survey.clock.now())
    finally:
        await publisher.stop()
    (mail,) = await c.mails_to(email)
    found = SURVEY_LINK.search(body_of(mail))
    assert found is not None
    return found.group(1)


async def test_the_survey_is_answered_in_html_once(console: Console, kafka_bootstrap: str) -> None:
    c = console
    path = await _invitation(c, kafka_bootstrap)
    async with c.browser() as phone:
        page = await phone.get(path)
        assert page.status_code == 200
        assert "Votre avis sur votre bilan" in page.text
        assert "Globalement, êtes-vous satisfait(e) de votre bilan ?" in page.text
        assert "<script>" not in page.text  # no inline script; the form posts by itself

        token = await csrf_of(phone, path)
        incomplete = await phone.post(
            path, data={"csrf_token": token, "comments": "Bien", "objectives_met": "11"}
        )
        assert incomplete.status_code == 422
        # Each error is tied to its question, and what was typed is kept.
        assert 'id="err-overall_satisfaction"' in incomplete.text
        assert 'aria-describedby="err-objectives_met"' in incomplete.text
        assert "Bien</textarea>" in incomplete.text

        done = await phone.post(path, data={"csrf_token": token, **ANSWERS})
        assert (done.status_code, done.headers["location"]) == (303, "/public/surveys/merci")
        thanks = await phone.get("/public/surveys/merci")
        assert "Merci !" in thanks.text

        again = await phone.get(path)
        assert again.status_code == 409
        assert "Déjà répondu" in again.text
        twice = await phone.post(path, data={"csrf_token": token, **ANSWERS})
        assert twice.status_code == 409

    # The JSON API stays for machines.
    answered = await c.app.state.console.backend.call(
        "survey", "GET", path, token=None, expect=(409,)
    )
    assert answered.body["code"] == "survey_already_answered"


async def test_unknown_and_expired_links_are_said_in_words(
    console: Console, kafka_bootstrap: str
) -> None:
    c = console
    async with c.browser() as phone:
        for unknown in ("/public/surveys/not-a-token", "/public/surveys/" + "x" * 300):
            page = await phone.get(unknown)
            assert page.status_code == 404
            assert "Lien inconnu" in page.text
        path = await _invitation(c, kafka_bootstrap)
        token = await csrf_of(phone, path)
        c.survey.clock.advance(timedelta(days=31))
        expired = await phone.get(path)
        assert expired.status_code == 410
        assert "Questionnaire clos" in expired.text
        late = await phone.post(path, data={"csrf_token": token, **ANSWERS})
        assert late.status_code == 410


async def test_a_survey_answer_needs_the_form_token(console: Console, kafka_bootstrap: str) -> None:
    c = console
    path = await _invitation(c, kafka_bootstrap)
    async with c.browser() as phone:
        refused = await phone.post(path, data=ANSWERS)
        assert refused.status_code == 403
        assert (await phone.get(path)).status_code == 200  # still unanswered


async def test_one_person_guessing_links_does_not_lock_out_the_others(
    console: Console, kafka_bootstrap: str
) -> None:
    """The survey service limits failed link attempts per client. Behind the console every
    browser would be one client; the console passes the browser's address on, so the one
    guessing is stopped (in words, with Retry-After) and the next person's link still opens."""
    c = console
    path = await _invitation(c, kafka_bootstrap)
    async with c.browser("198.51.100.20") as guesser, c.browser("198.51.100.21") as other:
        statuses = [
            (await guesser.get(f"/public/surveys/guess-{n}")).status_code for n in range(25)
        ]
        assert statuses[0] == 404
        assert statuses[-1] == 429, "the survey service's burst of 20 is spent"
        limited = await guesser.get("/public/surveys/guess-again")
        assert limited.status_code == 429
        assert "Trop de tentatives" in limited.text
        assert int(limited.headers["retry-after"]) >= 1
        mine = await other.get(path)
        assert mine.status_code == 200, "another person's real link is not held up"
        assert "Votre avis sur votre bilan" in mine.text
