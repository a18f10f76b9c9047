"""Helpers that read back what reached a topic, for assertions (each record kept is checked
against the committed contract document, `contract/asyncapi.json`)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from shared.envelope import Envelope, decode
from tests.unit.contracts.document import assert_record_conforms


async def end_offsets(bootstrap: str, topic: str) -> dict[TopicPartition, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        (described,) = await admin.describe_topics([topic])
    finally:
        await admin.close()
    assert described["partitions"], f"topic {topic} does not exist: run `bilan stack up`"
    partitions = [TopicPartition(topic, p["partition"]) for p in described["partitions"]]
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        offsets: dict[TopicPartition, int] = await consumer.end_offsets(partitions)
        return offsets
    finally:
        await consumer.stop()


async def read_envelopes(
    bootstrap: str,
    start: dict[TopicPartition, int],
    keep: Callable[[Envelope], bool],
    done: Callable[[list[Envelope]], bool],
    timeout_s: float = 60.0,
) -> list[Envelope]:
    """Decode records from `start` offsets on, in partition order, until `done` says so."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    kept: list[Envelope] = []
    try:
        consumer.assign(list(start))
        for tp, offset in start.items():
            consumer.seek(tp, offset)
        async with asyncio.timeout(timeout_s):
            while not done(kept):
                batches: dict[Any, list[Any]] = await consumer.getmany(timeout_ms=500)
                for records in batches.values():
                    for record in records:
                        envelope = decode(record.key, record.value, list(record.headers))
                        if keep(envelope):
                            # Every record a test reads back from a producer is also held to
                            # the committed contract document, not only to the models.
                            assert_record_conforms(record.key, record.value, list(record.headers))
                            kept.append(envelope)
    finally:
        await consumer.stop()
    return kept
