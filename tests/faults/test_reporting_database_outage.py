"""PostgreSQL crashes and stays down for 10 s while the reporting worker consumes a backlog.

Before the fix the projector gave up after five retries (about 3 s), the Faust agent crashed
and was restarted past the batch it held, whose offsets were committed although its facts
were never stored: events were lost for good. Now the figures served after the outage, and
after a restart, equal a recount from the topics, and no partition shows a gap.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.contracts import DossierCompleted, DossierOpened
from tests.integration.reporting.conftest import Producer, auth, eventually, make_settings
from tests.unit.contracts.examples import example

from .instances import PrivatePostgres
from .recount import read_all, recount

T = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
QUERY = {"from": "2025-01-01", "to": "2026-01-01"}
DOSSIERS = 400


async def publish_dossiers(producer: Producer, site: str, count: int) -> None:
    for i in range(count):
        dossier = uuid.uuid4()
        await producer.publish(
            example(
                DossierOpened, dossier_id=dossier, site_id=site, enquiry_received_at=T, opened_at=T
            ),
            site=site,
        )
        if i % 4 != 0:  # three in four are completed
            await producer.publish(
                example(
                    DossierCompleted,
                    dossier_id=dossier,
                    held_minutes=600,
                    completed_at=T + timedelta(days=30, minutes=i),
                ),
                site=site,
            )


async def served(client: Any, site: str) -> dict[str, Any]:
    response = await client.get(
        "/v1/indicators", params={**QUERY, "site": site}, headers=auth(["admin"])
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def status_of(client: Any) -> dict[str, Any]:
    body: dict[str, Any] = (await client.get("/v1/status", headers=auth(["admin"]))).json()
    return body


async def test_projection_survives_a_database_outage(
    private_pg: PrivatePostgres,
    kafka_bootstrap: str,
    new_topic: Any,
    producer: Producer,
    start_reporting: Any,
) -> None:
    topics = {name: await new_topic(3) for name in ("dossier", "scheduling", "survey")}
    producer.routes.update(topics)
    dsn = await private_pg.create_database("bilan_reporting")
    settings = make_settings(
        dsn,
        kafka_bootstrap,
        dossier_topic=topics["dossier"],
        scheduling_topic=topics["scheduling"],
        survey_topic=topics["survey"],
        batch_size=25,
    )
    site = str(uuid.uuid4())
    await publish_dossiers(producer, site, DOSSIERS // 4)

    async with start_reporting(settings) as running:
        client = running.client

        async def consuming() -> bool:
            status = await status_of(client)
            return bool(status["worker"] == "running" and status["events_processed"] > 0)

        await eventually(consuming)
        private_pg.crash()
        # The backlog arrives while the database is away: every batch of it waits.
        await publish_dossiers(producer, site, DOSSIERS - DOSSIERS // 4)
        await asyncio.sleep(10)
        # While the database is down the stored projection is still served, saying so.
        during = await served(client, site)
        assert during["projection_state"] == "waiting_for_database"
        private_pg.start()

        expected = recount(await read_all(kafka_bootstrap, list(topics.values())))
        completed = expected.completed_in(
            site, datetime(2025, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC)
        )
        assert len(expected.opened[site]) == DOSSIERS
        assert completed == DOSSIERS * 3 // 4

        async def caught_up() -> bool:
            status = await status_of(client)
            return bool(status["total_lag"] == 0 and status["projection"] == "live")

        await eventually(caught_up, timeout_s=120)
        after = await served(client, site)
        assert after["indicators"]["bilans_completed"]["value"] == completed
        status = await status_of(client)
        assert status["total_gap"] == 0
        assert status["worker"] == "running"
        missing = [
            dossier
            for dossier in expected.opened[site]
            if (
                await client.get(f"/v1/dossiers/{dossier}/checklist", headers=auth(["admin"]))
            ).status_code
            != 200
        ]
        assert missing == []

    # A restart resumes from what was stored, with the same figures.
    async with start_reporting(settings) as running:
        again = await served(running.client, site)
        assert again["indicators"]["bilans_completed"]["value"] == completed
