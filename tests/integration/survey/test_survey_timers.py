"""Reminders, expiry and the six-month survey fire from durable timers under a fake clock,
once each, across restarts of the service."""

from __future__ import annotations

import uuid
from datetime import timedelta

from shared import contracts as ct
from shared.envelope import Envelope
from shared.mail import Contact
from tests.integration.kafka_reading import end_offsets, read_envelopes
from tests.integration.smtp_server import SmtpServer
from tests.integration.survey.harness import (
    SURVEY_TOPIC,
    Harness,
    Publisher,
    auth,
    eventually,
    link_token,
)


async def _sent_mails(harness_pool: object) -> int:
    count = await harness_pool.fetchval(  # type: ignore[attr-defined]
        "SELECT count(*) FROM mail_outbox WHERE state = 'sent'"
    )
    return int(count)


async def test_reminders_expiry_and_six_month_survey_fire_once_across_restarts(
    db_dsn: str, smtp: SmtpServer, publisher: Publisher, kafka_bootstrap: str
) -> None:
    harness = Harness(db_dsn, smtp.port, kafka_bootstrap)
    await harness.prepare()
    clock = harness.clock
    start = await end_offsets(kafka_bootstrap, SURVEY_TOPIC)
    dossier, beneficiary, site = uuid.uuid4(), uuid.uuid4(), str(uuid.uuid4())
    harness.contacts.known[str(dossier)] = Contact(name="Paul Durand", email="paul@example.fr")
    completed_at = clock.now()

    async def mails_sent(n: int) -> None:
        async def check() -> bool:
            return len(smtp.messages) == n and await _sent_mails(service.runtime.pool) == n

        await eventually(check, what=f"{n} mails")

    async with harness.running() as running:
        service = running.service
        await publisher.complete_bilan(dossier, beneficiary, site, completed_at)
        await mails_sent(1)
        clock.advance(timedelta(days=6, hours=23))
        clock.advance(timedelta(hours=1))  # day 7: first reminder
        await mails_sent(2)

    async with harness.running() as running:  # restarted: timers are in PostgreSQL
        service = running.service
        clock.advance(timedelta(days=7))  # day 14: second reminder
        await mails_sent(3)
        # A reminder is of no use once the survey has closed: it expires with the survey.
        useful_until = await service.runtime.pool.fetch(
            """SELECT m.not_after = s.expires_at AS same FROM mail_outbox m
               JOIN surveys s ON s.survey_id::text = m.params->>'survey_id'
               WHERE m.template = 'survey_reminder'"""
        )
        assert [r["same"] for r in useful_until] == [True, True]
        clock.advance(timedelta(days=16))  # day 30: expiry
        end_survey = await service.runtime.pool.fetchval(
            "SELECT survey_id FROM surveys WHERE dossier_id = $1 AND campaign = 'end_of_bilan'",
            dossier,
        )

        async def expired() -> bool:
            status = await service.runtime.pool.fetchval(
                "SELECT status FROM surveys WHERE survey_id = $1", end_survey
            )
            return bool(status == "expired")

        await eventually(expired)
        late_link = link_token(smtp.messages[2])

    async with harness.running() as running:
        client, service = running.client, running.service
        gone = await client.post(
            f"/public/surveys/{late_link}/answers", json={"answers": {"overall_satisfaction": 3}}
        )
        assert (gone.status_code, gone.json()["code"]) == (410, "survey_expired")
        clock.set(completed_at + timedelta(days=182))  # six months after completion
        await mails_sent(4)
        six_month_link = link_token(smtp.messages[3])
        answered = await client.post(
            f"/public/surveys/{six_month_link}/answers",
            json={
                "answers": {
                    "overall_satisfaction": 5,
                    "situation": "in_training",
                    "project_progress": 7,
                    "comments": "Formation de boulanger commencée à Lyon",
                }
            },
        )
        assert answered.status_code == 201, answered.text
        six_month_survey = await service.runtime.pool.fetchval(
            "SELECT survey_id FROM surveys WHERE dossier_id = $1 AND campaign = 'six_months'",
            dossier,
        )
        listing = await client.get("/surveys", headers=auth(["site_manager"], [site]))
        assert {r["status"] for r in listing.json()} == {"expired", "answered"}

    async with harness.running() as running:  # nothing fires twice after yet another start
        service = running.service
        clock.advance(timedelta(days=400))
        await eventually(lambda: _relay_drained(service))
        assert await _sent_mails(service.runtime.pool) == 4

    subjects = {str(end_survey), str(six_month_survey)}

    def ours(e: Envelope) -> bool:
        return e.subject in subjects

    copies = await read_envelopes(
        kafka_bootstrap,
        start,
        keep=ours,
        done=lambda got: len({e.id for e in got}) >= 7,
        timeout_s=30,
    )
    # The relay publishes at least once (a restart may resend what the broker already had);
    # consumers drop copies by ce_id, and so does this test.
    received = list({e.id: e for e in copies}.values())
    assert len(smtp.messages) == 4
    end = sorted((e for e in received if e.subject == str(end_survey)), key=lambda e: e.sequence)
    assert [type(e.data).__name__ for e in end] == [
        "SurveySent",
        "SurveyReminderSent",
        "SurveyReminderSent",
        "SurveyExpired",
    ]
    assert [e.sequence for e in end] == [1, 2, 3, 4]
    assert [e.data.reminder_number for e in end[1:3]] == [1, 2]  # type: ignore[attr-defined]
    assert [e.time - completed_at for e in end] == [
        timedelta(0),
        timedelta(days=7),
        timedelta(days=14),
        timedelta(days=30),
    ]
    six = sorted(
        (e for e in received if e.subject == str(six_month_survey)), key=lambda e: e.sequence
    )
    assert [type(e.data).__name__ for e in six] == [
        "SurveySent",
        "SurveyAnswered",
        "SixMonthSituationReported",
    ]
    assert [e.sequence for e in six] == [1, 2, 3]
    assert isinstance(six[0].data, ct.SurveySent)
    assert six[0].data.campaign == "six_months"
    assert six[0].time == completed_at + timedelta(days=182)
    situation = six[2]
    assert isinstance(situation.data, ct.SixMonthSituationReported)
    assert situation.data.situation == "in_training"
    assert situation.data.dossier_id == dossier
    assert {e.site_id for e in received} == {site}
    for e in received:
        assert "boulanger" not in e.data.model_dump_json()
        assert "paul" not in e.data.model_dump_json().lower()


async def _relay_drained(service: object) -> bool:
    pool = service.runtime.pool  # type: ignore[attr-defined]
    return bool(await pool.fetchval("SELECT count(*) FROM outbox") == 0)


async def test_erasure_stops_the_six_month_survey_and_shreds_the_answers(
    db_dsn: str, smtp: SmtpServer, publisher: Publisher, kafka_bootstrap: str
) -> None:
    harness = Harness(db_dsn, smtp.port, kafka_bootstrap)
    await harness.prepare()
    clock = harness.clock
    dossier, beneficiary, site = uuid.uuid4(), uuid.uuid4(), str(uuid.uuid4())
    harness.contacts.known[str(dossier)] = Contact(name="Lea", email="lea@example.fr")
    async with harness.running() as running:
        client, service = running.client, running.service
        await publisher.publish(
            ct.DossierOpened(
                dossier_id=dossier,
                beneficiary_id=beneficiary,
                site_id=uuid.UUID(site),
                funding_route="cpf",
                enquiry_received_at=clock.now() - timedelta(days=60),
                opened_at=clock.now() - timedelta(days=50),
            ),
            site,
        )
        await publisher.publish(
            ct.DossierCompleted(dossier_id=dossier, held_minutes=900, completed_at=clock.now()),
            site,
        )
        # The link answers once its sending is recorded (on_sent), just after SMTP took it.
        await eventually(lambda: _has_mails(smtp, 1))
        await eventually(lambda: _recorded_sent(service, 1))
        token = link_token(smtp.messages[0])
        answers = {
            "overall_satisfaction": 2,
            "objectives_met": 3,
            "consultant_listening": 4,
            "tools_relevance": 5,
            "project_clarity": 2,
            "would_recommend": 1,
            "comments": "Texte libre de Léa",
        }
        assert (
            await client.post(f"/public/surveys/{token}/answers", json={"answers": answers})
        ).status_code == 201
        await publisher.publish(
            ct.BeneficiaryErased(subject_id=beneficiary, erased_at=clock.now()), "org"
        )

        async def erased() -> bool:
            state = await service.runtime.pool.fetchval(
                "SELECT state FROM survey_dossiers WHERE dossier_id = $1", dossier
            )
            return bool(state == "erased")

        await eventually(erased)
        survey_id = await service.runtime.pool.fetchval(
            "SELECT survey_id FROM surveys WHERE dossier_id = $1", dossier
        )
        detail = await client.get(f"/surveys/{survey_id}", headers=auth(["admin"]))
        assert detail.json()["free_text"] == {"comments": None}, "shredded"
        assert detail.json()["satisfaction_score"] == 2, "scores are not personal data"
        clock.advance(timedelta(days=200))
        await eventually(lambda: _six_month_timer_settled(service, dossier))
    assert len(smtp.messages) == 1


async def test_a_withdrawal_cancels_the_sent_survey_its_link_answers_410(
    db_dsn: str, smtp: SmtpServer, publisher: Publisher, kafka_bootstrap: str
) -> None:
    harness = Harness(db_dsn, smtp.port, kafka_bootstrap)
    await harness.prepare()
    clock = harness.clock
    start = await end_offsets(kafka_bootstrap, SURVEY_TOPIC)
    dossier, beneficiary, site = uuid.uuid4(), uuid.uuid4(), str(uuid.uuid4())
    harness.contacts.known[str(dossier)] = Contact(name="Ines", email="ines@example.fr")
    async with harness.running() as running:
        client, service = running.client, running.service
        await publisher.publish(
            ct.DossierOpened(
                dossier_id=dossier,
                beneficiary_id=beneficiary,
                site_id=uuid.UUID(site),
                funding_route="self_funded",
                enquiry_received_at=clock.now() - timedelta(days=60),
                opened_at=clock.now() - timedelta(days=50),
            ),
            site,
        )
        await publisher.publish(
            ct.DossierCompleted(dossier_id=dossier, held_minutes=900, completed_at=clock.now()),
            site,
        )
        await eventually(lambda: _has_mails(smtp, 1))
        await eventually(lambda: _recorded_sent(service, 1))
        token = link_token(smtp.messages[0])
        await publisher.publish(
            ct.WithdrawalExercised(
                dossier_id=dossier, convention_id=uuid.uuid4(), exercised_at=clock.now()
            ),
            site,
        )

        async def withdrawn() -> bool:
            state = await service.runtime.pool.fetchval(
                "SELECT state FROM survey_dossiers WHERE dossier_id = $1", dossier
            )
            return bool(state == "withdrawn")

        await eventually(withdrawn)
        gone = await client.get(f"/public/surveys/{token}")
        assert gone.status_code == 410
        assert gone.json()["code"] == "survey_cancelled"
        answers = {
            "overall_satisfaction": 5,
            "objectives_met": 3,
            "consultant_listening": 4,
            "tools_relevance": 5,
            "project_clarity": 2,
            "would_recommend": 1,
        }
        answered = await client.post(f"/public/surveys/{token}/answers", json={"answers": answers})
        assert answered.status_code == 410
        # No six-month survey for a withdrawn bilan.
        clock.advance(timedelta(days=200))
        await eventually(lambda: _six_month_timer_settled(service, dossier))
        survey_id = await service.runtime.pool.fetchval(
            "SELECT survey_id FROM surveys WHERE dossier_id = $1", dossier
        )
    published = await read_envelopes(
        kafka_bootstrap,
        start,
        keep=lambda e: e.subject == str(survey_id),
        done=lambda got: any(isinstance(e.data, ct.SurveyCancelled) for e in got),
        timeout_s=30,
    )
    cancelled = [e.data for e in published if isinstance(e.data, ct.SurveyCancelled)]
    assert [c.reason for c in cancelled] == ["dossier_withdrawn"]
    assert [type(e.data).__name__ for e in published] == ["SurveySent", "SurveyCancelled"]
    assert len(smtp.messages) == 1


async def _recorded_sent(service: object, n: int) -> bool:
    return await _sent_mails(service.runtime.pool) == n  # type: ignore[attr-defined]


async def _has_mails(smtp: SmtpServer, n: int) -> bool:
    return len(smtp.messages) >= n


async def _six_month_timer_settled(service: object, dossier: uuid.UUID) -> bool:
    pool = service.runtime.pool  # type: ignore[attr-defined]
    pending = await pool.fetchval(
        "SELECT count(*) FROM timers WHERE state = 'pending' AND due_at <= $1",
        service.runtime.clock.now(),  # type: ignore[attr-defined]
    )
    six = await pool.fetchval(
        "SELECT state FROM timers WHERE timer_key = $1", f"dossier:{dossier}:six_months"
    )
    return bool(pending == 0 and six == "cancelled")


async def test_a_dossier_learnt_after_its_beneficiary_was_erased_gets_no_survey(
    db_dsn: str, smtp: SmtpServer, publisher: Publisher, kafka_bootstrap: str
) -> None:
    harness = Harness(db_dsn, smtp.port, kafka_bootstrap)
    await harness.prepare()
    clock = harness.clock
    dossier, beneficiary, site = uuid.uuid4(), uuid.uuid4(), str(uuid.uuid4())
    harness.contacts.known[str(dossier)] = Contact(name="Max", email="max@example.fr")
    async with harness.running() as running:
        service = running.service
        pool = service.runtime.pool
        # Different keys, different partitions: the erasure may be handled first.
        await publisher.publish(
            ct.BeneficiaryErased(subject_id=beneficiary, erased_at=clock.now()), "org"
        )

        async def erasure_recorded() -> bool:
            return bool(
                await pool.fetchval(
                    "SELECT true FROM survey_erased_beneficiaries WHERE beneficiary_id = $1",
                    beneficiary,
                )
            )

        await eventually(erasure_recorded)
        await publisher.publish(
            ct.DossierOpened(
                dossier_id=dossier,
                beneficiary_id=beneficiary,
                site_id=uuid.UUID(site),
                funding_route="cpf",
                enquiry_received_at=clock.now() - timedelta(days=60),
                opened_at=clock.now() - timedelta(days=50),
            ),
            site,
        )
        await publisher.publish(
            ct.DossierCompleted(dossier_id=dossier, held_minutes=900, completed_at=clock.now()),
            site,
        )

        async def completion_handled() -> bool:
            return bool(await pool.fetchval("SELECT count(*) FROM processed_events") == 3)

        await eventually(completion_handled)
        assert await pool.fetchval("SELECT count(*) FROM surveys") == 0
        assert await pool.fetchval("SELECT count(*) FROM timers") == 0
    assert smtp.messages == []


async def test_no_reminder_leaves_once_the_answer_window_is_over(
    db_dsn: str, smtp: SmtpServer, publisher: Publisher, kafka_bootstrap: str
) -> None:
    harness = Harness(db_dsn, smtp.port, kafka_bootstrap)
    await harness.prepare()
    dossier = uuid.uuid4()
    harness.contacts.known[str(dossier)] = Contact(name="Paul Durand", email="paul@example.fr")

    async with harness.running() as running:
        service = running.service
        await publisher.complete_bilan(
            dossier, uuid.uuid4(), str(uuid.uuid4()), harness.clock.now()
        )

        async def invited() -> bool:
            return len(smtp.messages) == 1 and await _sent_mails(service.runtime.pool) == 1

        await eventually(invited, what="the invitation")

    # Down from before the first reminder (day 7) until after the expiry (day 30): both
    # reminders' timers and the expiry's are due at the next start.
    harness.clock.advance(timedelta(days=31))
    async with harness.running() as running:
        service = running.service

        async def closed() -> bool:
            status = await service.runtime.pool.fetchval(
                "SELECT status FROM surveys WHERE dossier_id = $1", dossier
            )
            fired = await service.runtime.pool.fetchval(
                "SELECT count(*) FROM timers WHERE state = 'fired'"
            )
            return bool(status == "expired" and fired >= 3)

        await eventually(closed, what="the expiry and both reminder timers")
        mails = await service.runtime.pool.fetch("SELECT template, state FROM mail_outbox")
        assert [(m["template"], m["state"]) for m in mails] == [("survey_invitation", "sent")]
    assert len(smtp.messages) == 1, "a reminder would only lead to a closed survey"
