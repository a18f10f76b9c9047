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
