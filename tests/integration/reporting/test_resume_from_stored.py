"""The projection resumes from what it stored, not from what its group committed.

The fault matrix found offsets committed past facts never stored (the Faust agent crashed on
a failed write and was restarted past its batch): the worker resumed from those offsets and
the facts in between were skipped for good, while `/v1/status` said lag 0. Here the group's
offsets are committed ahead of an empty projection, as that defect left them; the service
reads the missing records back at start, and its status shows the gap until then.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import OffsetAndMetadata

from shared.contracts import DossierCompleted, DossierOpened
from tests.unit.contracts.examples import example

from .conftest import Producer, auth, eventually, make_settings

T = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


async def _commit_at_end(bootstrap: str, group: str, topics: list[str]) -> None:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group)
    await consumer.start()
    try:
        partitions = [TopicPartition(t, p) for t in topics for p in range(2)]
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        await consumer.commit({tp: OffsetAndMetadata(end, "") for tp, end in ends.items()})
    finally:
        await consumer.stop()


async def test_offsets_committed_past_the_store_are_read_back(
    db_dsn: str, kafka_bootstrap: str, new_topic: Any, producer: Producer, start_reporting: Any
) -> None:
    topics = {name: await new_topic(2) for name in ("dossier", "scheduling", "survey")}
    producer.routes.update(topics)
    site = str(uuid.uuid4())
    dossiers = [uuid.uuid4() for _ in range(20)]
    for dossier in dossiers:
        await producer.publish(
            example(DossierOpened, dossier_id=dossier, site_id=site, opened_at=T), site=site
        )
        await producer.publish(
            example(DossierCompleted, dossier_id=dossier, completed_at=T + timedelta(days=30)),
            site=site,
        )
    settings = make_settings(
        db_dsn,
        kafka_bootstrap,
        dossier_topic=topics["dossier"],
        scheduling_topic=topics["scheduling"],
        survey_topic=topics["survey"],
    )
    await _commit_at_end(kafka_bootstrap, settings.group, list(topics.values()))

    async with start_reporting(settings) as running:
        client = running.client

        async def caught_up() -> bool:
            status = (await client.get("/v1/status", headers=auth(["admin"]))).json()
            return bool(status["worker"] == "running" and status["total_lag"] == 0)

        await eventually(caught_up, timeout_s=120)
        status = (await client.get("/v1/status", headers=auth(["admin"]))).json()
        assert status["gaps_filled"] == 2 * len(dossiers)
        assert status["total_gap"] == 0
        figures = await client.get(
            "/v1/indicators",
            params={"from": "2025-01-01", "to": "2026-01-01", "site": site},
            headers=auth(["admin"]),
        )
        assert figures.json()["indicators"]["bilans_completed"]["value"] == len(dossiers)
        for row in status["partitions"]:
            assert row["stored"] == row["end_offset"]
            assert row["committed"] == row["end_offset"]
