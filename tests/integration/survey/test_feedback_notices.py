"""The referent consultant is mailed, once, when their beneficiary answers a session's
feedback questionnaire: in French, with the dossier's console page and the centre's contact,
never a score or a word of the answer; not again after a crash between SMTP and its record."""

from __future__ import annotations

import uuid
from datetime import timedelta
from email.header import decode_header, make_header
from email.message import EmailMessage, Message

import pytest

from shared import contracts as ct
from shared.mail import Contact, SmtpTransport
from tests.integration.smtp_server import SmtpServer
from tests.integration.survey.harness import Harness, Publisher, eventually, link_token

SECRET = "Ma reconversion vers la boulangerie avance bien"


def _subject(message: Message) -> str:
    return str(make_header(decode_header(message["Subject"])))


def _body(message: Message) -> str:
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode().replace("\r\n", "\n")


async def _feedback_asked(
    harness: Harness, publisher: Publisher, smtp: SmtpServer
) -> tuple[uuid.UUID, uuid.UUID, str]:
    """A dossier with a referent and a held session whose feedback invitation went out:
    (dossier, referent, the answer link's token)."""
    clock = harness.clock
    dossier, referent, site = uuid.uuid4(), uuid.uuid4(), str(uuid.uuid4())
    harness.contacts.known[str(dossier)] = Contact(name="Zoé", email="zoe@example.fr")
    harness.contacts.known[f"staff:{referent}"] = Contact(
        name="Claire Dubois", email="claire@centre.example"
    )
    async with harness.running() as running:
        await publisher.publish(
            ct.DossierOpened(
                dossier_id=dossier,
                beneficiary_id=uuid.uuid4(),
                site_id=uuid.UUID(site),
                funding_route="cpf",
                enquiry_received_at=clock.now() - timedelta(days=10),
                opened_at=clock.now() - timedelta(days=9),
            ),
            site,
        )
        await publisher.publish(
            ct.ReferentConsultantAssigned(
                dossier_id=dossier,
                consultant_id=referent,
                previous_consultant_id=None,
                reason="initial",
                assigned_at=clock.now() - timedelta(days=9),
            ),
            site,
        )
        await publisher.publish(
            ct.SessionHeld(
                session_id=uuid.uuid4(),
                dossier_id=dossier,
                consultant_id=referent,
                site_id=uuid.UUID(site),
                phase="preliminary",
                modality="in_person",
                started_at=clock.now() - timedelta(hours=2),
                duration_minutes=90,
            ),
            site,
        )
        pool = running.runtime.pool

        async def referent_known() -> bool:
            return bool(
                await pool.fetchval(
                    "SELECT referent_id = $2 FROM survey_dossiers WHERE dossier_id = $1",
                    dossier,
                    referent,
                )
            )

        await eventually(referent_known, what="the referent learnt")
        await eventually(lambda: _has(smtp, 1), what="the feedback invitation")
    return dossier, referent, link_token(smtp.messages[0])


async def _has(smtp: SmtpServer, count: int) -> bool:
    return len(smtp.messages) >= count


ANSWERS = {"overall_satisfaction": 2, "session_usefulness": 3, "comments": SECRET}


async def test_the_referent_is_told_once_of_the_feedback_without_its_content(
    db_dsn: str, smtp: SmtpServer, publisher: Publisher, kafka_bootstrap: str
) -> None:
    harness = Harness(db_dsn, smtp.port, kafka_bootstrap, session_feedback="every_session")
    dossier, _referent, token = await _feedback_asked(harness, publisher, smtp)
    async with harness.running(background=False) as running:
        mail = running.runtime.mail
        assert mail is not None
        answered = await running.client.post(
            f"/public/surveys/{token}/answers", json={"answers": ANSWERS}
        )
        assert answered.status_code == 201, answered.text
        assert await mail.send_due() == 1
        notice = smtp.messages[1]
        assert notice["To"] == "claire@centre.example"
        assert _subject(notice) == f"Avis reçu du bénéficiaire du dossier {str(dossier)[:8]}"
        text = _body(notice)
        assert "Bonjour Claire Dubois," in text
        assert "a répondu au questionnaire sur sa séance le 02/03/2026 à 10:00" in text
        assert f"http://127.0.0.1:8000/equipe/dossiers/{dossier}" in text
        assert "Téléphone : 01 23 45 67 89" in text
        assert "boulangerie" not in text, "never a word of the answer"
        params = await running.runtime.pool.fetchval(
            "SELECT params FROM mail_outbox WHERE template = 'beneficiary_feedback'"
        )
        assert set(params) == {"dossier_id", "campaign", "answered_at"}, "never a score"
        # Answered again (refused), or the sender's next pass: nothing more.
        again = await running.client.post(
            f"/public/surveys/{token}/answers", json={"answers": ANSWERS}
        )
        assert again.status_code == 409
        assert await mail.send_due() == 0
        assert len(smtp.messages) == 2
        stored = str(await running.runtime.pool.fetch("SELECT * FROM mail_outbox"))
        assert "claire@" not in stored, "the address was used, never stored"


class Crash(BaseException):
    """The process dies: nothing after it runs."""


async def test_a_crash_between_sending_and_recording_never_sends_it_again(
    db_dsn: str,
    smtp: SmtpServer,
    publisher: Publisher,
    kafka_bootstrap: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    harness = Harness(db_dsn, smtp.port, kafka_bootstrap, session_feedback="every_session")
    _dossier, _referent, token = await _feedback_asked(harness, publisher, smtp)
    real_send = SmtpTransport.send

    async def send_then_die(self: SmtpTransport, message: EmailMessage) -> None:
        await real_send(self, message)
        raise Crash

    async with harness.running(background=False) as running:
        mail = running.runtime.mail
        assert mail is not None
        answered = await running.client.post(
            f"/public/surveys/{token}/answers", json={"answers": ANSWERS}
        )
        assert answered.status_code == 201, answered.text
        monkeypatch.setattr(SmtpTransport, "send", send_then_die)
        with pytest.raises(Crash):
            await mail.send_due()
        monkeypatch.undo()
        assert len(smtp.messages) == 2

    async with harness.running(background=False) as running:
        mail = running.runtime.mail
        assert mail is not None
        assert await mail.recover() == 1
        assert await mail.send_due() == 0
        assert len(smtp.messages) == 2, "never sent twice"
