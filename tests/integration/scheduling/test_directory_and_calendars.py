"""Sites, rooms and staff over HTTP with their events on Kafka (no names), access rules,
the consultant's iCalendar feed read with its secret, and free slots."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import icalendar

from shared.contracts.registry import event_type
from tests.integration.scheduling.harness import (
    DossierService,
    Harness,
    auth,
    eventually,
    onboard,
    published,
    scheduling_offsets,
    setup_site,
)


async def test_staff_records_are_published_without_names_and_scoped_to_sites(
    db_dsn: str, kafka_bootstrap: str
) -> None:
    harness = Harness(db_dsn, kafka_bootstrap)
    clock = harness.clock
    async with harness.running() as svc:
        client = svc.client
        offsets = await scheduling_offsets(kafka_bootstrap)
        site_id, room_id = await setup_site(client)
        manager = auth(["site_manager"], [site_id])
        not_admin = await client.post("/sites", json={"name": "X", "region": "y"}, headers=manager)
        assert (not_admin.status_code, not_admin.json()["code"]) == (403, "forbidden")

        staff_id = await onboard(client, site_id, roles=["psychologist"], name="Zoé Lambert")
        detail = await client.get(f"/staff/{staff_id}", headers=manager)
        assert detail.json()["name"] == "Zoé Lambert"
        etag = detail.headers["etag"]
        assert etag == '"1"'
        url = f"/staff/{staff_id}"
        when = (clock.now() - timedelta(days=1)).isoformat()
        missing = await client.post(
            f"{url}/trainings",
            json={"title_code": "ethique", "hours": 7, "completed_at": when},
            headers=manager,
        )
        assert missing.status_code == 428
        bad = await client.post(
            f"{url}/trainings",
            json={"title_code": "Éthique !", "hours": 7, "completed_at": when},
            headers={**manager, "If-Match": etag},
        )
        assert bad.status_code == 422
        assert "Éthique" not in bad.text, "submitted values are not echoed"
        steps = [
            (
                "qualifications",
                {
                    "qualification": "master_psychologie",
                    "habilitations": ["psychometric_tests"],
                    "psychologist_registration": {"registry": "rpps", "number": "10001234567"},
                    "recorded_at": when,
                },
            ),
            ("trainings", {"title_code": "ethique", "hours": 7, "completed_at": when}),
            ("evaluations", {"outcome": "meets", "evaluated_at": when}),
            ("leaving", {"left_at": clock.now().isoformat()}),
        ]
        for version, (path, body) in enumerate(steps, start=1):
            done = await client.post(
                f"{url}/{path}", json=body, headers={**manager, "If-Match": f'"{version}"'}
            )
            assert done.status_code == 200, done.text
        after = await client.post(
            f"{url}/trainings",
            json={"title_code": "ethique", "hours": 7, "completed_at": when},
            headers={**manager, "If-Match": '"5"'},
        )
        assert (after.status_code, after.json()["code"]) == (409, "staff_left")

        quality = auth(["quality_lead"], [site_id])
        record = await client.get(url, headers=quality)
        assert record.status_code == 200
        assert [r["kind"] for r in record.json()["records"]] == [
            "qualification",
            "training",
            "evaluation",
        ]
        assert record.json()["habilitations"] == ["psychometric_tests"]
        assert record.json()["left_at"] is not None
        listed = await client.get(f"/sites/{site_id}/staff", headers=quality)
        assert [s["staff_id"] for s in listed.json()] == [staff_id]
        assert "Zoé" not in listed.text, "lists carry no names"
        beneficiary = auth(["beneficiary"], [site_id])
        assert (await client.get(url, headers=beneficiary)).status_code == 403
        elsewhere = auth(["site_manager"], [str(uuid.uuid4())])
        assert (await client.get(url, headers=elsewhere)).status_code == 404
        assert (await client.get(f"/sites/{site_id}/rooms", headers=elsewhere)).status_code == 404
        rooms = await client.get(f"/sites/{site_id}/rooms", headers=manager)
        assert [(r["room_id"], r["confidential"]) for r in rooms.json()] == [(room_id, True)]

        # The name is sealed at rest, too.
        stored = await svc.runtime.pool.fetchval(
            "SELECT name_sealed FROM staff WHERE staff_id = $1", uuid.UUID(staff_id)
        )
        assert stored.startswith("enc:v1:")
        assert "Lambert" not in str(await svc.runtime.pool.fetch("SELECT data FROM events"))

        events = await published(kafka_bootstrap, offsets, {site_id, room_id, staff_id}, count=7)
        assert [e.type.split(".")[2] for e in events if e.subject == staff_id] == [
            "StaffMemberOnboarded",
            "QualificationRecorded",
            "ContinuousTrainingCompleted",
            "CompetenceEvaluated",
            "StaffMemberLeft",
        ]
        for envelope in events:
            assert isinstance(envelope.data, event_type(envelope.type))
            assert envelope.site_id == site_id
            raw = envelope.data.model_dump_json()
            assert "Lambert" not in raw
            assert "Zoé" not in raw


async def test_calendar_feed_lists_sessions_without_names_and_free_slots_skip_them(
    db_dsn: str, kafka_bootstrap: str
) -> None:
    harness = Harness(db_dsn, kafka_bootstrap)
    clock = harness.clock  # Monday 5 January 2026, 09:00 UTC
    dossiers = DossierService(kafka_bootstrap)
    async with harness.running() as svc:
        client = svc.client
        site_id, room_id = await setup_site(client)
        consultant = await onboard(client, site_id)
        me = auth(["consultant"], [site_id], subject=consultant)
        dossier_id = uuid.uuid4()
        await dossiers.open(dossier_id, uuid.uuid4(), site_id, clock.now() - timedelta(days=5))
        await dossiers.assign_referent(dossier_id, consultant, clock.now() - timedelta(days=5))
        await dossiers.sign_convention(dossier_id, clock.now() - timedelta(days=2))

        async def ready() -> bool:
            return bool(
                await svc.runtime.pool.fetchval(
                    "SELECT convention_signed_at IS NOT NULL FROM dossiers WHERE dossier_id = $1",
                    dossier_id,
                )
            )

        await eventually(ready)
        # Tuesday 6 January, 10:00 to 12:00 Paris time (09:00 to 11:00 UTC).
        starts = clock.now() + timedelta(days=1)
        created = await client.post(
            f"/dossiers/{dossier_id}/sessions",
            json={
                "phase": "preliminary",
                "modality": "in_person",
                "consultant_id": consultant,
                "room_id": room_id,
                "starts_at": starts.isoformat(),
                "planned_minutes": 120,
            },
            headers=me,
        )
        assert created.status_code == 201, created.text
        session_id = created.json()["session_id"]

        other = auth(["consultant"], [site_id], subject=str(uuid.uuid4()))
        assert (
            await client.post(f"/staff/{consultant}/calendar-feed", headers=other)
        ).status_code == 403
        feed = await client.post(f"/staff/{consultant}/calendar-feed", headers=me)
        assert feed.status_code == 200
        url = feed.json()["url"]
        calendar = await client.get(url)  # calendar apps send no token: the secret is the key
        assert calendar.status_code == 200
        assert calendar.headers["content-type"].startswith("text/calendar")
        parsed = icalendar.Calendar.from_ical(calendar.content)
        (event,) = parsed.walk("VEVENT")
        assert str(event["uid"]) == f"{session_id}@bilan"
        assert event.decoded("dtstart") == starts
        assert event.decoded("dtend") == starts + timedelta(minutes=120)
        assert str(dossier_id) in str(event["description"])
        assert "Bilan session" in str(event["summary"])
        assert "B12" in str(event["location"])

        rotated = await client.post(f"/staff/{consultant}/calendar-feed", headers=me)
        assert (await client.get(url)).status_code == 404, "the old secret no longer works"
        assert (await client.get(rotated.json()["url"])).status_code == 200

        slots = await client.get(
            f"/staff/{consultant}/free-slots",
            params={"from": "2026-01-06", "to": "2026-01-06", "min_minutes": 60},
            headers=me,
        )
        assert slots.status_code == 200, slots.text
        # 09:00-18:00 Paris is 08:00-17:00 UTC; the session holds 09:00-11:00 UTC.
        assert [(s["starts_at"], s["ends_at"]) for s in slots.json()] == [
            ("2026-01-06T08:00:00Z", "2026-01-06T09:00:00Z"),
            ("2026-01-06T11:00:00Z", "2026-01-06T17:00:00Z"),
        ]
        backwards = await client.get(
            f"/staff/{consultant}/free-slots",
            params={"from": "2026-01-07", "to": "2026-01-06"},
            headers=me,
        )
        assert (backwards.status_code, backwards.json()["code"]) == (422, "date_range_invalid")


async def test_the_name_of_staff_who_left_is_erased_after_the_retention(
    db_dsn: str, kafka_bootstrap: str
) -> None:
    harness = Harness(db_dsn, kafka_bootstrap, overrides={"staff_name_retention_days": 90})
    clock = harness.clock
    async with harness.running() as svc:
        client = svc.client
        site_id, _room = await setup_site(client)
        manager = auth(["site_manager"], [site_id])
        staff_id = await onboard(client, site_id, name="Yves Morel")
        url = f"/staff/{staff_id}"
        left = await client.post(
            f"{url}/leaving",
            json={"left_at": clock.now().isoformat()},
            headers={**manager, "If-Match": '"1"'},
        )
        assert left.status_code == 200, left.text
        clock.advance(timedelta(days=89))
        await asyncio.sleep(0.3)  # the timer loop looked, and found nothing due
        assert (await client.get(url, headers=manager)).json()["name"] == "Yves Morel"
        clock.advance(timedelta(days=2))

        async def erased() -> bool:
            return bool((await client.get(url, headers=manager)).json()["name"] is None)

        await eventually(erased)
        # The facts stay: the record, its leaving date, its roles.
        record = (await client.get(url, headers=manager)).json()
        assert record["left_at"] is not None
        assert record["roles"] == ["consultant"]


async def test_a_sites_address_is_shown_with_its_rooms_and_never_published(
    db_dsn: str, kafka_bootstrap: str
) -> None:
    harness = Harness(db_dsn, kafka_bootstrap)
    async with harness.running() as svc:
        client = svc.client
        admin = auth(["admin"], ["*"])
        offsets = await scheduling_offsets(kafka_bootstrap)
        blank = await client.post(
            "/sites", json={"name": "Rennes", "region": "bzh", "address": "  "}, headers=admin
        )
        assert blank.status_code == 422, "a blank address is refused, not stored"
        opened = await client.post(
            "/sites",
            json={"name": "Rennes Gare", "region": "bzh", "address": "5 place de la Gare, Rennes"},
            headers=admin,
        )
        assert opened.status_code == 201, opened.text
        site_id = opened.json()["site_id"]
        assert opened.json()["address"] == "5 place de la Gare, Rennes"
        listed = await client.get("/sites", headers=auth(["site_manager"], [site_id]))
        assert [s["address"] for s in listed.json()] == ["5 place de la Gare, Rennes"]
        # A site opened without one still works: the place is then its name and the room.
        _, plain_room = await setup_site(client)
        assert plain_room
        (envelope,) = await published(kafka_bootstrap, offsets, {site_id}, 1)
        assert envelope.type.split(".")[2] == "SiteOpened"
        assert set(envelope.data.model_dump()) == {"site_id", "name", "region", "opened_at"}
        # The stream keeps it, so that a projection rebuilt from the events has it too.
        stored = await svc.runtime.pool.fetchval(
            "SELECT data::text FROM events WHERE stream_id LIKE $1", f"%{site_id}"
        )
        assert "5 place de la Gare, Rennes" in stored
