"""The beneficiary moves their own session to one of the consultant's free slots, or warns of
an absence: the change is recorded as theirs, the consultant is told by mail at the address the
directory holds, with the beneficiary's words, which reach neither Kafka nor the logs."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.header import decode_header, make_header
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from shared.contracts import scheduling as c
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

MOVE_WORDS = "Je serai en déplacement à Nantes ce jour-là, désolée."
ABSENCE_WORDS = "J'ai une grippe, je vous rappelle dès que possible."


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


def _subject(message: Any) -> str:
    return str(make_header(decode_header(message["Subject"])))


def _body(message: Any) -> str:
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode()


async def test_the_beneficiary_moves_or_cancels_their_own_session_and_the_consultant_is_told(
    db_dsn: str, kafka_bootstrap: str, smtp: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    # Monday 5 January 2026, 09:00 UTC (10:00 in Paris).
    harness = Harness(db_dsn, kafka_bootstrap, smtp_port=smtp.port)
    clock = harness.clock
    dossiers = DossierService(kafka_bootstrap)
    dossier_id, beneficiary = uuid.uuid4(), str(uuid.uuid4())
    other_dossier, other = uuid.uuid4(), str(uuid.uuid4())
    address = f"claire.{uuid.uuid4().hex[:8]}@centre-bilan.fr"
    async with harness.running() as svc:
        client = svc.client
        site_id, room_id = await setup_site(client)
        consultant = await onboard(client, site_id, email=address)
        at = clock.now() - timedelta(days=5)
        for dossier, person in ((dossier_id, beneficiary), (other_dossier, other)):
            await dossiers.open(dossier, uuid.UUID(person), site_id, at)
            await dossiers.assign_referent(dossier, consultant, at)
            await dossiers.sign_convention(dossier, at + timedelta(days=1))

        async def known() -> bool:
            return bool(
                await svc.runtime.pool.fetchval(
                    """SELECT count(*) = 2 FROM dossiers
                       WHERE dossier_id = ANY($1) AND convention_signed_at IS NOT NULL""",
                    [dossier_id, other_dossier],
                )
            )

        await eventually(known)
        me = auth(["consultant"], [site_id], subject=consultant)

        async def book(dossier: uuid.UUID, starts: datetime) -> dict[str, Any]:
            made = await client.post(
                f"/dossiers/{dossier}/sessions",
                json={
                    "phase": "investigation",
                    "modality": "in_person",
                    "consultant_id": consultant,
                    "room_id": room_id,
                    "starts_at": starts.isoformat(),
                    "planned_minutes": 90,
                },
                headers=me,
            )
            assert made.status_code == 201, made.text
            return dict(made.json())

        thursday = datetime(2026, 1, 8, 9, 0, tzinfo=UTC)
        mine = await book(dossier_id, thursday)
        second = await book(dossier_id, thursday + timedelta(days=1))
        theirs = await book(other_dossier, thursday + timedelta(hours=3))
        offsets = await scheduling_offsets(kafka_bootstrap)
        beneficiary_auth = auth(["beneficiary"], [], subject=beneficiary)
        other_auth = auth(["beneficiary"], [], subject=other)
        url = f"/sessions/{mine['session_id']}"

        # The consultant's free slots, long enough for this session, on the next week.
        slots = await client.get(
            f"{url}/free-slots",
            params={"from": "2026-01-12", "to": "2026-01-16"},
            headers=beneficiary_auth,
        )
        assert slots.status_code == 200, slots.text
        assert slots.json()
        assert all(x["minutes"] >= 90 for x in slots.json())
        target = slots.json()[0]["starts_at"]

        # Refusals: someone else's session, staff on the beneficiary's route, bad input.
        for path, body in (
            ("move-request", {"starts_at": target, "message": MOVE_WORDS}),
            ("absence-notice", {"reason": "illness", "message": ABSENCE_WORDS}),
        ):
            stranger = await client.post(
                f"/sessions/{theirs['session_id']}/{path}",
                json=body,
                headers={**beneficiary_auth, **if_match(theirs["version"])},
            )
            assert (stranger.status_code, stranger.json()["code"]) == (404, "session_not_found")
            foreign = await client.post(
                f"{url}/{path}", json=body, headers={**other_auth, **if_match(mine["version"])}
            )
            assert (foreign.status_code, foreign.json()["code"]) == (404, "session_not_found")
            staff = await client.post(
                f"{url}/{path}", json=body, headers={**me, **if_match(mine["version"])}
            )
            assert staff.status_code == 403
        hidden = await client.get(
            f"/sessions/{theirs['session_id']}/free-slots",
            params={"from": "2026-01-12", "to": "2026-01-16"},
            headers=beneficiary_auth,
        )
        assert hidden.status_code == 404
        empty = await client.post(
            f"{url}/move-request",
            json={"starts_at": target, "message": "   "},
            headers={**beneficiary_auth, **if_match(mine["version"])},
        )
        assert empty.status_code == 422
        at_night = await client.post(
            f"{url}/move-request",
            json={"starts_at": "2026-01-13T02:00:00Z", "message": MOVE_WORDS},
            headers={**beneficiary_auth, **if_match(mine["version"])},
        )
        assert (at_night.status_code, at_night.json()["code"]) == (422, "outside_working_hours")
        busy = await client.post(
            f"{url}/move-request",
            json={"starts_at": theirs["starts_at"], "message": MOVE_WORDS},
            headers={**beneficiary_auth, **if_match(mine["version"])},
        )
        assert (busy.status_code, busy.json()["code"]) == (409, "consultant_double_booked")
        assert [m for m in smtp.messages if m["To"] == address] == []

        # The beneficiary moves their session.
        moved = await client.post(
            f"{url}/move-request",
            json={"starts_at": target, "message": MOVE_WORDS},
            headers={**beneficiary_auth, **if_match(mine["version"])},
        )
        assert moved.status_code == 200, moved.text
        assert moved.json()["starts_at"].replace("+00:00", "Z") == target.replace("+00:00", "Z")

        # And warns of an absence at the other one.
        absent = await client.post(
            f"/sessions/{second['session_id']}/absence-notice",
            json={"reason": "illness", "message": ABSENCE_WORDS},
            headers={**beneficiary_auth, **if_match(second["version"])},
        )
        assert absent.status_code == 200, absent.text
        assert absent.json()["status"] == "cancelled"
        again = await client.post(
            f"/sessions/{second['session_id']}/absence-notice",
            json={"reason": "illness", "message": ABSENCE_WORDS},
            headers={**beneficiary_auth, **if_match(absent.json()["version"])},
        )
        assert (again.status_code, again.json()["code"]) == (409, "session_not_scheduled")

        async def both_arrived() -> bool:
            return len([m for m in smtp.messages if m["To"] == address]) == 2

        await eventually(both_arrived)
        move_mail, absence_mail = sorted(
            (m for m in smtp.messages if m["To"] == address), key=lambda m: "Absence" in _subject(m)
        )
        assert _subject(move_mail) == (
            "Séance déplacée par le bénéficiaire : 08/01/2026 à 10:00 → "
            + datetime.fromisoformat(target).astimezone(_paris()).strftime("%d/%m/%Y à %H:%M")
        )
        assert "Bonjour Claire Dubois," in _body(move_mail)
        assert MOVE_WORDS in _body(move_mail)
        assert _subject(absence_mail) == "Absence signalée par le bénéficiaire : 09/01/2026 à 10:00"
        assert "motif : maladie" in _body(absence_mail)
        assert ABSENCE_WORDS in _body(absence_mail)

        events = await published(
            kafka_bootstrap,
            offsets,
            {mine["session_id"], second["session_id"]},
            count=2,
        )
        by_type = {e.type.split(".")[2]: e.data for e in events}
        rescheduled = by_type["SessionRescheduled"]
        cancelled = by_type["SessionCancelled"]
        assert isinstance(rescheduled, c.SessionRescheduled)
        assert isinstance(cancelled, c.SessionCancelled)
        assert rescheduled.requested_by == "beneficiary"
        assert (cancelled.cancelled_by, cancelled.reason) == ("beneficiary", "illness")
        for envelope in events:
            raw = envelope.data.model_dump_json()
            assert "Nantes" not in raw
            assert "grippe" not in raw
            assert address not in raw

        # Once sent, the words are gone from the queue too (their key shredded).
        async def settled() -> bool:
            return bool(
                await svc.runtime.pool.fetchval(
                    """SELECT count(*) = 2 FROM mail_outbox
                       WHERE template = 'beneficiary_session_notice' AND state = 'sent'"""
                )
            )

        await eventually(settled)
        queued = await svc.runtime.pool.fetch(
            "SELECT params FROM mail_outbox WHERE template = 'beneficiary_session_notice'"
        )
        for row in queued:
            params = row["params"]
            assert "Nantes" not in str(params)
            assert "grippe" not in str(params)
            gone = await svc.runtime.keys.decrypt(
                params["message_key"],
                params["message_sealed"],
                purpose="session.beneficiary_message",
            )
            assert not gone, "the beneficiary's words are erased once the mail went"
        stored = await svc.runtime.pool.fetch("SELECT data FROM events")
        assert "Nantes" not in str(stored)

        # Staff moves are what they were: no mail to the consultant about their own move.
        staff_move = await client.post(
            f"/sessions/{theirs['session_id']}/reschedule",
            json={
                "starts_at": (thursday + timedelta(days=14)).isoformat(),
                "requested_by": "provider",
            },
            headers={**me, **if_match(theirs["version"])},
        )
        assert staff_move.status_code == 200, staff_move.text
        notices = await svc.runtime.pool.fetchval(
            "SELECT count(*) FROM mail_outbox WHERE template = 'beneficiary_session_notice'"
        )
        assert notices == 2

        # Once the session started, it is too late to move it here.
        clock.advance(datetime.fromisoformat(target) - clock.now() + timedelta(minutes=5))
        late = await client.post(
            f"{url}/move-request",
            json={"starts_at": (thursday + timedelta(days=21)).isoformat(), "message": "x"},
            headers={**beneficiary_auth, **if_match(moved.json()["version"])},
        )
        assert (late.status_code, late.json()["code"]) == (409, "session_started")

    logged = capsys.readouterr().out
    assert "Nantes" not in logged
    assert "grippe" not in logged
    assert address not in logged


def _paris() -> ZoneInfo:
    return ZoneInfo("Europe/Paris")
