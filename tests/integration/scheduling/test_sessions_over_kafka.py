"""Sessions end to end: gated by ConventionSigned arriving over Kafka, no double booking, the
24-hour cap, held and signed, the attendance sheet, and what reaches the topic."""

from __future__ import annotations

import io
import uuid
from datetime import timedelta

import pypdf

from shared.contracts.registry import event_type
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


async def test_a_session_waits_for_the_convention_then_is_held_and_signed(
    db_dsn: str, kafka_bootstrap: str
) -> None:
    harness = Harness(db_dsn, kafka_bootstrap)
    clock = harness.clock
    dossiers = DossierService(kafka_bootstrap)
    async with harness.running() as svc:
        client = svc.client
        site_id, room_id = await setup_site(client)
        consultant = await onboard(client, site_id, name="Claire Dubois")
        dossier_id, beneficiary = uuid.uuid4(), uuid.uuid4()
        me = auth(["consultant"], [site_id], subject=consultant)
        await dossiers.open(dossier_id, beneficiary, site_id, clock.now() - timedelta(days=5))
        await dossiers.assign_referent(dossier_id, consultant, clock.now() - timedelta(days=5))

        async def dossier_known() -> bool:
            r = await client.get(f"/dossiers/{dossier_id}/sessions", headers=me)
            return r.status_code == 200

        await eventually(dossier_known)
        start = clock.now() + timedelta(days=3)
        body = {
            "phase": "preliminary",
            "modality": "in_person",
            "consultant_id": consultant,
            "room_id": room_id,
            "starts_at": start.isoformat(),
            "planned_minutes": 120,
        }
        url = f"/dossiers/{dossier_id}/sessions"
        refused = await client.post(url, json=body, headers=me)
        assert refused.status_code == 409, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["code"] == "convention_not_signed"
        assert await svc.runtime.pool.fetchval("SELECT count(*) FROM sessions") == 0

        offsets = await scheduling_offsets(kafka_bootstrap)
        await dossiers.sign_convention(dossier_id, clock.now() - timedelta(days=1))

        async def accepted() -> object:
            r = await client.post(url, json=body, headers=me)
            assert r.status_code in (201, 409), r.text
            return r if r.status_code == 201 else None

        created = await eventually(accepted)
        session = created.json()
        session_id = session["session_id"]
        assert created.headers["etag"] == '"1"'
        assert (session["status"], session["room_id"], session["site_id"]) == (
            "scheduled",
            room_id,
            site_id,
        )

        # The consultant and the room are taken for those two hours.
        overlapping = {**body, "starts_at": (start + timedelta(minutes=60)).isoformat()}
        clash = await client.post(url, json=overlapping, headers=me)
        assert clash.status_code == 409
        assert clash.json()["code"] == "consultant_double_booked"
        assert clash.json()["conflicting_session_id"] == session_id
        assert session_id in clash.json()["detail"]

        # 24-hour cap: 120 used, 2 x 480 more, then only 360 minutes are left.
        for day in (4, 5):
            more = {
                **body,
                "phase": "investigation",
                "starts_at": (clock.now() + timedelta(days=day)).isoformat(),
                "planned_minutes": 480,
            }
            assert (await client.post(url, json=more, headers=me)).status_code == 201
        too_much = {
            **body,
            "phase": "investigation",
            "starts_at": (clock.now() + timedelta(days=6)).isoformat(),
            "planned_minutes": 400,
        }
        capped = await client.post(url, json=too_much, headers=me)
        assert capped.status_code == 422
        assert (capped.json()["code"], capped.json()["remaining_minutes"]) == (
            "duration_cap_exceeded",
            360,
        )
        assert "360 minutes" in capped.json()["detail"]

        # Held, then signed by the consultant and the beneficiary (not by anyone else).
        clock.set(start + timedelta(hours=2, minutes=10))
        session_url = f"/sessions/{session_id}"
        no_version = await client.post(
            f"{session_url}/held",
            json={
                "started_at": (start + timedelta(minutes=5)).isoformat(),
                "duration_minutes": 110,
            },
            headers=me,
        )
        assert no_version.status_code == 428
        held = await client.post(
            f"{session_url}/held",
            json={
                "started_at": (start + timedelta(minutes=5)).isoformat(),
                "duration_minutes": 110,
            },
            headers={**me, **if_match(1)},
        )
        assert held.status_code == 200, held.text
        assert held.json()["status"] == "held"
        stranger = auth(["beneficiary"], ["*"], subject=str(uuid.uuid4()))
        refused = await client.post(
            f"{session_url}/signatures", json={}, headers={**stranger, **if_match(2)}
        )
        assert refused.status_code == 404
        other_consultant = auth(["consultant"], [site_id], subject=str(uuid.uuid4()))
        refused = await client.post(
            f"{session_url}/signatures", json={}, headers={**other_consultant, **if_match(2)}
        )
        assert (refused.status_code, refused.json()["code"]) == (403, "not_the_signer")
        signed = await client.post(
            f"{session_url}/signatures", json={}, headers={**me, **if_match(2)}
        )
        assert signed.status_code == 200, signed.text
        beneficiary_token = auth(["beneficiary"], ["*"], subject=str(beneficiary))
        stale = await client.post(
            f"{session_url}/signatures", json={}, headers={**beneficiary_token, **if_match(2)}
        )
        assert (stale.status_code, stale.json()["code"]) == (409, "concurrency_conflict")
        signed = await client.post(
            f"{session_url}/signatures", json={}, headers={**beneficiary_token, **if_match(3)}
        )
        assert signed.status_code == 200, signed.text
        assert signed.json()["signatures"]["beneficiary"] is not None
        assert signed.json()["signatures"]["consultant"] is not None
        # The beneficiary sees their own dossier's sessions.
        mine = await client.get(f"/dossiers/{dossier_id}/sessions", headers=beneficiary_token)
        assert mine.status_code == 200
        assert len(mine.json()) == 3
        assert mine.json()[0]["session_id"] == session_id
        # ...and by name whom they meet, and where (the console's schedule page).
        people = await client.get(
            f"/dossiers/{dossier_id}/people-and-places", headers=beneficiary_token
        )
        assert people.status_code == 200, people.text
        assert people.json() == {
            "referent_id": consultant,
            "staff": [{"staff_id": consultant, "name": "Claire Dubois"}],
            "rooms": [{"room_id": room_id, "place": "Lyon Part-Dieu, salle B12"}],
        }
        someone_else = await client.get(
            f"/dossiers/{dossier_id}/people-and-places", headers=stranger
        )
        assert someone_else.status_code == 404

        # Another site's staff learn nothing.
        elsewhere = auth(["site_manager"], [str(uuid.uuid4())])
        assert (await client.get(session_url, headers=elsewhere)).status_code == 404
        assert (
            await client.get(f"/dossiers/{dossier_id}/attendance-sheet.pdf", headers=elsewhere)
        ).status_code == 404

        sheet = await client.get(f"/dossiers/{dossier_id}/attendance-sheet.pdf", headers=me)
        assert sheet.status_code == 200
        assert sheet.headers["content-type"] == "application/pdf"
        text = "".join(
            page.extract_text() for page in pypdf.PdfReader(io.BytesIO(sheet.content)).pages
        )
        assert "Feuille d'émargement" in text
        assert str(dossier_id) in text
        assert session_id[:8] in text
        assert "110 min" in text
        assert "Préliminaire" in text
        assert "non signé" not in text, "both signatures are on the sheet"
        assert "Séances réalisées : 1" in text, "only held sessions are listed"

        events = await published(kafka_bootstrap, offsets, {session_id}, count=4)
        types = [e.type.split(".")[2] for e in events]
        assert types == ["SessionScheduled", "SessionHeld", "AttendanceSigned", "AttendanceSigned"]
        assert [e.sequence for e in events] == [1, 2, 3, 4]
        for envelope in events:
            assert envelope.site_id == site_id
            assert isinstance(envelope.data, event_type(envelope.type))
            assert str(envelope.data.dossier_id) == str(dossier_id)  # type: ignore[attr-defined]
        scheduled, held_event = events[0].data, events[1].data
        assert scheduled.model_dump(mode="json")["room_id"] == room_id
        assert held_event.model_dump(mode="json")["duration_minutes"] == 110
        assert {e.data.signer_role for e in events[2:]} == {  # type: ignore[attr-defined]
            "beneficiary",
            "consultant",
        }


async def test_remote_sessions_get_a_link_that_stays_off_kafka(
    db_dsn: str, kafka_bootstrap: str
) -> None:
    harness = Harness(db_dsn, kafka_bootstrap)
    clock = harness.clock
    dossiers = DossierService(kafka_bootstrap)
    async with harness.running() as svc:
        client = svc.client
        site_id, open_plan = await setup_site(client, confidential=False)
        consultant = await onboard(client, site_id)
        dossier_id = uuid.uuid4()
        await dossiers.open(dossier_id, uuid.uuid4(), site_id, clock.now() - timedelta(days=5))
        await dossiers.assign_referent(dossier_id, consultant, clock.now() - timedelta(days=5))
        await dossiers.sign_convention(dossier_id, clock.now() - timedelta(days=4))
        me = auth(["consultant"], [site_id], subject=consultant)

        async def ready() -> bool:
            row = await svc.runtime.pool.fetchrow(
                "SELECT convention_signed_at FROM dossiers WHERE dossier_id = $1", dossier_id
            )
            return row is not None and row["convention_signed_at"] is not None

        await eventually(ready)
        offsets = await scheduling_offsets(kafka_bootstrap)
        url = f"/dossiers/{dossier_id}/sessions"
        body = {
            "phase": "investigation",
            "modality": "in_person",
            "consultant_id": consultant,
            "room_id": open_plan,
            "starts_at": (clock.now() + timedelta(days=2)).isoformat(),
            "planned_minutes": 90,
        }
        refused = await client.post(url, json=body, headers=me)
        assert (refused.status_code, refused.json()["code"]) == (422, "room_not_confidential")
        remote = await client.post(
            url, json={**body, "modality": "remote", "room_id": None}, headers=me
        )
        assert remote.status_code == 201, remote.text
        link = remote.json()["join_link"]
        assert link.startswith("https://")
        session_id = remote.json()["session_id"]
        (envelope,) = await published(kafka_bootstrap, offsets, {session_id}, count=1)
        raw = envelope.data.model_dump_json()
        assert link not in raw
        assert envelope.data.model_dump(mode="json")["room_id"] is None

        # A psychologist who is not the referent needs a reason and a habilitation.
        psychologist = await onboard(client, site_id, roles=["psychologist"], name="Paul Roy")
        manager = auth(["site_manager"], [site_id])
        assessment = {
            **body,
            "modality": "remote",
            "room_id": None,
            "consultant_id": psychologist,
            "starts_at": (clock.now() + timedelta(days=3)).isoformat(),
        }
        refused = await client.post(url, json=assessment, headers=manager)
        assert refused.json()["code"] == "not_the_referent"
        staff = await client.get(f"/staff/{psychologist}", headers=manager)
        qualified = await client.post(
            f"/staff/{psychologist}/qualifications",
            json={
                "qualification": "master_psychologie",
                "habilitations": ["psychometric_tests"],
                "psychologist_registration": {"registry": "rpps", "number": "10001234567"},
                "recorded_at": clock.now().isoformat(),
            },
            headers={**manager, "If-Match": staff.headers["etag"]},
        )
        assert qualified.status_code == 200, qualified.text
        accepted = await client.post(
            url,
            json={
                **assessment,
                "assessment_reason": "habilitation_required",
                "assessment_habilitation": "psychometric_tests",
            },
            headers=manager,
        )
        assert accepted.status_code == 201, accepted.text
