"""Concurrent bookings of one slot: exactly one wins. The OpenAPI document describes every
route with examples."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

from tests.integration.scheduling.harness import (
    DossierService,
    Harness,
    auth,
    eventually,
    onboard,
    setup_site,
)


async def test_concurrent_bookings_of_one_slot_leave_one_session(
    db_dsn: str, kafka_bootstrap: str
) -> None:
    harness = Harness(db_dsn, kafka_bootstrap)
    clock = harness.clock
    dossiers = DossierService(kafka_bootstrap)
    async with harness.running() as svc:
        client = svc.client
        site_id, room_id = await setup_site(client)
        consultant = await onboard(client, site_id)
        manager = auth(["site_manager"], [site_id])
        dossier_ids = [uuid.uuid4() for _ in range(6)]
        for dossier_id in dossier_ids:
            await dossiers.open(dossier_id, uuid.uuid4(), site_id, clock.now() - timedelta(days=5))
            await dossiers.assign_referent(dossier_id, consultant, clock.now() - timedelta(days=5))
            await dossiers.sign_convention(dossier_id, clock.now() - timedelta(days=2))

        async def all_known() -> bool:
            return bool(
                await svc.runtime.pool.fetchval(
                    "SELECT count(*) = 6 FROM dossiers WHERE convention_signed_at IS NOT NULL "
                    "AND dossier_id = ANY($1)",
                    dossier_ids,
                )
            )

        await eventually(all_known)
        starts = clock.now() + timedelta(days=2)

        async def book(index: int, dossier_id: uuid.UUID) -> int:
            body = {
                "phase": "preliminary",
                "modality": "in_person",
                "consultant_id": consultant,
                "room_id": room_id,
                "starts_at": (starts + timedelta(minutes=10 * index)).isoformat(),
                "planned_minutes": 90,
            }
            response = await client.post(
                f"/dossiers/{dossier_id}/sessions", json=body, headers=manager
            )
            return response.status_code

        statuses = await asyncio.gather(*(book(i, d) for i, d in enumerate(dossier_ids)))
        assert sorted(statuses) == [201, 409, 409, 409, 409, 409]
        assert await svc.runtime.pool.fetchval("SELECT count(*) FROM sessions") == 1
        assert await svc.runtime.pool.fetchval("SELECT count(*) FROM outbox_subjects") >= 1


async def test_openapi_documents_routes_with_examples(db_dsn: str, kafka_bootstrap: str) -> None:
    harness = Harness(db_dsn, kafka_bootstrap)
    async with harness.running() as svc:
        document = (await svc.client.get("/openapi.json")).json()
    paths = document["paths"]
    for path in [
        "/sites",
        "/sites/{site_id}/rooms",
        "/staff",
        "/staff/{staff_id}/trainings",
        "/staff/{staff_id}/free-slots",
        "/dossiers/{dossier_id}/sessions",
        "/sessions/{session_id}/held",
        "/sessions/{session_id}/signatures",
        "/dossiers/{dossier_id}/attendance-sheet.pdf",
        "/calendars/{secret}.ics",
    ]:
        assert path in paths, path
    schedule = document["components"]["schemas"]["ScheduleBody"]["properties"]
    assert schedule["planned_minutes"]["examples"] == [120]
    assert schedule["phase"]["examples"] == ["investigation"]
