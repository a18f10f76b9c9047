"""The idempotent consumer against the real broker and database."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from shared.consumer import IdempotentConsumer
from shared.contracts.dossier import DossierCompleted, FieldInquiryCompleted
from shared.db import Connection
from shared.envelope import Envelope, KafkaRecord, encode
from tests.unit.contracts.examples import example

SITE = str(uuid.uuid4())


def _record(event: object, event_id: uuid.UUID | None = None) -> KafkaRecord:
    return encode(
        event,  # type: ignore[arg-type]
        event_id=event_id or uuid.uuid4(),
        sequence=1,
        site_id=SITE,
        correlation_id="corr-1",
        causation_id="cause-1",
    )


async def _produce(bootstrap: str, topic: str, records: list[KafkaRecord]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all")
    await producer.start()
    try:
        for r in records:
            await producer.send_and_wait(topic, r.value, key=r.key, headers=r.headers)
    finally:
        await producer.stop()


async def _apply(conn: Connection, envelope: Envelope) -> None:
    await conn.execute(
        "INSERT INTO applied (event_id, subject) VALUES ($1, $2)", envelope.id, envelope.subject
    )


@pytest.fixture
async def applied(pool: asyncpg.Pool) -> Callable[[], Awaitable[list[str]]]:
    await pool.execute("CREATE TABLE applied (event_id uuid, subject text)")

    async def rows() -> list[str]:
        return [str(r["event_id"]) for r in await pool.fetch("SELECT event_id FROM applied")]

    return rows


def _consumer(
    pool: asyncpg.Pool, bootstrap: str, topic: str, group: str, **kw: object
) -> IdempotentConsumer:
    return IdempotentConsumer(
        name=group,
        pool=pool,
        bootstrap_servers=bootstrap,
        topics=[topic],
        handlers={DossierCompleted.ce_type(): _apply, **kw.pop("extra", {})},  # type: ignore[dict-item]
        retry_backoff_s=0.01,
        **kw,  # type: ignore[arg-type]
    )


async def _drain(consumer: IdempotentConsumer, expected: int, timeout_s: float = 30) -> int:
    seen = 0
    async with asyncio.timeout(timeout_s):
        while seen < expected:
            seen += await consumer.consume_batch(timeout_ms=200)
    return seen


async def test_redelivery_and_a_crash_before_the_offset_commit_apply_once(
    pool: asyncpg.Pool,
    kafka_bootstrap: str,
    new_topic: Callable[..., Awaitable[str]],
    applied: Callable[[], Awaitable[list[str]]],
) -> None:
    topic = await new_topic()
    events = [example(DossierCompleted, dossier_id=uuid.uuid4()) for _ in range(20)]
    records = [_record(e) for e in events]
    # The first five are also redelivered as copies with the same ce_id (a relay resend).
    await _produce(kafka_bootstrap, topic, records + records[:5])
    group = f"g-{uuid.uuid4().hex[:8]}"

    first = _consumer(pool, kafka_bootstrap, topic, group)
    await first.start()
    await _drain(first, 25)
    await first.stop(commit=False)  # killed after the effects, before the offset commit
    assert len(await applied()) == 20

    second = _consumer(pool, kafka_bootstrap, topic, group)
    await second.start()
    try:
        assert await _drain(second, 25) == 25  # everything is delivered again
        await second.commit()
    finally:
        await second.stop()
    ids = await applied()
    assert sorted(ids) == sorted(
        {h[1].decode() for r in records for h in r.headers if h[0] == "ce_id"}
    )
    assert len(ids) == len(set(ids)) == 20


async def test_poison_messages_go_to_the_dlq_and_consumption_goes_on(
    pool: asyncpg.Pool,
    kafka_bootstrap: str,
    new_topic: Callable[..., Awaitable[str]],
    applied: Callable[[], Awaitable[list[str]]],
) -> None:
    topic = await new_topic(partitions=1)
    good_before = _record(example(DossierCompleted, dossier_id=uuid.uuid4()))
    good_after = _record(example(DossierCompleted, dossier_id=uuid.uuid4()))
    not_json = KafkaRecord(topic, b"k", b"{not json", good_before.headers)
    unknown_type = KafkaRecord(
        topic,
        good_before.key,
        good_before.value,
        [
            (k, b"bilan.dossier.Nonsense.v1" if k == "ce_type" else v)
            for k, v in good_before.headers
        ],
    )
    failing = _record(example(FieldInquiryCompleted, dossier_id=uuid.uuid4()))

    async def always_fails(conn: Connection, envelope: Envelope) -> None:
        await _apply(conn, envelope)  # rolled back every time
        raise RuntimeError("downstream refuses")

    await _produce(
        kafka_bootstrap, topic, [good_before, not_json, unknown_type, failing, good_after]
    )
    consumer = _consumer(
        pool,
        kafka_bootstrap,
        topic,
        f"g-{uuid.uuid4().hex[:8]}",
        max_retries=2,
        extra={FieldInquiryCompleted.ce_type(): always_fails},
    )
    await consumer.start()
    try:
        await _drain(consumer, 5)
        await consumer.commit()
    finally:
        await consumer.stop()
    assert len(await applied()) == 2, "the good messages before and after were both applied"

    dlq = AIOKafkaConsumer(
        topic + ".dlq", bootstrap_servers=kafka_bootstrap, auto_offset_reset="earliest"
    )
    await dlq.start()
    try:
        parked: list[Any] = []
        async with asyncio.timeout(20):
            while len(parked) < 3:
                batch = await dlq.getmany(timeout_ms=500)
                parked.extend(r for records in batch.values() for r in records)
    finally:
        await dlq.stop()
    errors = [dict(r.headers)["bilan_error"].decode() for r in parked]
    assert errors[0].startswith("undecodable: bad_json")
    assert errors[1].startswith("undecodable: unknown_type")
    assert errors[2].startswith("handler failed 3 times: RuntimeError")
    assert [dict(r.headers)["bilan_source_offset"] for r in parked] == [b"1", b"2", b"3"]
    assert parked[0].value == b"{not json"
