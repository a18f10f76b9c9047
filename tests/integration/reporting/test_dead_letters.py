"""Undecodable records go to the topic's `.dlq` with the error, and are counted in /v1/status.

These use throwaway topics (settings name the topics): garbage on the shared topics would
reach every other consumer."""

from __future__ import annotations

import uuid
from typing import Any

from aiokafka import AIOKafkaConsumer

from shared.contracts import DossierCompleted
from tests.unit.contracts.examples import example

from .conftest import Producer, auth, eventually, make_settings


async def test_undecodable_records_are_dead_lettered_and_counted(
    db_dsn: str, kafka_bootstrap: str, producer: Producer, new_topic: Any, start_reporting: Any
) -> None:
    dossier_topic, scheduling_topic, survey_topic = [await new_topic(2) for _ in range(3)]
    settings = make_settings(
        db_dsn,
        kafka_bootstrap,
        dossier_topic=dossier_topic,
        scheduling_topic=scheduling_topic,
        survey_topic=survey_topic,
    )
    dossier = uuid.uuid4()
    await producer.send_raw(
        survey_topic, b"key", b"not json", [("ce_specversion", b"1.0"), ("ce_type", b"x")]
    )
    await producer.publish(example(DossierCompleted, dossier_id=dossier), topic=dossier_topic)
    async with start_reporting(settings) as running:
        client = running.client

        async def counted() -> bool:
            status = (await client.get("/v1/status", headers=auth(["admin"]))).json()
            return bool(status["dead_lettered"] == {survey_topic: 1} and status["total_lag"] == 0)

        await eventually(counted)
        status = (await client.get("/v1/status", headers=auth(["admin"]))).json()
        assert status["events_processed"] == 2
        assert sorted((p["topic"], p["partition"]) for p in status["partitions"]) == sorted(
            (t, p) for t in settings.topics for p in (0, 1)
        )
        assert status["last_event_at"] is not None
        # The lag is exported as a metric too, per partition, for `bilan status` and alerts.
        metrics = (await client.get("/metrics")).text
        lag_lines = [
            line
            for line in metrics.splitlines()
            if line.startswith("bilan_consumer_lag{") and survey_topic in line
        ]
        assert len(lag_lines) == 2
        assert all(line.endswith(" 0.0") for line in lag_lines)

    consumer = AIOKafkaConsumer(
        survey_topic + ".dlq", bootstrap_servers=kafka_bootstrap, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        record = await consumer.getone()
    finally:
        await consumer.stop()
    headers = dict(record.headers)
    assert record.value == b"not json"
    assert headers["bilan_error"].startswith(b"undecodable: unknown_type")
    assert headers["bilan_source_topic"] == survey_topic.encode()
