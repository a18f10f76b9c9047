"""`bilan dlq list|replay`: what the consumers parked, and sending it back once fixed.

A consumer parks on `<topic>.dlq` only a record that failed on its own content (undecodable,
or a handler that kept failing on it); infrastructure failures are waited out instead
(`shared.transient`). Poison is sometimes a bug fixed later: `replay` publishes the parked
records again on their source topic, with their original key, value and CloudEvents headers
(plus `bilan_replayed_from`), through an idempotent producer. Every consumer drops a copy of
an event it already applied by its `ce_id`, so only the consumers that parked it apply it
now; the replayed copy comes after its subject's later events, which the contract's consumers
tolerate (reporting's facts are order-independent; the services' handlers are idempotent).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from shared.consumer import DLQ_SUFFIX

_OWN_HEADERS = {
    "bilan_error",
    "bilan_consumer",
    "bilan_source_topic",
    "bilan_source_partition",
    "bilan_source_offset",
    "bilan_replayed_from",
}


@dataclass(frozen=True)
class Parked:
    """One record of a dead-letter topic, as the consumer that parked it described it."""

    dlq_topic: str
    dlq_partition: int
    dlq_offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]

    def header(self, name: str) -> str:
        for key, value in self.headers:
            if key == name:
                return value.decode("utf-8", "replace")
        return ""

    @property
    def ref(self) -> str:
        """`<dlq topic>:<partition>:<offset>`, what `replay --only` takes."""
        return f"{self.dlq_topic}:{self.dlq_partition}:{self.dlq_offset}"

    @property
    def source_topic(self) -> str:
        return self.header("bilan_source_topic") or self.dlq_topic.removesuffix(DLQ_SUFFIX)

    def original_headers(self) -> list[tuple[str, bytes]]:
        return [(k, v) for k, v in self.headers if k not in _OWN_HEADERS]


async def read_parked(bootstrap: str, source_topics: Sequence[str]) -> list[Parked]:
    """Every record of the dead-letter topics of `source_topics`, oldest first."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False
    )
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()
        partitions = [
            TopicPartition(topic + DLQ_SUFFIX, p)
            for topic in source_topics
            for p in sorted(consumer.partitions_for_topic(topic + DLQ_SUFFIX) or ())
        ]
        if not partitions:
            return []
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        parked: list[Parked] = []
        async with asyncio.timeout(60):
            while [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
                for tp, records in (await consumer.getmany(timeout_ms=500)).items():
                    parked.extend(
                        Parked(
                            tp.topic,
                            tp.partition,
                            r.offset,
                            r.key,
                            r.value,
                            tuple((k, bytes(v)) for k, v in r.headers or ()),
                        )
                        for r in records
                        if r.offset < ends[tp]
                    )
        return parked
    finally:
        await consumer.stop()


async def replay(bootstrap: str, records: Sequence[Parked]) -> int:
    """Publish `records` again on their source topics; the number published."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all")
    await producer.start()
    try:
        for record in records:
            await producer.send_and_wait(
                record.source_topic,
                key=record.key,
                value=record.value,
                headers=[*record.original_headers(), ("bilan_replayed_from", record.ref.encode())],
            )
        return len(records)
    finally:
        await producer.stop()


def select(
    parked: Sequence[Parked], *, consumer: str | None = None, only: Sequence[str] = ()
) -> list[Parked]:
    """The records parked by `consumer` (any when None) and named in `only` (all when empty)."""
    wanted = set(only)
    return [
        p
        for p in parked
        if (consumer is None or p.header("bilan_consumer") == consumer)
        and (not wanted or p.ref in wanted)
    ]
