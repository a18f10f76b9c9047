"""Outbox relay: publishes committed outbox rows to Kafka, in order, then deletes them.

Guarantees, whatever the crash point:
- nothing is lost: a row is deleted only after the broker acknowledged it (acks=all, idempotent
  producer); a crash in between republishes it, and consumers drop the copy by `ce_id`;
- a subject's events stay in order: only the leader (an advisory lock) publishes, rows are sent
  in id order, and a subject's rows get increasing ids in sequence order (the append locks the
  subject's counter row before its outbox rows take their ids). A row that commits late with a
  smaller id than rows already published belongs to another subject, and is simply picked up by
  the next batch.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import asyncpg
from aiokafka import AIOKafkaProducer

from shared.cancellation import wake_or_timeout
from shared.envelope import build_headers
from shared.logging import get_logger
from shared.metrics import RELAY_LAG, RELAY_PUBLISHED

NOTIFY_CHANNEL = "bilan_outbox"
_RELAY_LOCK = 0x6269_6C61_6E01  # one publishing relay per service database

log = get_logger(__name__)

ProducerFactory = Callable[[], Awaitable[Any]]


def kafka_producer_factory(bootstrap_servers: str, client_id: str) -> ProducerFactory:
    """Idempotent producer, acks from every in-sync replica: the settings the contract needs."""

    async def start() -> AIOKafkaProducer:
        producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap_servers,
            client_id=client_id,
            enable_idempotence=True,
            acks="all",
            linger_ms=2,
            max_batch_size=256 * 1024,
            request_timeout_ms=30_000,
        )
        await producer.start()
        return producer

    return start


class OutboxSignal:
    """Wakes the relay after a commit that wrote outbox rows.

    In-process relays are woken directly. Relays in other processes are woken by a NOTIFY sent
    from a separate connection, at most one in flight: a NOTIFY inside every writing transaction
    would take PostgreSQL's notification lock at each commit and serialise the writers.
    """

    def __init__(self) -> None:
        self.local = asyncio.Event()
        self._pending = asyncio.Event()
        self.leading_here = False
        """True while this process's relay is the leader: then no other relay needs waking."""

    def poke(self) -> None:
        self.local.set()
        if not self.leading_here:
            self._pending.set()

    async def forward_notifications(self, pool: asyncpg.Pool) -> None:
        """Run until cancelled: turn pokes into coalesced NOTIFYs."""
        while True:
            await self._pending.wait()
            if not await self.forward_pending(pool):
                await asyncio.sleep(1)

    async def forward_pending(self, pool: asyncpg.Pool) -> bool:
        """One step of `forward_notifications`: one NOTIFY for every poke since the last step
        that another process must hear of; whether it was sent (tests drive it this way)."""
        if not self._pending.is_set():
            return False
        self._pending.clear()
        try:
            await pool.execute(f"NOTIFY {NOTIFY_CHANNEL}")
        except (OSError, asyncpg.PostgresError) as exc:
            # The relay's polling fallback finds the rows anyway.
            log.warning("outbox_notify_failed", error=type(exc).__name__)
            return False
        return True


class OutboxRelay:
    """Publishes one service's outbox to Kafka. Run one or more; only the leader publishes."""

    def __init__(
        self,
        *,
        service: str,
        dsn: str,
        pool: asyncpg.Pool,
        producer_factory: ProducerFactory,
        signal: OutboxSignal | None = None,
        batch_size: int = 500,
        poll_interval_s: float = 1.0,
    ) -> None:
        self._service = service
        self._dsn = dsn
        self._pool = pool
        self._producer_factory = producer_factory
        self._signal = signal or OutboxSignal()
        self._wake = self._signal.local
        self._batch_size = batch_size
        self._poll_interval_s = poll_interval_s
        self._acknowledged: list[int] = []
        """Ids the broker acknowledged, deleted with the next fetch."""

    async def run(self) -> None:
        """Run until cancelled, surviving database and broker outages."""
        backoff = 0.5
        while True:
            try:
                await self._lead_while_possible()
                backoff = 0.5
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("relay_interrupted", error=type(exc).__name__, detail=str(exc)[:200])
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)

    async def _lead_while_possible(self) -> None:
        conn: asyncpg.Connection = await asyncpg.connect(self._dsn)
        try:
            # Followers retry the lock now and then; PostgreSQL cannot notify a lock release.
            while not await conn.fetchval("SELECT pg_try_advisory_lock($1)", _RELAY_LOCK):  # noqa: ASYNC110
                await asyncio.sleep(self._poll_interval_s)
            await conn.add_listener(NOTIFY_CHANNEL, self._on_notify)
            producer = await self._producer_factory()
            log.info("relay_leading", service=self._service)
            self._signal.leading_here = True
            try:
                while not conn.is_closed():
                    # Cleared before the fetch, not after: a wake-up for a commit the fetch
                    # just missed must not be lost to a second's sleep.
                    self._wake.clear()
                    published = await self.publish_batch(producer)
                    if published == 0:
                        await self._idle()
            finally:
                self._signal.leading_here = False
                with contextlib.suppress(Exception):
                    await producer.stop()
        finally:
            with contextlib.suppress(Exception):
                await conn.close()

    def _on_notify(self, *_args: object) -> None:
        self._wake.set()

    async def _idle(self) -> None:
        await wake_or_timeout(self._wake, self._poll_interval_s)

    async def publish_batch(self, producer: Any) -> int:
        """Publish the oldest outbox rows; returns how many the broker acknowledged.

        The rows of the previous, acknowledged batch are deleted by the same statement that
        fetches the next one: one round trip and one commit per cycle instead of two. Its
        SELECT still sees them (same snapshot), hence the `<> ALL` filter.
        """
        rows = await self._pool.fetch(
            """WITH done AS (DELETE FROM outbox WHERE id = ANY($2::bigint[]))
               SELECT id, event_id, topic, partition_key, subject, sequence, ce_type, ce_source,
                      ce_time, site_id, correlation_id, causation_id, value, enqueued_at
               FROM outbox WHERE id <> ALL($2::bigint[]) ORDER BY id LIMIT $1""",
            self._batch_size,
            self._acknowledged,
        )
        self._acknowledged = []
        if not rows:
            RELAY_LAG.labels(self._service).set(0)
            return 0
        oldest: datetime = rows[0]["enqueued_at"]
        RELAY_LAG.labels(self._service).set((datetime.now(UTC) - oldest).total_seconds())
        deliveries = []
        for row in rows:
            headers = build_headers(
                event_id=row["event_id"],
                ce_type=row["ce_type"],
                source=row["ce_source"],
                time=row["ce_time"],
                subject=row["subject"],
                sequence=row["sequence"],
                site_id=row["site_id"],
                correlation_id=row["correlation_id"],
                causation_id=row["causation_id"],
            )
            deliveries.append(
                await producer.send(
                    row["topic"],
                    value=bytes(row["value"]),
                    key=row["partition_key"].encode(),
                    headers=headers,
                )
            )
        # Every delivery must be acknowledged before any row is deleted: a failure leaves the
        # whole batch in place to be sent again (consumers de-duplicate on ce_id).
        await asyncio.gather(*deliveries)
        self._acknowledged = [row["id"] for row in rows]
        RELAY_PUBLISHED.labels(self._service).inc(len(rows))
        return len(rows)
