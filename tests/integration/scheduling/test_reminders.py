"""Reminders reach a real SMTP server once each, across restarts; moved sessions get new
ones, cancelled sessions none, and every sent reminder is published without personal data."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from email.header import decode_header, make_header
from email.message import Message
from typing import Any

import pytest

from shared.mail import Contact
from shared.relay import kafka_producer_factory
from tests.integration.scheduling.harness import (
    DossierService,
    Harness,
    auth,
    eventually,
    if_match,
    onboard,
    published,
    scheduling_offsets,
    setup_site,
)
from tests.integration.smtp_server import SmtpServer


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


async def test_reminders_arrive_once_each_across_restarts(
    db_dsn: str, kafka_bootstrap: str, smtp: SmtpServer
) -> None:
    harness = Harness(db_dsn, kafka_bootstrap, smtp_port=smtp.port)
    clock = harness.clock
    dossiers = DossierService(kafka_bootstrap)
    dossier_id = uuid.uuid4()
    harness.contacts.known[str(dossier_id)] = Contact(
        name="Jeanne Martin", email="jeanne@example.fr"
    )
    start = clock.now() + timedelta(days=4)

    async with harness.running() as svc:
        client = svc.client
        me, body = await _ready_to_schedule(svc, dossiers, harness, dossier_id, start)
        offsets = await scheduling_offsets(kafka_bootstrap)
        url = f"/dossiers/{dossier_id}/sessions"
        kept = await client.post(url, json=body, headers=me)
        assert kept.status_code == 201, kept.text
        session_id = kept.json()["session_id"]
        # A second session is moved a day later: its first reminders are replaced.
        moved = await client.post(
            url, json={**body, "starts_at": (start + timedelta(days=1)).isoformat()}, headers=me
        )
        moved_id = moved.json()["session_id"]
        new_start = start + timedelta(days=2)
        response = await client.post(
            f"/sessions/{moved_id}/reschedule",
            json={"starts_at": new_start.isoformat(), "requested_by": "beneficiary"},
            headers={**me, **if_match(1)},
        )
        assert response.status_code == 200, response.text
        # A third one is cancelled: its reminders never go.
        cancelled = await client.post(
            url, json={**body, "starts_at": (start + timedelta(hours=3)).isoformat()}, headers=me
        )
        cancelled_id = cancelled.json()["session_id"]
        response = await client.post(
            f"/sessions/{cancelled_id}/cancellation",
            json={"cancelled_by": "beneficiary", "reason": "illness"},
            headers={**me, **if_match(1)},
        )
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "cancelled"
        assert _reminders(smtp) == []

    # Restarted between scheduling and sending: the queue is in PostgreSQL.
    async with harness.running():
        clock.set(start - timedelta(hours=48) + timedelta(minutes=1))
        await eventually(lambda: _count(smtp, 1))
        first = _reminders(smtp)[0]
        assert first["To"] == "jeanne@example.fr"
        content = first.get_payload(decode=True).decode()  # type: ignore[union-attr]
        assert "Jeanne Martin" in content
        assert "Lyon Part-Dieu, salle B12" in content
        assert "prévenir" in content
        # Paris is UTC+1 in January: 09:00 UTC is 10:00 there.
        assert start.strftime("%d/%m/%Y") in first["Subject"]
        assert "10:00" in first["Subject"]

    async with harness.running():
        clock.set(start - timedelta(hours=2) + timedelta(minutes=1))
        await eventually(lambda: _count(smtp, 2))
        # The moved session's reminder for its new start (48 h before) is due too by now.
        clock.set(new_start - timedelta(hours=48) + timedelta(minutes=1))
        await eventually(lambda: _count(smtp, 3))

    # Restarted once more with its loops stopped: the test takes the mail loop's steps itself
    # (recovery at start, then one pass over what is due), so nothing can be sent behind its
    # back and each step is seen to send what it should and nothing else.
    async with harness.running(background=False) as svc:
        mail = svc.runtime.mail
        assert mail is not None
        assert await mail.recover() == 0, "every mail's outcome was recorded before the stop"
        assert await mail.send_due() == 0, "a pass over the due mails finds none to send again"
        assert len(_reminders(smtp)) == 3, "nothing is sent twice after a restart"
        rows = {
            r["mail_key"]: r["state"]
            for r in await svc.runtime.pool.fetch("SELECT mail_key, state FROM mail_outbox")
        }
        sent_reminders = [k for k, st in rows.items() if st == "sent" and k.startswith("reminder:")]
        assert sorted(sent_reminders) == sorted(
            [
                f"reminder:{session_id}:0:2880",
                f"reminder:{session_id}:0:120",
                f"reminder:{moved_id}:1:2880",
            ]
        )
        assert rows[f"reminder:{moved_id}:0:2880"] == "cancelled"
        assert rows[f"reminder:{cancelled_id}:0:120"] == "cancelled"
        assert rows[f"reminder:{moved_id}:1:120"] == "pending"
        stored = str(await svc.runtime.pool.fetch("SELECT * FROM mail_outbox"))
        assert "jeanne" not in stored.lower(), "the address was used, never stored"
        # What the last start may have left in the outbox (the last reminder's
        # SessionReminderSent, written as it stopped) goes out by the relay's step, taken
        # until it finds nothing more.
        producer = await kafka_producer_factory(kafka_bootstrap, "test-scheduling-relay")()
        try:
            while await svc.runtime.relay.publish_batch(producer):
                pass
        finally:
            await producer.stop()
        # The mail step sends the one reminder left once it is due, and only it (its
        # SessionReminderSent stays in the outbox: what is read back from Kafka below is what
        # was published before).
        clock.set(new_start - timedelta(hours=2) + timedelta(minutes=1))
        assert await mail.send_due() == 1
        assert len(_reminders(smtp)) == 4
        assert new_start.strftime("%d/%m/%Y") in _reminders(smtp)[3]["Subject"]
        state = await svc.runtime.pool.fetchval(
            "SELECT state FROM mail_outbox WHERE mail_key = $1", f"reminder:{moved_id}:1:120"
        )
        assert state == "sent"

    reminders = await published(
        kafka_bootstrap, offsets, {session_id, moved_id, cancelled_id}, count=8
    )
    sent = [e for e in reminders if e.type.endswith("SessionReminderSent.v1")]
    (rescheduled,) = [e for e in reminders if e.type.endswith("SessionRescheduled.v1")]
    assert rescheduled.subject == moved_id
    assert rescheduled.data.model_dump(mode="json") == {
        "session_id": moved_id,
        "dossier_id": str(dossier_id),
        "starts_at": new_start.isoformat().replace("+00:00", "Z"),
        "previous_starts_at": (start + timedelta(days=1)).isoformat().replace("+00:00", "Z"),
        "requested_by": "beneficiary",
        "rescheduled_at": "2026-01-05T09:00:00Z",
    }
    (cancellation,) = [e for e in reminders if e.type.endswith("SessionCancelled.v1")]
    data = cancellation.data.model_dump(mode="json")
    assert (data["cancelled_by"], data["reason"]) == ("beneficiary", "illness")
    assert data["notice_hours"] == 4 * 24 + 3, "notice counted from now to the start"
    assert sorted(e.subject for e in sent) == sorted([session_id, session_id, moved_id])
    for envelope in sent:
        data = envelope.data.model_dump(mode="json")
        assert set(data) == {"session_id", "dossier_id", "channel", "sent_at"}
        assert data["channel"] == "email"
        assert "jeanne" not in str(data).lower()


async def test_a_reminder_not_sent_before_its_session_started_is_never_sent(
    db_dsn: str, kafka_bootstrap: str, smtp: SmtpServer
) -> None:
    harness = Harness(db_dsn, kafka_bootstrap, smtp_port=smtp.port)
    dossiers = DossierService(kafka_bootstrap)
    dossier_id = uuid.uuid4()
    harness.contacts.known[str(dossier_id)] = Contact(
        name="Jeanne Martin", email="jeanne@example.fr"
    )
    start = harness.clock.now() + timedelta(days=4)
    async with harness.running() as svc:
        me, body = await _ready_to_schedule(svc, dossiers, harness, dossier_id, start)
        response = await svc.client.post(f"/dossiers/{dossier_id}/sessions", json=body, headers=me)
        assert response.status_code == 201, response.text
        session_id = response.json()["session_id"]

    # The service was down from before the first reminder's time until after the start.
    harness.clock.set(start + timedelta(hours=1))
    async with harness.running() as svc:

        async def both_expired() -> bool:
            states = await svc.runtime.pool.fetch(
                "SELECT state FROM mail_outbox WHERE mail_key LIKE $1", f"reminder:{session_id}:%"
            )
            return [r["state"] for r in states] == ["expired", "expired"]

        await eventually(both_expired)
    assert _reminders(smtp) == [], "a reminder of a session already started helps nobody"


async def _ready_to_schedule(
    svc: Any, dossiers: DossierService, harness: Harness, dossier_id: uuid.UUID, start: datetime
) -> tuple[dict[str, str], dict[str, Any]]:
    """A site, a room, a consultant and a dossier with a signed convention: the consultant's
    headers and the body of an in-person session at `start`."""
    clock = harness.clock
    site_id, room_id = await setup_site(svc.client)
    consultant = await onboard(svc.client, site_id)
    await dossiers.open(dossier_id, uuid.uuid4(), site_id, clock.now() - timedelta(days=5))
    await dossiers.assign_referent(dossier_id, consultant, clock.now() - timedelta(days=5))
    await dossiers.sign_convention(dossier_id, clock.now() - timedelta(days=2))

    async def convention_known() -> bool:
        return bool(
            await svc.runtime.pool.fetchval(
                "SELECT convention_signed_at IS NOT NULL FROM dossiers WHERE dossier_id = $1",
                dossier_id,
            )
        )

    await eventually(convention_known)
    body = {
        "phase": "investigation",
        "modality": "in_person",
        "consultant_id": consultant,
        "room_id": room_id,
        "starts_at": start.isoformat(),
        "planned_minutes": 120,
    }
    return auth(["consultant"], [site_id], subject=consultant), body


def _reminders(smtp: SmtpServer) -> list[Message]:
    """The reminders among the mails (a booking or a move is also mailed, by its own
    template: tests/integration/scheduling/test_session_mails.py)."""
    return [
        m
        for m in smtp.messages
        if str(make_header(decode_header(m["Subject"]))).startswith("Rappel")
    ]


async def _count(smtp: SmtpServer, expected: int) -> bool:
    assert len(_reminders(smtp)) <= expected, "a reminder went out more than once"
    return len(_reminders(smtp)) == expected
