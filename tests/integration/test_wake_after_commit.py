"""Work that must wait for a commit: it runs once the transaction commits, never on rollback,
and the relay woken that way publishes at once rather than at its next poll."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from aiokafka import TopicPartition

from shared.contracts.dossier import FieldInquiryCompleted
from shared.envelope import Envelope
from shared.eventstore import NewEvent, OutboxMessage, PostgresEventStore
from shared.relay import OutboxRelay, OutboxSignal, kafka_producer_factory
from shared.unit_of_work import after_commit, once_committed, transaction, unit_of_work
from tests.integration.kafka_reading import end_offsets, read_envelopes

TOPIC = "bilan.dossier.events"
SITE = str(uuid.uuid4())


def _message(dossier_id: uuid.UUID) -> OutboxMessage:
    event = FieldInquiryCompleted(
        dossier_id=dossier_id, contact_type="company_visit", completed_at=datetime.now(UTC)
    )
    return OutboxMessage(event, site_id=SITE, correlation_id="t", causation_id="t")


async def test_after_commit_work_waits_for_the_outermost_commit(pool: asyncpg.Pool) -> None:
    ran: list[str] = []
    assert not after_commit(lambda: ran.append("outside"))  # no transaction: not registered
    once_committed(lambda: ran.append("now"))  # nothing to wait for: runs at once
    assert ran == ["now"]
    ran.clear()

    async with unit_of_work(pool) as conn:
        after_commit(lambda: ran.append("outer"))
        async with transaction(conn):  # a savepoint: releasing it makes nothing durable
            after_commit(lambda: ran.append("released savepoint"))
        assert ran == []
        with contextlib.suppress(LookupError):
            async with transaction(conn):
                after_commit(lambda: ran.append("rolled-back savepoint"))
                raise LookupError
        assert ran == []
    assert ran == ["outer", "released savepoint"]

    ran.clear()

    async def failing_command() -> None:
        async with unit_of_work(pool):
            after_commit(lambda: ran.append("rolled back"))
            raise LookupError

    with pytest.raises(LookupError):
        await failing_command()
    assert ran == []

    # A transaction on another connection inside a unit commits on its own.
    async with unit_of_work(pool), pool.acquire() as other, transaction(other):
        after_commit(lambda: ran.append("other connection"))
    assert ran == ["other connection"]


async def test_an_append_in_a_unit_of_work_wakes_the_relay_after_commit_only(
    pool: asyncpg.Pool,
) -> None:
    pokes: list[bool] = []
    store = PostgresEventStore(pool, on_outbox_write=lambda: pokes.append(True))
    dossier = uuid.uuid4()

    async with unit_of_work(pool) as conn:
        await store.append(
            str(dossier), 0, [NewEvent("E", {})], outbox=[_message(dossier)], conn=conn
        )
        assert pokes == []  # before the commit the relay would find nothing
    assert pokes == [True]

    async def failing_command() -> None:
        async with unit_of_work(pool) as conn:
            await store.append(
                str(dossier), 1, [NewEvent("E", {})], outbox=[_message(dossier)], conn=conn
            )
            raise LookupError

    with pytest.raises(LookupError):
        await failing_command()
    assert pokes == [True]  # rolled back: nothing to publish, no wake-up

    await store.append(str(dossier), 1, [NewEvent("E", {})], outbox=[_message(dossier)])
    assert pokes == [True, True]  # its own transaction: committed when the call returns


def _relay_settings(
    db_dsn: str, pool: asyncpg.Pool, bootstrap: str, signal: OutboxSignal
) -> dict[str, Any]:
    """An in-process relay's arguments; its 60 s poll cannot publish within a test's time, so
    whatever is published in time was published because of a wake-up."""
    return {
        "service": "test",
        "dsn": db_dsn,
        "pool": pool,
        "producer_factory": kafka_producer_factory(bootstrap, "test-wake"),
        "signal": signal,
        "poll_interval_s": 60.0,
    }


@contextlib.asynccontextmanager
async def _running(relay: OutboxRelay) -> AsyncIterator[None]:
    running = asyncio.create_task(relay.run())
    try:
        yield
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running


async def _published(
    bootstrap: str, start: dict[TopicPartition, int], dossier: uuid.UUID, timeout_s: float
) -> list[Envelope]:
    """The dossier's records from `start` on, once one arrived (TimeoutError after
    `timeout_s`, long before the relay's next poll)."""
    subject = str(dossier)
    return await read_envelopes(
        bootstrap,
        start,
        keep=lambda e: e.subject == subject,
        done=lambda kept: bool(kept),
        timeout_s=timeout_s,
    )


async def test_a_commit_is_published_at_once_not_at_the_relays_next_poll(
    db_dsn: str, pool: asyncpg.Pool, kafka_bootstrap: str
) -> None:
    signal = OutboxSignal()
    store = PostgresEventStore(pool, on_outbox_write=signal.poke)
    relay = OutboxRelay(**_relay_settings(db_dsn, pool, kafka_bootstrap, signal))
    async with _running(relay):
        async with asyncio.timeout(30):
            while not signal.leading_here:
                await asyncio.sleep(0.05)
        start = await end_offsets(kafka_bootstrap, TOPIC)
        for _ in range(5):
            dossier = uuid.uuid4()
            async with unit_of_work(pool) as conn:
                await store.append(
                    str(dossier), 0, [NewEvent("E", {})], outbox=[_message(dossier)], conn=conn
                )
                # The relay is busy with its fetch while this transaction is still open: a
                # wake-up sent before the commit would be spent on finding nothing.
                await asyncio.sleep(0.1)
            assert len(await _published(kafka_bootstrap, start, dossier, timeout_s=10)) == 1


class _CommitDuringFetch(OutboxRelay):
    """A relay whose first empty fetch is overtaken by a commit and its wake-up: the moment
    a wake-up cleared after the fetch would be lost."""

    def __init__(self, store: PostgresEventStore, dossier: uuid.UUID, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._store = store
        self._dossier: uuid.UUID | None = dossier

    async def publish_batch(self, producer: Any) -> int:
        published = await super().publish_batch(producer)
        if published == 0 and self._dossier is not None:
            dossier, self._dossier = self._dossier, None
            # Its own transaction, committed on return, then the wake-up (signal.poke).
            await self._store.append(
                str(dossier), 0, [NewEvent("E", {})], outbox=[_message(dossier)]
            )
        return published


async def test_a_wake_up_during_an_empty_fetch_is_not_lost(
    db_dsn: str, pool: asyncpg.Pool, kafka_bootstrap: str
) -> None:
    signal = OutboxSignal()
    store = PostgresEventStore(pool, on_outbox_write=signal.poke)
    dossier = uuid.uuid4()
    start = await end_offsets(kafka_bootstrap, TOPIC)
    relay = _CommitDuringFetch(
        store, dossier, **_relay_settings(db_dsn, pool, kafka_bootstrap, signal)
    )
    async with _running(relay):
        assert len(await _published(kafka_bootstrap, start, dossier, timeout_s=15)) == 1
