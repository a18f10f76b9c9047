"""The records the system published from some offsets on, as a log the contract's rules judge."""

from __future__ import annotations

import asyncio
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from shared.contracts.rules import LogRecord
from shared.envelope import decode
from tests.e2e.leaks import EVENT_TOPICS
from tests.integration.kafka_reading import end_offsets


async def offsets_now(bootstrap: str) -> dict[TopicPartition, int]:
    """The end offsets of the three event topics: where a log taken later starts."""
    found: dict[TopicPartition, int] = {}
    for topic in EVENT_TOPICS:
        found.update(await end_offsets(bootstrap, topic))
    return found


async def log_since(bootstrap: str, starts: dict[TopicPartition, int]) -> list[LogRecord]:
    """Every record from `starts` to the end offsets taken now, decoded, in partition order."""
    ends = await offsets_now(bootstrap)
    todo = {tp for tp in ends if ends[tp] > starts.get(tp, 0)}
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    log: list[LogRecord] = []
    try:
        consumer.assign(list(ends))
        for tp in ends:
            consumer.seek(tp, starts.get(tp, 0))
        async with asyncio.timeout(120):
            while todo:
                batches: dict[Any, list[Any]] = await consumer.getmany(timeout_ms=1000)
                for tp, records in batches.items():
                    for record in records:
                        if record.offset >= ends[tp]:
                            continue
                        envelope = decode(record.key, record.value, list(record.headers))
                        log.append(LogRecord(tp.topic, tp.partition, envelope))
                    if records and records[-1].offset + 1 >= ends[tp]:
                        todo.discard(tp)
    finally:
        await consumer.stop()
    return log
