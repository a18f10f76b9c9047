"""End to end on the real stack: DossierCompleted on Kafka → one survey e-mail at a real SMTP
server → answered through its link → SurveyAnswered on Kafka with scores and no free text."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest

from services.survey.adapters.mail import token_hash
from shared import contracts as ct
from shared.envelope import Envelope
from shared.mail import Contact
from tests.integration.kafka_reading import end_offsets, read_envelopes
from tests.integration.smtp_server import SmtpServer
from tests.integration.survey.harness import (
    SURVEY_TOPIC,
    Harness,
    Publisher,
    eventually,
    link_token,
)

SECRET_TEXT = "Merci à Mme Dupont, ma reconversion vers la boulangerie avance"
ANSWERS = {
    "overall_satisfaction": 4,
    "objectives_met": 8,
    "consultant_listening": 10,
    "tools_relevance": 6,
    "project_clarity": 7,
    "would_recommend": 9,
    "comments": SECRET_TEXT,
}


@pytest.fixture
async def harness(db_dsn: str, smtp: SmtpServer, kafka_bootstrap: str) -> Harness:
    h = Harness(db_dsn, smtp.port, kafka_bootstrap)
    await h.prepare()
    return h


def assert_no_personal_data(envelopes: list[Envelope], *forbidden: str) -> None:
    for envelope in envelopes:
        text = envelope.data.model_dump_json()
        for value in forbidden:
            assert value not in text, f"{envelope.type} leaks personal data"


async def open_and_complete(
    publisher: Publisher, harness: Harness, clock_now: object
) -> tuple[uuid.UUID, uuid.UUID, str]:
    dossier, beneficiary, site = uuid.uuid4(), uuid.uuid4(), str(uuid.uuid4())
    harness.contacts.known[str(dossier)] = Contact(name="Jeanne Martin", email="jeanne@example.fr")
    await publisher.complete_bilan(
        dossier,
        beneficiary,
        site,
        harness.clock.now(),
        funding_route="cpf",
        held_minutes=1200,
        opened_days_before=80,
    )
    return dossier, beneficiary, site


async def test_completed_dossier_gets_one_mail_and_its_answer_is_published_without_text(
    harness: Harness, publisher: Publisher, smtp: SmtpServer, kafka_bootstrap: str
) -> None:
    start = await end_offsets(kafka_bootstrap, SURVEY_TOPIC)
    async with harness.running() as running:
        client, service = running.client, running.service
        dossier, _, site = await open_and_complete(publisher, harness, None)

        async def mailed() -> bool:
            sent = await service.runtime.pool.fetchval(
                "SELECT count(*) FROM mail_outbox WHERE state = 'sent'"
            )
            return bool(sent == 1 and len(smtp.messages) == 1)

        await eventually(mailed)
        (message,) = smtp.messages
        assert message["To"] == "jeanne@example.fr"
        token = link_token(message)

        survey_id = await service.runtime.pool.fetchval(
            "SELECT survey_id FROM surveys WHERE dossier_id = $1", dossier
        )
        # Only the hash of the link is kept, nowhere the token itself.
        dump = str(await service.runtime.pool.fetch("SELECT * FROM survey_links"))
        assert token not in dump
        assert token_hash(token) in dump
        assert token not in str(await service.runtime.pool.fetch("SELECT * FROM mail_outbox"))
        assert token not in str(await service.runtime.pool.fetch("SELECT data FROM events"))

        shown = await client.get(f"/public/surveys/{token}")
        assert shown.status_code == 200, shown.text
        assert shown.json()["campaign"] == "end_of_bilan"
        assert {q["code"] for q in shown.json()["questions"]} >= set(ANSWERS)

        invalid = await client.post(
            f"/public/surveys/{token}/answers",
            json={"answers": {**ANSWERS, "objectives_met": 11}},
        )
        assert invalid.status_code == 422
        assert invalid.json()["code"] == "invalid_answer"
        assert invalid.json()["question"] == "objectives_met"

        answered = await client.post(f"/public/surveys/{token}/answers", json={"answers": ANSWERS})
        assert answered.status_code == 201, answered.text
        again = await client.post(f"/public/surveys/{token}/answers", json={"answers": ANSWERS})
        assert (again.status_code, again.json()["code"]) == (409, "survey_already_answered")

        guessed = await client.post(
            f"/public/surveys/{'A' * 43}/answers", json={"answers": ANSWERS}
        )
        malformed = await client.post("/public/surveys/%20%3B--/answers", json={"answers": ANSWERS})
        too_long = await client.post(f"/public/surveys/{'x' * 500}/answers", json={"answers": {}})
        peek = await client.get(f"/public/surveys/{'B' * 43}")
        bodies = []
        for response in (guessed, malformed, too_long, peek):
            assert response.status_code == 404
            body = response.json()
            bodies.append(
                {k: v for k, v in body.items() if k not in ("instance", "correlation_id")}
            )
        assert all(body == bodies[0] for body in bodies)
        assert bodies[0]["code"] == "survey_not_found"

        # The free text is stored sealed, never in clear.
        assert SECRET_TEXT not in str(await service.runtime.pool.fetch("SELECT data FROM events"))
        detail = await client.get(f"/surveys/{survey_id}", headers=_auth(["quality_lead"], [site]))
        assert detail.status_code == 200
        assert detail.json()["free_text"] == {"comments": SECRET_TEXT}
        manager = await client.get(f"/surveys/{survey_id}", headers=_auth(["site_manager"], [site]))
        assert manager.json()["scores"]["objectives_met"] == 8
        assert manager.json()["free_text"] is None, "managers see scores, not what was written"
        # The list shows the same figures as the detail (issue 16, item 10).
        (listed,) = (await client.get("/surveys", headers=_auth(["site_manager"], [site]))).json()
        assert (listed["scores"], listed["situation"], listed["satisfaction_score"]) == (
            manager.json()["scores"],
            manager.json()["situation"],
            manager.json()["satisfaction_score"],
        )
        assert listed["scores"]["objectives_met"] == 8
        # A survey answered before the list kept them: read from its events.
        await service.runtime.pool.execute("UPDATE surveys SET scores = NULL")
        (listed,) = (await client.get("/surveys", headers=_auth(["site_manager"], [site]))).json()
        assert listed["scores"] == manager.json()["scores"]
        other_site = await client.get(
            f"/surveys/{survey_id}", headers=_auth(["quality_lead"], [str(uuid.uuid4())])
        )
        assert other_site.status_code == 404

        def ours(e: Envelope) -> bool:
            return e.subject == str(survey_id)

        received = await read_envelopes(
            kafka_bootstrap, start, keep=ours, done=lambda got: len(got) >= 2, timeout_s=30
        )

    sent, answer = received
    assert isinstance(sent.data, ct.SurveySent)
    assert (sent.data.dossier_id, sent.data.campaign, sent.data.respondent_role) == (
        dossier,
        "end_of_bilan",
        "beneficiary",
    )
    assert sent.data.sent_at == harness.clock.now()
    assert sent.data.expires_at == sent.data.sent_at + timedelta(days=30)
    assert isinstance(answer.data, ct.SurveyAnswered)
    assert answer.data.satisfaction_score == 4
    assert answer.data.scores == {
        "objectives_met": 8,
        "consultant_listening": 10,
        "tools_relevance": 6,
        "project_clarity": 7,
        "would_recommend": 9,
    }
    assert [e.sequence for e in received] == [1, 2]
    assert {e.site_id for e in received} == {site}
    assert_no_personal_data(received, SECRET_TEXT, "jeanne", "Jeanne", "Martin", token)


def _auth(roles: list[str], sites: list[str]) -> dict[str, str]:
    from tests.integration.survey.harness import auth

    return auth(roles, sites)


async def test_a_redelivered_or_repeated_completion_sends_no_second_mail(
    harness: Harness, publisher: Publisher, smtp: SmtpServer
) -> None:
    async with harness.running() as running:
        service = running.service
        dossier, _, site = await open_and_complete(publisher, harness, None)
        await eventually(lambda: _count_sent(service))
        completed = ct.DossierCompleted(
            dossier_id=dossier, held_minutes=1200, completed_at=harness.clock.now()
        )
        await publisher.publish(completed, site)  # the same fact again under a new ce_id
        abandoned_dossier = uuid.uuid4()
        harness.contacts.known[str(abandoned_dossier)] = Contact(name="X", email="x@example.fr")
        await publisher.publish(
            ct.DossierAbandoned(
                dossier_id=abandoned_dossier,
                phase_at_abandon="investigation",
                reason_category="health",
                initiated_by="beneficiary",
                abandoned_at=harness.clock.now(),
            ),
            site,
        )
        # Not a sequence the contract allows, but the guard must hold: no survey once abandoned.
        await publisher.publish(
            ct.DossierCompleted(
                dossier_id=abandoned_dossier, held_minutes=600, completed_at=harness.clock.now()
            ),
            site,
        )
        # A foreign dossier (never opened here, no contact) must not stop the consumer.
        await publisher.publish(
            ct.DossierCompleted(
                dossier_id=uuid.uuid4(), held_minutes=600, completed_at=harness.clock.now()
            ),
            str(uuid.uuid4()),
        )
        # History replayed from long ago: too late to ask about that bilan.
        old_dossier = uuid.uuid4()
        harness.contacts.known[str(old_dossier)] = Contact(name="Z", email="z@example.fr")
        await publisher.publish(
            ct.DossierCompleted(
                dossier_id=old_dossier,
                held_minutes=600,
                completed_at=harness.clock.now() - timedelta(days=31),
            ),
            site,
        )
        marker = uuid.uuid4()
        harness.contacts.known[str(marker)] = Contact(name="Y", email="y@example.fr")
        await publisher.publish(
            ct.DossierCompleted(
                dossier_id=marker, held_minutes=600, completed_at=harness.clock.now()
            ),
            site,
        )
        # Events of one partition are handled in order, others may lag: wait for the marker's
        # mail and for the repeated completion to have been consumed.
        await eventually(lambda: _smtp_has(smtp, "y@example.fr"))
        await eventually(
            lambda: _surveys_for(service, dossier, abandoned_dossier),
        )
    recipients = [m["To"] for m in smtp.messages]
    assert recipients.count("jeanne@example.fr") == 1
    assert "x@example.fr" not in recipients
    assert "z@example.fr" not in recipients


async def _count_sent(service: object) -> bool:
    pool = service.runtime.pool  # type: ignore[attr-defined]
    return bool(await pool.fetchval("SELECT count(*) FROM mail_outbox WHERE state = 'sent'") == 1)


async def _smtp_has(smtp: SmtpServer, address: str) -> bool:
    return any(m["To"] == address for m in smtp.messages)


async def _surveys_for(service: object, dossier: uuid.UUID, abandoned: uuid.UUID) -> bool:
    pool = service.runtime.pool  # type: ignore[attr-defined]
    consumed = await pool.fetchval("SELECT count(*) FROM processed_events")
    abandoned_known = await pool.fetchval(
        "SELECT state FROM survey_dossiers WHERE dossier_id = $1", abandoned
    )
    surveys = await pool.fetchval("SELECT count(*) FROM surveys WHERE dossier_id = $1", dossier)
    return bool(consumed >= 8 and abandoned_known == "abandoned" and surveys == 1)


async def test_stakeholder_survey_is_mailed_and_its_address_shredded_once_answered(
    harness: Harness, smtp: SmtpServer, kafka_bootstrap: str
) -> None:
    start = await end_offsets(kafka_bootstrap, SURVEY_TOPIC)
    address = "rh.formation@opco-exemple.fr"
    async with harness.running() as running:
        client, service = running.client, running.service
        refused = await client.post(
            "/stakeholder-surveys",
            json={"respondent_role": "funder", "email": address},
            headers=_auth(["site_manager"], []),
        )
        assert refused.status_code == 403
        one_site = await client.post(
            "/stakeholder-surveys",
            json={"respondent_role": "funder", "email": address},
            headers=_auth(["quality_lead"], [str(uuid.uuid4())]),
        )
        assert (one_site.status_code, one_site.json()["code"]) == (403, "organisation_wide")
        bad = await client.post(
            "/stakeholder-surveys",
            json={"respondent_role": "funder", "email": "not an address"},
            headers=_auth(["quality_lead"], []),
        )
        assert bad.status_code == 422
        sent = await client.post(
            "/stakeholder-surveys",
            json={"respondent_role": "funder", "email": address},
            headers=_auth(["quality_lead"], ["*"]),
        )
        assert sent.status_code == 202, sent.text
        survey_id = sent.json()["survey_id"]
        await eventually(lambda: _count_sent(service))
        (message,) = smtp.messages
        assert message["To"] == address
        pool = service.runtime.pool
        assert address not in str(await pool.fetch("SELECT * FROM stakeholder_contacts"))
        token = link_token(message)
        answered = await client.post(
            f"/public/surveys/{token}/answers",
            json={
                "answers": {
                    "overall_satisfaction": 5,
                    "communication_quality": 9,
                    "responsiveness": 8,
                }
            },
        )
        assert answered.status_code == 201
        assert await pool.fetchval("SELECT count(*) FROM stakeholder_contacts") == 0
        assert await service.runtime.keys.is_shredded(f"stakeholder-contact:{survey_id}")
        received = await read_envelopes(
            kafka_bootstrap,
            start,
            keep=lambda e: e.subject == survey_id,
            done=lambda got: len(got) >= 2,
        )
    first, answer = received
    assert isinstance(first.data, ct.SurveySent)
    assert (first.data.dossier_id, first.data.campaign, first.data.respondent_role) == (
        None,
        "stakeholder",
        "funder",
    )
    assert isinstance(answer.data, ct.SurveyAnswered)
    assert answer.data.dossier_id is None
    assert {e.site_id for e in received} == {"org"}
    assert_no_personal_data(received, address, "opco")


async def test_two_simultaneous_answers_through_one_link_record_one(
    harness: Harness, smtp: SmtpServer
) -> None:
    async with harness.running() as running:
        client, service = running.client, running.service
        sent = await client.post(
            "/stakeholder-surveys",
            json={"respondent_role": "staff", "email": "equipe@centre.example"},
            headers=_auth(["admin"], ["*"]),
        )
        assert sent.status_code == 202
        await eventually(lambda: _count_sent(service))
        token = link_token(smtp.messages[0])
        body = {
            "answers": {"overall_satisfaction": 3, "communication_quality": 5, "responsiveness": 5}
        }
        responses = await asyncio.gather(
            *(client.post(f"/public/surveys/{token}/answers", json=body) for _ in range(5))
        )
        statuses = sorted(r.status_code for r in responses)
        assert statuses == [201, 409, 409, 409, 409]
        answered = await service.runtime.pool.fetchval(
            "SELECT count(*) FROM events WHERE event_type = 'SurveyAnswered'"
        )
        assert answered == 1


async def test_readiness_lists_the_mail_loop_and_a_dead_one_fails_it(harness: Harness) -> None:
    async with harness.running() as running:
        client, service = running.client, running.service
        ready = await client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["loops"]["mail"] == "running"
        # The loop ends as a defect would end it: the process must say it is broken.
        assert service.mail is not None
        service.runtime.forget("mail")  # not counted while we stop it ourselves...
        service.mail.stop()
        await asyncio.sleep(0.3)
        service.runtime.watch("mail", asyncio.create_task(_fails()))  # ...then a dying one
        await asyncio.sleep(0.05)
        assert (await client.get("/readyz")).status_code == 503
        health = await client.get("/healthz")
        assert health.status_code == 503
        assert health.json()["loops"] == {"mail": "died: RuntimeError"}


async def _fails() -> None:
    raise RuntimeError("a defect in the loop")
