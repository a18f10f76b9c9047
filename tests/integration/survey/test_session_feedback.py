"""Session feedback (contract v1.1): after held bilan-phase sessions the beneficiary is asked
about them, after every one or after the last of each phase, as the centre configured."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from email.header import decode_header, make_header

from shared import contracts as ct
from shared.mail import Contact
from tests.integration.kafka_reading import end_offsets, read_envelopes
from tests.integration.smtp_server import SmtpServer
from tests.integration.survey.harness import SURVEY_TOPIC, Harness, Publisher, eventually


def _held(dossier: uuid.UUID, site: str, phase: str, started_at: datetime) -> ct.SessionHeld:
    return ct.SessionHeld(
        session_id=uuid.uuid4(),
        dossier_id=dossier,
        consultant_id=uuid.uuid4(),
        site_id=uuid.UUID(site),
        phase=phase,
        modality="remote",
        started_at=started_at,
        duration_minutes=90,
    )


async def _opened(publisher: Publisher, dossier: uuid.UUID, site: str, at: datetime) -> None:
    await publisher.publish(
        ct.DossierOpened(
            dossier_id=dossier,
            beneficiary_id=uuid.uuid4(),
            site_id=uuid.UUID(site),
            funding_route="cpf",
            enquiry_received_at=at - timedelta(days=10),
            opened_at=at - timedelta(days=9),
        ),
        site,
    )


async def _feedback_surveys(service: object) -> list[tuple[uuid.UUID, str]]:
    rows = await service.runtime.pool.fetch(  # type: ignore[attr-defined]
        "SELECT session_id, status FROM surveys WHERE campaign = 'session_feedback'"
        " ORDER BY created_at"
    )
    return [(r["session_id"], r["status"]) for r in rows]


async def test_every_held_bilan_session_gets_its_feedback_survey(
    db_dsn: str, smtp: SmtpServer, publisher: Publisher, kafka_bootstrap: str
) -> None:
    harness = Harness(db_dsn, smtp.port, kafka_bootstrap, session_feedback="every_session")
    await harness.prepare()
    clock = harness.clock
    start = await end_offsets(kafka_bootstrap, SURVEY_TOPIC)
    dossier, site = uuid.uuid4(), str(uuid.uuid4())
    harness.contacts.known[str(dossier)] = Contact(name="Zoe", email="zoe@example.fr")
    async with harness.running() as running:
        service = running.service
        await _opened(publisher, dossier, site, clock.now())
        information = _held(dossier, site, "information", clock.now() - timedelta(days=2))
        held = _held(dossier, site, "preliminary", clock.now() - timedelta(hours=2))
        for event in (information, held):
            await publisher.publish(event, site)

        async def one_sent() -> bool:
            return await _feedback_surveys(service) == [(held.session_id, "open")]

        await eventually(one_sent)
        # Read while the service runs: its relay publishes SurveySent after the commit.
        (sent,) = await read_envelopes(
            kafka_bootstrap,
            start,
            keep=lambda e: isinstance(e.data, ct.SurveySent) and e.data.dossier_id == dossier,
            done=lambda got: len(got) >= 1,
            timeout_s=30,
        )
    subjects = [str(make_header(decode_header(m["Subject"]))) for m in smtp.messages]
    assert subjects == ["Votre avis sur votre séance"]
    assert isinstance(sent.data, ct.SurveySent)
    assert (sent.data.campaign, sent.data.session_id) == ("session_feedback", held.session_id)


async def test_the_last_session_of_a_completed_phase_gets_the_feedback_survey(
    db_dsn: str, smtp: SmtpServer, publisher: Publisher, kafka_bootstrap: str
) -> None:
    harness = Harness(db_dsn, smtp.port, kafka_bootstrap)  # the default: last_of_phase
    await harness.prepare()
    clock = harness.clock
    dossier, site = uuid.uuid4(), str(uuid.uuid4())
    harness.contacts.known[str(dossier)] = Contact(name="Yann", email="yann@example.fr")
    async with harness.running() as running:
        service = running.service
        await _opened(publisher, dossier, site, clock.now())
        first = _held(dossier, site, "investigation", clock.now() - timedelta(days=7))
        last = _held(dossier, site, "investigation", clock.now() - timedelta(days=1))
        # The phase's completion may come before its last session (another topic).
        await publisher.publish(
            ct.PhaseCompleted(dossier_id=dossier, phase="investigation", completed_at=clock.now()),
            site,
        )
        for event in (last, first):
            await publisher.publish(event, site)

        async def recorded() -> bool:
            count = await service.runtime.pool.fetchval(
                "SELECT count(*) FROM survey_held_sessions WHERE dossier_id = $1", dossier
            )
            return bool(count == 2)

        await eventually(recorded)
        assert await _feedback_surveys(service) == [], "not before the phase's delay"
        clock.advance(timedelta(hours=2))

        async def sent() -> bool:
            return await _feedback_surveys(service) == [(last.session_id, "open")]

        await eventually(sent)
    assert len(smtp.messages) == 1
