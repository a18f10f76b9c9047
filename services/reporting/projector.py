"""Applies batches of Kafka records to the projection in use, and persists them.

The worker layer (Faust, or the rebuild's plain consumer) only hands records over: decoding,
dead-lettering, applying and saving live here, so the streaming library can be swapped.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence
from typing import Any, Protocol

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError

from shared.consumer import park
from shared.envelope import Envelope, EnvelopeError, decode
from shared.logging import get_logger
from shared.transient import backoff_s, is_transient

from .adapters import projection_db as db
from .facts import FactStore, apply
from .indicators import QueryEngine

log = get_logger(__name__)


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
        self._started = False

    async def start(self) -> None:
        """Connect if Kafka answers; otherwise the first record to park connects it."""
        with contextlib.suppress(KafkaError):
            await self._connect()

    async def _connect(self) -> None:
        if not self._started:
            await self._producer.start()
            self._started = True

    async def stop(self) -> None:
        if self._started:
            await self._producer.stop()
            self._started = False

    async def send(self, record: Record, reason: str) -> None:
        await park(self._send, record, consumer="reporting", error=reason)

    async def _send(self, *args: Any, **kwargs: Any) -> Any:
        await self._connect()  # Kafka may have been away at start
        return await self._producer.send_and_wait(*args, **kwargs)


class GapReader(Protocol):
    async def read(self, topic: str, partition: int, start: int, stop: int) -> list[Any]:
        """The records of `[start, stop)` of a partition (fewer if the log starts later)."""
        ...


class KafkaGapReader:
    """Reads a range of a partition with a group-less consumer, outside the worker's group.

    The streaming worker resumes from the offsets its group committed. Should those ever be
    ahead of what the projection stored (an offset committed past a batch whose write failed,
    a projection restored from an older backup), the records in between would be skipped for
    good; the projector reads them back through this reader instead, so the projection always
    resumes from what it stored.
    """

    def __init__(self, bootstrap_servers: str, *, timeout_s: float = 30.0) -> None:
        self._bootstrap = bootstrap_servers
        self._timeout_s = timeout_s

    async def read(self, topic: str, partition: int, start: int, stop: int) -> list[Any]:
        tp = TopicPartition(topic, partition)
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap, group_id=None, enable_auto_commit=False
        )
        await consumer.start()
        try:
            consumer.assign([tp])
            first = (await consumer.beginning_offsets([tp]))[tp]
            consumer.seek(tp, max(start, first))
            records: list[Any] = []
            deadline = time.monotonic() + self._timeout_s
            while await consumer.position(tp) < stop:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"reading {topic}[{partition}] {start}..{stop}")
                batch = await consumer.getmany(tp, timeout_ms=500, max_records=1000)
                records.extend(r for r in batch.get(tp, []) if r.offset < stop)
            return records
        finally:
            await consumer.stop()


class Projector:
    """Holds the projection in use (facts in memory, persisted per batch) and its query engine.

    What it stores is the truth about where it is: `positions` are the next offsets *stored*
    with their facts, in the same transaction. So a batch is either stored whole with its
    positions or not at all, and `handle` returns only once it is stored. The worker
    acknowledges (and later commits) a batch only after `handle` returned, and while
    PostgreSQL is away `handle` waits and retries with back-off rather than raise: an offset is
    never committed past a fact not stored. Records the projection already holds (a redelivery)
    are skipped; records missing before a batch (a committed offset ahead of the stored
    position) are read back first through the gap reader.
    """

    def __init__(
        self,
        pool: asyncpg.Pool,
        dead_letters: DeadLetters,
        *,
        gap_reader: GapReader | None = None,
        backoff_cap_s: float = 5.0,
    ) -> None:
        self._pool = pool
        self._dead_letters = dead_letters
        self._gap_reader = gap_reader
        self._backoff_cap_s = backoff_cap_s
        self._lock = asyncio.Lock()
        self.generation: str | None = None
        self.store = FactStore()
        self.positions: db.Positions = {}
        """Next offset of each partition, as stored with the facts."""
        self.engine = QueryEngine(self.store)
        self.processed = 0
        self.last_processed_at: float | None = None
        self.state = "loading"
        """`loading`, `live`, or `waiting_for_database` while a batch waits to be stored."""
        self.gaps_filled = 0
        """Records read back because the worker's offsets were ahead of the stored ones."""

    async def start(self) -> None:
        """Load the current generation (made empty on the very first start)."""
        async with self._pool.acquire() as conn:
            generation = await db.ensure_generation(conn)
            async with self._lock:
                await self._load(conn, generation)
        self.state = "live"

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
        """Store one batch: returns only once its facts and positions are committed.

        Infrastructure failures (PostgreSQL down, Kafka away while reading a gap or parking
        a record) are waited out with back-off, however long; only a record that fails on
        its own content is dead-lettered.
        """
        attempt = 0
        while True:
            try:
                await self._store_batch(records)
                self.state = "live"
                return
            except Exception as exc:
                if not is_transient(exc):
                    raise
                if self.state != "waiting_for_database":
                    log.warning("projection_waiting_for_database", error=type(exc).__name__)
                self.state = "waiting_for_database"
                # The facts in memory may hold part of the batch: reload them before retrying.
                self.generation = None
                await asyncio.sleep(backoff_s(attempt, cap_s=self._backoff_cap_s))
                attempt += 1

    async def _store_batch(self, records: Sequence[Record]) -> None:
        async with self._lock, self._pool.acquire() as conn, conn.transaction():
            generation = await db.current_generation(conn, lock="FOR SHARE")
            assert generation is not None, "start() first"
            if generation != self.generation:
                await self._load(conn, generation)
            batch = await self._complete(records)
            advanced: db.Positions = {}
            for record in batch:
                envelope = await self._decode(conn, record)
                if envelope is not None:
                    await self._apply(conn, record, envelope)
                tp = (record.topic, record.partition)
                advanced[tp] = max(advanced.get(tp, 0), record.offset + 1)
            await db.save(conn, generation, self.store, advanced)
        # Only now, committed, do the positions move (a failed write leaves them as stored).
        self.positions.update(advanced)
        self.processed += len(batch)
        self.last_processed_at = time.time()

    async def _complete(self, records: Sequence[Record]) -> list[Record]:
        """The batch without what is stored already, preceded by any records missing."""
        by_partition: dict[tuple[str, int], list[Record]] = {}
        for record in records:
            tp = (record.topic, record.partition)
            if record.offset >= self.positions.get(tp, 0):
                by_partition.setdefault(tp, []).append(record)
        batch: list[Record] = []
        for tp, part in by_partition.items():
            part.sort(key=lambda r: r.offset)
            stored = self.positions.get(tp, 0)
            if part[0].offset > stored and self._gap_reader is not None:
                missing = await self._gap_reader.read(tp[0], tp[1], stored, part[0].offset)
                log.warning(
                    "projection_gap_filled",
                    topic=tp[0],
                    partition=tp[1],
                    stored=stored,
                    received=part[0].offset,
                    read_back=len(missing),
                )
                self.gaps_filled += len(missing)
                batch.extend(missing)
            batch.extend(part)
        return batch

    async def catch_up_to(self, committed: db.Positions) -> int:
        """Read back what lies between the stored positions and a group's committed offsets.

        Called at start with the worker group's committed offsets: the worker will resume
        from those, so anything before them that the projection does not hold is read now.
        """
        if self._gap_reader is None:
            return 0
        read = 0
        for (topic, partition), offset in sorted(committed.items()):
            stored = self.positions.get((topic, partition), 0)
            if offset > stored:
                missing = await self._gap_reader.read(topic, partition, stored, offset)
                if missing:
                    await self.handle(missing)
                    read += len(missing)
                    self.gaps_filled += len(missing)
        return read

    async def _decode(self, conn: Any, record: Record) -> Envelope | None:
        try:
            return decode_record(record)
        except EnvelopeError as exc:
            log.warning(
                "event_undecodable",
                topic=record.topic,
                partition=record.partition,
                offset=record.offset,
                reason=exc.reason,
            )
            await self._park(conn, record, f"undecodable: {exc}", exc.reason)
            return None

    async def _apply(self, conn: Any, record: Record, envelope: Envelope) -> None:
        try:
            apply(self.store, envelope)
        except Exception as exc:
            if is_transient(exc):
                raise
            # A fact that cannot be projected (a defect, found later and fixed) is parked
            # where `bilan dlq replay` finds it, rather than stop the projection for all.
            log.error(
                "event_not_projectable",
                topic=record.topic,
                partition=record.partition,
                offset=record.offset,
                error=type(exc).__name__,
            )
            reason = f"projection failed: {type(exc).__name__}"
            await self._park(conn, record, reason, reason)

    async def _park(self, conn: Any, record: Record, detail: str, reason: str) -> None:
        await self._dead_letters.send(record, detail)
        await db.record_dead_letter(conn, record.topic, record.partition, record.offset, reason)
