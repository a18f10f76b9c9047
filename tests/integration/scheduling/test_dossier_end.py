"""The end of a dossier, learnt over Kafka: no new bilan session, pending reminders cancelled;
events about dossiers this service never heard of are recorded, never a failure."""

from __future__ import annotations

import uuid
from datetime import timedelta

from shared.contracts import dossier as d
from tests.integration.scheduling.harness import (
    DossierService,
    Harness,
    auth,
    eventually,
    if_match,
    onboard,
    setup_site,
)


async def test_abandonment_stops_sessions_and_reminders(db_dsn: str, kafka_bootstrap: str) -> None:
    harness = Harness(db_dsn, kafka_bootstrap)
    clock = harness.clock
    dossiers = DossierService(kafka_bootstrap)
    async with harness.running() as svc:
        client = svc.client
        pool = svc.runtime.pool
        site_id, room_id = await setup_site(client)
        consultant = await onboard(client, site_id)
        me = auth(["consultant"], [site_id], subject=consultant)
        dossier_id = uuid.uuid4()
        await dossiers.open(dossier_id, uuid.uuid4(), site_id, clock.now() - timedelta(days=5))
        await dossiers.assign_referent(dossier_id, consultant, clock.now() - timedelta(days=5))
        await dossiers.sign_convention(dossier_id, clock.now() - timedelta(days=2))
        # A dossier never opened here: its facts are kept, and it stays unknown for scheduling.
        stranger = uuid.uuid4()
        await dossiers.sign_convention(stranger, clock.now() - timedelta(days=1))

        async def known() -> bool:
            return bool(
                await pool.fetchval(
                    "SELECT count(*) = 2 FROM dossiers WHERE convention_signed_at IS NOT NULL "
                    "AND dossier_id = ANY($1)",
                    [dossier_id, stranger],
                )
            )

        await eventually(known)
        body = {
            "phase": "investigation",
            "modality": "in_person",
            "consultant_id": consultant,
            "room_id": room_id,
            "starts_at": (clock.now() + timedelta(days=4)).isoformat(),
            "planned_minutes": 120,
        }
        created = await client.post(f"/dossiers/{dossier_id}/sessions", json=body, headers=me)
        assert created.status_code == 201, created.text
        unknown = await client.post(f"/dossiers/{stranger}/sessions", json=body, headers=me)
        assert (unknown.status_code, unknown.json()["code"]) == (404, "dossier_not_found")
        assert await pool.fetchval("SELECT count(*) FROM mail_outbox WHERE state = 'pending'") == 2

        await dossiers.publish(
            d.DossierAbandoned(
                dossier_id=dossier_id,
                phase_at_abandon="investigation",
                reason_category="employment_found",
                initiated_by="beneficiary",
                abandoned_at=clock.now(),
            )
        )

        async def reminders_cancelled() -> bool:
            return bool(
                await pool.fetchval(
                    "SELECT count(*) = 2 FROM mail_outbox WHERE state = 'cancelled'"
                )
            )

        await eventually(reminders_cancelled)
        later = {**body, "starts_at": (clock.now() + timedelta(days=6)).isoformat()}
        refused = await client.post(f"/dossiers/{dossier_id}/sessions", json=later, headers=me)
        assert (refused.status_code, refused.json()["code"]) == (409, "dossier_ended")
        assert await pool.fetchval("SELECT count(*) FROM sessions") == 1


async def test_completion_keeps_follow_up_sessions_and_a_no_show_is_recorded(
    db_dsn: str, kafka_bootstrap: str
) -> None:
    harness = Harness(db_dsn, kafka_bootstrap)
    clock = harness.clock
    dossiers = DossierService(kafka_bootstrap)
    async with harness.running() as svc:
        client = svc.client
        pool = svc.runtime.pool
        site_id, _room = await setup_site(client)
        consultant = await onboard(client, site_id)
        me = auth(["consultant"], [site_id], subject=consultant)
        dossier_id = uuid.uuid4()
        await dossiers.open(dossier_id, uuid.uuid4(), site_id, clock.now() - timedelta(days=50))
        await dossiers.assign_referent(dossier_id, consultant, clock.now() - timedelta(days=50))
        await dossiers.sign_convention(dossier_id, clock.now() - timedelta(days=40))

        async def known() -> bool:
            return bool(
                await pool.fetchval(
                    "SELECT convention_signed_at IS NOT NULL FROM dossiers WHERE dossier_id = $1",
                    dossier_id,
                )
            )

        await eventually(known)
        url = f"/dossiers/{dossier_id}/sessions"
        body = {
            "phase": "conclusion",
            "modality": "remote",
            "consultant_id": consultant,
            "starts_at": (clock.now() + timedelta(hours=1)).isoformat(),
            "planned_minutes": 60,
        }
        soon = await client.post(url, json=body, headers=me)
        assert soon.status_code == 201, soon.text
        follow_up = await client.post(
            url,
            json={
                **body,
                "phase": "follow_up",
                "starts_at": (clock.now() + timedelta(days=180)).isoformat(),
            },
            headers=me,
        )
        assert follow_up.status_code == 201, follow_up.text
        too_early = await client.post(
            f"/sessions/{soon.json()['session_id']}/no-show", headers={**me, **if_match(1)}
        )
        assert (too_early.status_code, too_early.json()["code"]) == (409, "session_not_started")
        clock.advance(timedelta(hours=1, minutes=20))
        no_show = await client.post(
            f"/sessions/{soon.json()['session_id']}/no-show", headers={**me, **if_match(1)}
        )
        assert no_show.status_code == 200, no_show.text
        assert no_show.json()["status"] == "no_show"

        await dossiers.publish(
            d.DossierCompleted(dossier_id=dossier_id, held_minutes=0, completed_at=clock.now())
        )

        async def completed() -> bool:
            return bool(
                await pool.fetchval(
                    "SELECT completed_at IS NOT NULL FROM dossiers WHERE dossier_id = $1",
                    dossier_id,
                )
            )

        await eventually(completed)
        later = {**body, "starts_at": (clock.now() + timedelta(days=2)).isoformat()}
        refused = await client.post(url, json=later, headers=me)
        assert (refused.status_code, refused.json()["code"]) == (409, "dossier_ended")
        another_follow_up = await client.post(url, json={**later, "phase": "follow_up"}, headers=me)
        assert another_follow_up.status_code == 201, another_follow_up.text
        pending = await pool.fetch(
            "SELECT mail_key FROM mail_outbox WHERE state = 'pending' ORDER BY mail_key"
        )
        follow_up_id = follow_up.json()["session_id"]
        assert sum(follow_up_id in r["mail_key"] for r in pending) == 2, (
            "the follow-up's reminders survive the completion"
        )


async def test_withdrawal_cancels_the_sessions_to_come_and_refuses_new_ones(
    db_dsn: str, kafka_bootstrap: str
) -> None:
    harness = Harness(db_dsn, kafka_bootstrap)
    clock = harness.clock
    dossiers = DossierService(kafka_bootstrap)
    async with harness.running() as svc:
        client = svc.client
        pool = svc.runtime.pool
        site_id, room_id = await setup_site(client)
        consultant = await onboard(client, site_id)
        me = auth(["consultant"], [site_id], subject=consultant)
        dossier_id = uuid.uuid4()
        await dossiers.open(dossier_id, uuid.uuid4(), site_id, clock.now() - timedelta(days=5))
        await dossiers.assign_referent(dossier_id, consultant, clock.now() - timedelta(days=5))
        await dossiers.sign_convention(dossier_id, clock.now() - timedelta(days=2))

        async def signed() -> bool:
            return bool(
                await pool.fetchval(
                    "SELECT convention_signed_at IS NOT NULL FROM dossiers WHERE dossier_id = $1",
                    dossier_id,
                )
            )

        await eventually(signed)
        url = f"/dossiers/{dossier_id}/sessions"
        body = {
            "phase": "preliminary",
            "modality": "in_person",
            "consultant_id": consultant,
            "room_id": room_id,
            "starts_at": (clock.now() + timedelta(days=3)).isoformat(),
            "planned_minutes": 120,
        }
        booked = []
        for days, phase in ((3, "preliminary"), (5, "investigation")):
            created = await client.post(
                url,
                json={
                    **body,
                    "phase": phase,
                    "starts_at": (clock.now() + timedelta(days=days)).isoformat(),
                },
                headers=me,
            )
            assert created.status_code == 201, created.text
            booked.append(created.json()["session_id"])
        await dossiers.publish(
            d.WithdrawalExercised(
                dossier_id=dossier_id, convention_id=uuid.uuid4(), exercised_at=clock.now()
            )
        )

        async def all_cancelled() -> bool:
            statuses = await pool.fetch(
                "SELECT status FROM sessions WHERE dossier_id = $1", dossier_id
            )
            return bool([r["status"] for r in statuses] == ["cancelled", "cancelled"])

        await eventually(all_cancelled)
        for session_id in booked:
            view = await client.get(f"/sessions/{session_id}", headers=me)
            assert view.json()["status"] == "cancelled"
        assert await pool.fetchval("SELECT count(*) FROM mail_outbox WHERE state = 'pending'") == 0
        later = {**body, "starts_at": (clock.now() + timedelta(days=8)).isoformat()}
        refused = await client.post(url, json=later, headers=me)
        assert (refused.status_code, refused.json()["code"]) == (409, "dossier_ended")
        # Each cancellation is in the session's stream (and so published through the outbox).
        types = await pool.fetch(
            "SELECT event_type FROM events WHERE stream_id = ANY($1)",
            [f"session-{s}" for s in booked],
        )
        assert sorted(r["event_type"] for r in types).count("SessionCancelled") == 2


async def test_a_deemed_refusal_refuses_bilan_sessions_but_not_information(
    db_dsn: str, kafka_bootstrap: str
) -> None:
    harness = Harness(db_dsn, kafka_bootstrap)
    clock = harness.clock
    dossiers = DossierService(kafka_bootstrap)
    async with harness.running() as svc:
        client = svc.client
        pool = svc.runtime.pool
        site_id, _room = await setup_site(client)
        consultant = await onboard(client, site_id)
        me = auth(["consultant"], [site_id], subject=consultant)
        dossier_id = uuid.uuid4()
        await dossiers.open(dossier_id, uuid.uuid4(), site_id, clock.now() - timedelta(days=20))
        await dossiers.assign_referent(dossier_id, consultant, clock.now() - timedelta(days=20))
        await dossiers.publish(
            d.ConventionDeemedRefused(
                dossier_id=dossier_id,
                convention_id=uuid.uuid4(),
                acceptance_deadline=clock.now() - timedelta(hours=1),
                refused_at=clock.now(),
            )
        )

        async def refused_known() -> bool:
            return bool(
                await pool.fetchval(
                    "SELECT convention_refused_at IS NOT NULL FROM dossiers WHERE dossier_id = $1",
                    dossier_id,
                )
            )

        await eventually(refused_known)
        url = f"/dossiers/{dossier_id}/sessions"
        body = {
            "phase": "preliminary",
            "modality": "remote",
            "consultant_id": consultant,
            "starts_at": (clock.now() + timedelta(days=3)).isoformat(),
            "planned_minutes": 60,
        }
        refused = await client.post(url, json=body, headers=me)
        assert (refused.status_code, refused.json()["code"]) == (409, "convention_refused")
        information = await client.post(url, json={**body, "phase": "information"}, headers=me)
        assert information.status_code == 201, information.text
