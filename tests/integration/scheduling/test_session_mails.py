"""The beneficiary is mailed, once each, when the centre books, moves or cancels a session:
in French, signed by the site with the centre's contact, linking to their bilan's page; never
for an erased beneficiary, never again after a crash between the SMTP step and its record."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from typing import Any

import pytest

from shared.mail import Contact, SmtpTransport
from tests.integration.scheduling.harness import (
    DossierService,
    Harness,
    auth,
    eventually,
    if_match,
    onboard,
)
from tests.integration.smtp_server import SmtpServer

ADDRESS = "20 rue de la Villette, 69003 Lyon"


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


def _body(message: Message) -> str:
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode().replace("\r\n", "\n")


def _subject(message: Message) -> str:
    return str(make_header(decode_header(message["Subject"])))


def _notices(smtp: SmtpServer) -> list[Message]:
    return [m for m in smtp.messages if not _subject(m).startswith("Rappel")]


async def _prepare(
    harness: Harness, dossier_id: uuid.UUID
) -> tuple[dict[str, str], dict[str, Any]]:
    """A site with an address and a room, a consultant, a dossier whose convention is signed
    (learnt from Kafka, by the service running with its loops): the consultant's headers and
    an in-person session's body four days ahead."""
    async with harness.running() as svc:
        client = svc.client
        site = await client.post(
            "/sites",
            json={"name": "Lyon Part-Dieu", "region": "ara", "address": ADDRESS},
            headers=auth(["admin"], ["*"]),
        )
        assert site.status_code == 201, site.text
        site_id = site.json()["site_id"]
        room = await client.post(
            f"/sites/{site_id}/rooms",
            json={"name": "B12", "confidential": True},
            headers=auth(["site_manager"], [site_id]),
        )
        assert room.status_code == 201, room.text
        consultant = await onboard(client, site_id)
        dossiers = DossierService(harness.kafka_bootstrap)
        now = harness.clock.now()
        await dossiers.open(dossier_id, uuid.uuid4(), site_id, now - timedelta(days=5))
        await dossiers.assign_referent(dossier_id, consultant, now - timedelta(days=5))
        await dossiers.sign_convention(dossier_id, now - timedelta(days=2))
        pool = svc.runtime.pool

        async def convention_known() -> bool:
            return bool(
                await pool.fetchval(
                    "SELECT convention_signed_at IS NOT NULL FROM dossiers WHERE dossier_id = $1",
                    dossier_id,
                )
            )

        await eventually(convention_known)
    body = {
        "phase": "investigation",
        "modality": "in_person",
        "consultant_id": consultant,
        "room_id": room.json()["room_id"],
        "starts_at": (now + timedelta(days=4)).isoformat(),
        "planned_minutes": 120,
    }
    return auth(["consultant"], [site_id], subject=consultant), body


async def test_booked_moved_and_cancelled_are_mailed_once_each_in_french(
    db_dsn: str, kafka_bootstrap: str, smtp: SmtpServer
) -> None:
    harness = Harness(db_dsn, kafka_bootstrap, smtp_port=smtp.port)
    dossier_id = uuid.uuid4()
    harness.contacts.known[str(dossier_id)] = Contact(
        name="Jeanne Martin", email="jeanne@example.fr"
    )
    me, body = await _prepare(harness, dossier_id)
    async with harness.running(background=False) as svc:
        mail = svc.runtime.mail
        assert mail is not None
        booked = await svc.client.post(f"/dossiers/{dossier_id}/sessions", json=body, headers=me)
        assert booked.status_code == 201, booked.text
        session_id = booked.json()["session_id"]
        assert await mail.send_due() == 1
        (first,) = _notices(smtp)
        assert first["To"] == "jeanne@example.fr"
        # Paris is UTC+1 in January: 09:00 UTC is 10:00 there.
        assert _subject(first) == "Séance de bilan prévue le 09/01/2026 à 10:00"
        text = _body(first)
        assert "Bonjour Jeanne Martin," in text
        assert "Lieu : Lyon Part-Dieu, salle B12" in text
        assert f"http://127.0.0.1:8000/mon-bilan/{dossier_id}" in text
        assert f"/mon-bilan/{dossier_id}/seances/{session_id}.ics" in text
        # Signed by the site, with the centre's phone and address to write to.
        assert f"Lyon Part-Dieu\n{ADDRESS}" in text
        assert "Téléphone : 01 23 45 67 89" in text
        assert "contact@bilan.localhost" in first["Reply-To"]
        assert "investigation" not in text, "nothing of the bilan's content"

        moved = await svc.client.post(
            f"/sessions/{session_id}/reschedule",
            json={
                "starts_at": (harness.clock.now() + timedelta(days=5)).isoformat(),
                "requested_by": "provider",
            },
            headers={**me, **if_match(1)},
        )
        assert moved.status_code == 200, moved.text
        assert await mail.send_due() == 1
        second = _notices(smtp)[1]
        assert _subject(second) == "Séance de bilan déplacée au 10/01/2026 à 10:00"
        assert "du 09/01/2026 à 10:00 est déplacée au 10/01/2026 à 10:00" in _body(second)

        cancelled = await svc.client.post(
            f"/sessions/{session_id}/cancellation",
            json={"cancelled_by": "provider", "reason": "scheduling_conflict"},
            headers={**me, **if_match(2)},
        )
        assert cancelled.status_code == 200, cancelled.text
        assert await mail.send_due() == 1
        third = _notices(smtp)[2]
        assert _subject(third) == "Séance de bilan annulée : 10/01/2026 à 10:00"
        assert "est annulée" in _body(third)

        # Each went once: another pass, or the same request again, sends nothing more.
        again = await svc.client.post(
            f"/sessions/{session_id}/cancellation",
            json={"cancelled_by": "provider", "reason": "scheduling_conflict"},
            headers={**me, **if_match(3)},
        )
        assert again.status_code == 409
        assert await mail.send_due() == 0
        assert len(_notices(smtp)) == 3
        stored = str(await svc.runtime.pool.fetch("SELECT * FROM mail_outbox"))
        assert "jeanne" not in stored.lower(), "the address was used, never stored"


async def test_a_booking_changed_before_it_was_told_is_told_as_it_is_now(
    db_dsn: str, kafka_bootstrap: str, smtp: SmtpServer
) -> None:
    harness = Harness(db_dsn, kafka_bootstrap, smtp_port=smtp.port)
    dossier_id = uuid.uuid4()
    harness.contacts.known[str(dossier_id)] = Contact(name="Jeanne Martin", email="j@example.fr")
    me, body = await _prepare(harness, dossier_id)
    async with harness.running(background=False) as svc:
        mail = svc.runtime.mail
        assert mail is not None
        url = f"/dossiers/{dossier_id}/sessions"
        moved_id = (await svc.client.post(url, json=body, headers=me)).json()["session_id"]
        later = {**body, "starts_at": (harness.clock.now() + timedelta(days=6)).isoformat()}
        gone_id = (await svc.client.post(url, json=later, headers=me)).json()["session_id"]
        response = await svc.client.post(
            f"/sessions/{moved_id}/reschedule",
            json={
                "starts_at": (harness.clock.now() + timedelta(days=5)).isoformat(),
                "requested_by": "provider",
            },
            headers={**me, **if_match(1)},
        )
        assert response.status_code == 200, response.text
        response = await svc.client.post(
            f"/sessions/{gone_id}/cancellation",
            json={"cancelled_by": "provider", "reason": "other"},
            headers={**me, **if_match(1)},
        )
        assert response.status_code == 200, response.text
        # Nothing was sent yet: one booking at its new time, nothing of the cancelled one.
        assert await mail.send_due() == 1
        (only,) = _notices(smtp)
        assert _subject(only) == "Séance de bilan prévue le 10/01/2026 à 10:00"


async def test_an_erased_beneficiary_gets_no_mail(
    db_dsn: str, kafka_bootstrap: str, smtp: SmtpServer
) -> None:
    harness = Harness(db_dsn, kafka_bootstrap, smtp_port=smtp.port)
    dossier_id = uuid.uuid4()  # no contact: the dossier service answers 410 (erased)
    me, body = await _prepare(harness, dossier_id)
    async with harness.running(background=False) as svc:
        mail = svc.runtime.mail
        assert mail is not None
        response = await svc.client.post(f"/dossiers/{dossier_id}/sessions", json=body, headers=me)
        assert response.status_code == 201, response.text
        assert await mail.send_due() == 1
        assert smtp.messages == []
        state = await svc.runtime.pool.fetchval(
            "SELECT state FROM mail_outbox WHERE template = 'session_booked'"
        )
        assert state == "failed"


class Crash(BaseException):
    """The process dies: nothing after it runs (not an Exception the sender would handle)."""


async def test_a_crash_between_sending_and_recording_never_sends_it_again(
    db_dsn: str, kafka_bootstrap: str, smtp: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    harness = Harness(db_dsn, kafka_bootstrap, smtp_port=smtp.port)
    dossier_id = uuid.uuid4()
    harness.contacts.known[str(dossier_id)] = Contact(name="Jeanne Martin", email="j@example.fr")
    real_send = SmtpTransport.send

    async def send_then_die(self: SmtpTransport, message: EmailMessage) -> None:
        await real_send(self, message)
        raise Crash

    me, body = await _prepare(harness, dossier_id)
    async with harness.running(background=False) as svc:
        mail = svc.runtime.mail
        assert mail is not None
        response = await svc.client.post(f"/dossiers/{dossier_id}/sessions", json=body, headers=me)
        assert response.status_code == 201, response.text
        monkeypatch.setattr(SmtpTransport, "send", send_then_die)
        with pytest.raises(Crash):
            await mail.send_due()
        monkeypatch.undo()
        assert len(_notices(smtp)) == 1, "the server accepted it before the crash"

    async with harness.running(background=False) as svc:
        mail = svc.runtime.mail
        assert mail is not None
        assert await mail.recover() == 1, "left `sending` by the crash: its outcome is unknown"
        assert await mail.send_due() == 0
        assert len(_notices(smtp)) == 1, "never sent twice"
        state = await svc.runtime.pool.fetchval(
            "SELECT state FROM mail_outbox WHERE template = 'session_booked'"
        )
        assert state == "uncertain"
