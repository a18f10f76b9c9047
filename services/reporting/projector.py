"""Applies batches of Kafka records to the projection in use, and persists them.

The worker layer (Faust, or the rebuild's plain consumer) only hands records over: decoding,
dead-lettering, applying and saving live here, so the streaming library can be swapped.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any, Protocol

import asyncpg
from aiokafka import AIOKafkaProducer

from shared.envelope import Envelope, EnvelopeError, decode
from shared.logging import get_logger

from .adapters import projection_db as db
from .facts import FactStore, apply
from .indicators import QueryEngine

log = get_logger(__name__)
DLQ_SUFFIX = ".dlq"


class Record(Protocol):
    """What the projector needs of a Kafka record (aiokafka's and Faust's messages have it)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Any


def decode_record(record: Record) -> Envelope:
    """The contract envelope of a record; `EnvelopeError` if it is not one."""
    return decode(record.key, record.value, list(record.headers or ()))


class DeadLetters(Protocol):
    async def send(self, record: Record, reason: str) -> None: ...


class KafkaDeadLetters:
    """Parks undecodable records on `<topic>.dlq`, with the error in a header."""

    def __init__(self, bootstrap_servers: str, client_id: str) -> None:
        self._producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap_servers,
            client_id=client_id,
            enable_idempotence=True,
            acks="all",
        )

    async def start(self) -> None:
        await self._producer.start()

    async def stop(self) -> None:
        await self._producer.stop()

    async def send(self, record: Record, reason: str) -> None:
        headers = [
            *(list(record.headers or ())),
            ("bilan_error", reason.encode("utf-8", "replace")),
            ("bilan_consumer", b"reporting"),
            ("bilan_source_topic", record.topic.encode()),
            ("bilan_source_partition", str(record.partition).encode()),
            ("bilan_source_offset", str(record.offset).encode()),
        ]
        await self._producer.send_and_wait(
            record.topic + DLQ_SUFFIX, value=record.value, key=record.key, headers=headers
        )


class Projector:
    """Holds the projection in use (facts in memory, persisted per batch) and its query engine."""

    def __init__(
        self, pool: asyncpg.Pool, dead_letters: DeadLetters, *, max_retries: int = 5
    ) -> None:
        self._pool = pool
        self._dead_letters = dead_letters
        self._max_retries = max_retries
        self._lock = asyncio.Lock()
        self.generation: str | None = None
        self.store = FactStore()
        self.positions: db.Positions = {}
        self.engine = QueryEngine(self.store)
        self.processed = 0
        self.last_processed_at: float | None = None

    async def start(self) -> None:
        """Load the current generation (made empty on the very first start)."""
        async with self._pool.acquire() as conn:
            generation = await db.ensure_generation(conn)
            async with self._lock:
                await self._load(conn, generation)

    async def _load(self, conn: Any, generation: str) -> None:
        store, positions = await db.load(conn, generation)
        self.generation, self.store, self.positions = generation, store, positions
        self.engine.reset(store)
        log.info("projection_loaded", generation=generation, dossiers=len(store.dossiers))

    async def follow_switch(self) -> bool:
        """Load the generation a rebuild switched to, if any; True when it did."""
        async with self._pool.acquire() as conn:
            generation = await db.current_generation(conn)
            if generation is None or generation == self.generation:
                return False
            async with self._lock, conn.transaction():
                generation = await db.current_generation(conn, lock="FOR SHARE")
                if generation is not None and generation != self.generation:
                    await self._load(conn, generation)
                    return True
        return False

    async def handle(self, records: Sequence[Record]) -> None:
        """Decode, dead-letter the undecodable, apply and persist one batch (at least once)."""
        envelopes: list[tuple[Record, Envelope]] = []
        for record in records:
            try:
                envelopes.append((record, decode_record(record)))
            except EnvelopeError as exc:
                await self._dead_letter(record, exc)
        for attempt in range(self._max_retries + 1):
            try:
                await self._apply_and_save(records, envelopes)
                return
            except (asyncpg.PostgresError, OSError) as exc:
                if attempt == self._max_retries:
                    raise
                log.warning(
                    "projection_write_failed", attempt=attempt + 1, error=type(exc).__name__
                )
                # The facts in memory may hold part of the batch: reload them before retrying.
                self.generation = None
                await asyncio.sleep(min(0.1 * 2**attempt, 2.0))

    async def _apply_and_save(
        self, records: Sequence[Record], envelopes: list[tuple[Record, Envelope]]
    ) -> None:
        async with self._lock, self._pool.acquire() as conn, conn.transaction():
            generation = await db.current_generation(conn, lock="FOR SHARE")
            assert generation is not None, "start() first"
            if generation != self.generation:
                await self._load(conn, generation)
            for _, envelope in envelopes:
                apply(self.store, envelope)
            advanced = {}
            for record in records:
                tp = (record.topic, record.partition)
                if record.offset + 1 > self.positions.get(tp, 0):
                    self.positions[tp] = advanced[tp] = record.offset + 1
            await db.save(conn, generation, self.store, advanced)
        self.processed += len(records)
        self.last_processed_at = time.time()

    async def _dead_letter(self, record: Record, exc: EnvelopeError) -> None:
        log.warning(
            "event_undecodable",
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            reason=exc.reason,
        )
        await self._dead_letters.send(record, f"undecodable: {exc}")
        async with self._pool.acquire() as conn:
            await db.record_dead_letter(
                conn, record.topic, record.partition, record.offset, exc.reason
            )
