"""The outbox relay under concurrent writers and crashes: nothing lost, order kept per subject."""

from __future__ import annotations

import asyncio
import random
import signal
import sys
import uuid
from collections import defaultdict
from datetime import UTC, datetime

import asyncpg

from shared.contracts.dossier import FieldInquiryCompleted
from shared.eventstore import ConcurrencyError, NewEvent, OutboxMessage, PostgresEventStore
from tests.integration.kafka_reading import end_offsets, read_envelopes

TOPIC = "bilan.dossier.events"
SITE = str(uuid.uuid4())


def _message(dossier_id: uuid.UUID, correlation: str) -> OutboxMessage:
    event = FieldInquiryCompleted(
        dossier_id=dossier_id,
        contact_type="professional_interview",
        completed_at=datetime.now(UTC),
    )
    return OutboxMessage(event, site_id=SITE, correlation_id=correlation, causation_id=correlation)


async def _start_relay(dsn: str, bootstrap: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.integration.relay_process", dsn, bootstrap, "200"
    )


async def test_concurrent_writers_and_relay_crashes_lose_nothing_and_keep_order(
    db_dsn: str, pool: asyncpg.Pool, kafka_bootstrap: str
) -> None:
    store = PostgresEventStore(pool)
    streams = [uuid.uuid4() for _ in range(1000)]
    versions: dict[uuid.UUID, int] = defaultdict(int)
    appended_ids: set[uuid.UUID] = set()
    per_stream_published: dict[str, int] = defaultdict(int)
    start = await end_offsets(kafka_bootstrap, TOPIC)
    appends_per_writer = 150
    progress = 0

    async def writer(w: int) -> None:
        nonlocal progress
        rng = random.Random(w)
        for _ in range(appends_per_writer):
            dossier = rng.choice(streams)
            while True:
                # Two outbox messages for one in four appends, to exercise batches.
                messages = [_message(dossier, f"w{w}") for _ in range(rng.choice((1, 1, 1, 2)))]
                try:
                    versions[dossier] = await store.append(
                        str(dossier),
                        versions[dossier],
                        [NewEvent("FieldInquiryCompleted", {"writer": w})],
                        outbox=messages,
                    )
                except ConcurrencyError:
                    versions[dossier] = len(await store.read_stream(str(dossier)))
                    continue
                appended_ids.update(m.event_id for m in messages)
                per_stream_published[str(dossier)] += len(messages)
                progress += 1
                break

    relay = await _start_relay(db_dsn, kafka_bootstrap)
    writers = asyncio.gather(*(writer(w) for w in range(20)))
    total = 20 * appends_per_writer
    kills = 0
    try:
        for threshold in (total // 3, 2 * total // 3):
            while progress < threshold:
                await asyncio.sleep(0.01)
            relay.send_signal(signal.SIGKILL)  # a crash: no clean shutdown, maybe mid-batch
            await relay.wait()
            kills += 1
            relay = await _start_relay(db_dsn, kafka_bootstrap)
        await writers
        async with asyncio.timeout(60):
            while await pool.fetchval("SELECT count(*) FROM outbox"):
                await asyncio.sleep(0.1)
    finally:
        relay.send_signal(signal.SIGTERM)
        await relay.wait()
    assert kills == 2

    ours = set(per_stream_published)
    received = await read_envelopes(
        kafka_bootstrap,
        start,
        keep=lambda e: e.subject in ours,
        done=lambda got: len({e.id for e in got}) >= len(appended_ids),
    )
    seen_ids = {e.id for e in received}
    assert seen_ids == appended_ids, "every appended event is on Kafka"

    # Copies of an event resent after a crash are dropped by ce_id, as consumers do; what
    # remains must be each subject's 1..n, in order.
    first_copies: dict[str, list[int]] = defaultdict(list)
    taken: set[uuid.UUID] = set()
    for envelope in received:
        if envelope.id in taken:
            continue
        taken.add(envelope.id)
        first_copies[envelope.subject].append(envelope.sequence)
    assert set(first_copies) == ours
    for subject, sequences in first_copies.items():
        assert sequences == list(range(1, per_stream_published[subject] + 1)), subject
    # Each event's key is its dossier, as the contract says.
    assert all(e.data.partition_key() == e.subject for e in received)
