"""Idempotent Kafka consumer: decode, dispatch by type, record `ce_id` with the effects.

Each handled event runs in one PostgreSQL transaction that also inserts its `ce_id` into
`processed_events`; a redelivered event (a crash before the offset commit, a relay resend) finds
its id there and changes nothing. A record that cannot be decoded, or whose handler keeps
failing on its own content, goes to `<topic>.dlq` with the error in a header, and consumption
goes on. A failure of the infrastructure (PostgreSQL restarting, a dependency's 503) is not the
message's fault: it is retried, with back-off, until the infrastructure is back, and the record
is never dead-lettered for it (`shared.transient`).

A rebalance is ordinary Kafka life: when a commit fails because the group moved on (this member
was paused past its session, `CommitFailedError`), the consumer logs it and carries on; the next
fetch rejoins the group and resumes from the last committed offset, and the handlers are
idempotent, so the records processed since are simply seen again.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaError

from shared.db import Connection
from shared.envelope import Envelope, EnvelopeError, decode
from shared.logging import bound, get_logger
from shared.metrics import CONSUMED, CONSUMER_LAG
from shared.transient import backoff_s, is_transient
from shared.unit_of_work import unit_of_work

Handler = Callable[[Connection, Envelope], Awaitable[None]]
"""Applies one event inside the caller's transaction."""

DLQ_SUFFIX = ".dlq"
log = get_logger(__name__)


def dlq_topic(topic: str) -> str:
    return topic + DLQ_SUFFIX


Send = Callable[..., Awaitable[Any]]
"""`AIOKafkaProducer.send_and_wait`, or a callable taking the same arguments."""


async def park(
    send: Send, record: Any, *, consumer: str, error: str, backoff_cap_s: float = 5.0
) -> None:
    """Put `record` on its topic's `.dlq` with why and where from in headers.

    Retried with back-off until the broker takes it: a record must be parked before its
    offset may be committed (or its position stored), never skipped. Every consumer parks
    through here, the services' and reporting's.
    """
    headers = [
        *(record.headers or ()),
        ("bilan_error", error.encode("utf-8", "replace")),
        ("bilan_consumer", consumer.encode()),
        ("bilan_source_topic", record.topic.encode()),
        ("bilan_source_partition", str(record.partition).encode()),
        ("bilan_source_offset", str(record.offset).encode()),
    ]
    attempt = 0
    while True:
        try:
            await send(dlq_topic(record.topic), value=record.value, key=record.key, headers=headers)
            return
        except KafkaError as exc:
            log.warning("dead_letter_failed", attempt=attempt + 1, error=type(exc).__name__)
            await asyncio.sleep(backoff_s(attempt, cap_s=backoff_cap_s))
            attempt += 1


class IdempotentConsumer:
    """One service's consumer group over the topics it needs."""

    def __init__(
        self,
        *,
        name: str,
        pool: asyncpg.Pool,
        bootstrap_servers: str,
        topics: Iterable[str],
        handlers: Mapping[str, Handler],
        max_retries: int = 5,
        retry_backoff_s: float = 0.05,
        transient_backoff_cap_s: float = 5.0,
        fetch_max_wait_ms: int = 50,
        fetch_min_bytes: int = 64 * 1024,
        commit_interval_s: float = 1.0,
    ) -> None:
        self.name = name
        self._pool = pool
        self._bootstrap = bootstrap_servers
        self._topics = tuple(topics)
        self._handlers = dict(handlers)
        self._max_retries = max_retries
        self._retry_backoff_s = retry_backoff_s
        self._transient_backoff_cap_s = transient_backoff_cap_s
        # The broker holds a fetch until 64 KiB are there or 50 ms passed: under a trickle of
        # events that is one fetch per 50 ms instead of one per event (each costs a round trip
        # and its parsing on both sides), for at most 50 ms of added delay.
        self._fetch_max_wait_ms = fetch_max_wait_ms
        self._fetch_min_bytes = fetch_min_bytes
        # Offsets are committed at most this often: a redelivery after a crash is harmless
        # (processed_events), a commit per batch is a broker round trip per batch.
        self._commit_interval_s = commit_interval_s
        self._consumer: AIOKafkaConsumer | None = None
        self._dlq: AIOKafkaProducer | None = None
        self.lag: dict[tuple[str, int], int] = {}
        """Messages behind the end of each partition, from the last committed offset."""
        self._committed: dict[TopicPartition, int] = {}

    async def start(self) -> None:
        self._consumer = AIOKafkaConsumer(
            *self._topics,
            bootstrap_servers=self._bootstrap,
            group_id=self.name,
            client_id=self.name,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=500,
            fetch_max_wait_ms=self._fetch_max_wait_ms,
            fetch_min_bytes=self._fetch_min_bytes,
        )
        self._dlq = AIOKafkaProducer(
            bootstrap_servers=self._bootstrap,
            client_id=f"{self.name}-dlq",
            enable_idempotence=True,
            acks="all",
        )
        await self._dlq.start()
        await self._consumer.start()

    async def stop(self, *, commit: bool = True) -> None:
        """Stop; `commit=False` leaves offsets as a crash would (tests use it)."""
        if self._consumer is not None:
            if commit:
                with contextlib.suppress(Exception):
                    await self._consumer.commit()
            await self._consumer.stop()
            self._consumer = None
        if self._dlq is not None:
            await self._dlq.stop()
            self._dlq = None

    async def run(self) -> None:
        """Consume until cancelled; offsets are committed every `commit_interval_s` at most
        (and on stop)."""
        loop = asyncio.get_running_loop()
        last_commit = loop.time()
        pending = False
        while True:
            pending = bool(await self.consume_batch()) or pending
            if pending and loop.time() - last_commit >= self._commit_interval_s:
                await self.commit_or_rejoin()
                last_commit, pending = loop.time(), False

    async def commit_or_rejoin(self) -> bool:
        """Commit the offsets processed; False when the group moved on (it rejoins by itself)."""
        try:
            await self.commit()
            return True
        except (CommitFailedError, KafkaError) as exc:
            # The partitions may belong to another member now, or the coordinator moved: the
            # uncommitted records will be redelivered to whoever holds them (handlers are
            # idempotent), and this member's next fetch rejoins the group.
            log.warning("consumer_commit_failed", consumer=self.name, error=type(exc).__name__)
            return False

    async def consume_batch(self, timeout_ms: int = 500) -> int:
        """Fetch and process one batch (partitions in parallel, each in order)."""
        assert self._consumer is not None, "start() first"
        batches = await self._consumer.getmany(timeout_ms=timeout_ms, max_records=500)
        if not batches:
            return 0
        await asyncio.gather(*(self._process_partition(recs) for recs in batches.values()))
        for tp in batches:
            await self._record_lag(tp)
        return sum(len(records) for records in batches.values())

    async def commit(self) -> None:
        assert self._consumer is not None
        consumed = {tp: await self._consumer.position(tp) for tp in self._consumer.assignment()}
        await self._consumer.commit()
        # What is committed is what a restart resumes from: the lag is counted from it, not
        # from the highest offset fetched (a consumer that died would otherwise show lag 0).
        self._committed.update(consumed)

    async def _record_lag(self, tp: TopicPartition) -> None:
        assert self._consumer is not None
        if tp not in self._consumer.assignment():
            return  # revoked while its batch was processed: another member reports it now
        highwater = self._consumer.highwater(tp)
        if highwater is None:
            return
        position = self._committed.get(tp)
        if position is None:
            try:
                position = await self._consumer.position(tp)
            except IllegalStateError:
                return  # revoked during the call
        self.lag[(tp.topic, tp.partition)] = max(highwater - position, 0)
        CONSUMER_LAG.labels(self.name, tp.topic, str(tp.partition)).set(
            self.lag[(tp.topic, tp.partition)]
        )

    async def _process_partition(self, records: list[ConsumerRecord[Any, Any]]) -> None:
        for record in records:
            await self.process(record)

    async def process(self, record: ConsumerRecord[Any, Any]) -> str:
        """Handle one record; returns the outcome (handled, duplicate, ignored, dead_lettered)."""
        try:
            envelope = decode(record.key, record.value, list(record.headers or ()))
        except EnvelopeError as exc:
            log.warning(
                "event_undecodable",
                topic=record.topic,
                partition=record.partition,
                offset=record.offset,
                reason=exc.reason,
            )
            await self._dead_letter(record, f"undecodable: {exc}")
            return self._count("dead_lettered")
        handler = self._handlers.get(envelope.type)
        if handler is None:
            return self._count("ignored")
        with bound(
            correlation_id=envelope.correlation_id,
            causation_id=envelope.causation_id,
            event_id=str(envelope.id),
            event_type=envelope.type,
        ):
            return await self._handle_with_retries(record, envelope, handler)

    async def _handle_with_retries(
        self, record: ConsumerRecord[Any, Any], envelope: Envelope, handler: Handler
    ) -> str:
        error: Exception | None = None
        content_failures = 0
        transient_failures = 0
        while content_failures <= self._max_retries:
            try:
                async with unit_of_work(self._pool) as conn:
                    first_time = await conn.fetchval(
                        """INSERT INTO processed_events (consumer, event_id) VALUES ($1, $2)
                           ON CONFLICT DO NOTHING RETURNING true""",
                        self.name,
                        envelope.id,
                    )
                    if not first_time:
                        return self._count("duplicate")
                    await handler(conn, envelope)
                return self._count("handled")
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                error = exc
                if is_transient(exc):
                    # Not the message's fault: wait for the infrastructure, however long.
                    transient_failures += 1
                    log.warning(
                        "handler_waiting_for_infrastructure",
                        attempt=transient_failures,
                        error=type(exc).__name__,
                    )
                    await asyncio.sleep(
                        backoff_s(
                            transient_failures - 1,
                            base_s=self._retry_backoff_s,
                            cap_s=self._transient_backoff_cap_s,
                        )
                    )
                    continue
                content_failures += 1
                log.warning("handler_failed", attempt=content_failures, error=type(exc).__name__)
                await asyncio.sleep(min(self._retry_backoff_s * 2 ** (content_failures - 1), 2.0))
        assert error is not None
        detail = f"handler failed {self._max_retries + 1} times: {type(error).__name__}: {error}"
        await self._dead_letter(record, detail[:500])
        return self._count("dead_lettered")

    async def _dead_letter(self, record: ConsumerRecord[Any, Any], error: str) -> None:
        assert self._dlq is not None
        await park(
            self._dlq.send_and_wait,
            record,
            consumer=self.name,
            error=error,
            backoff_cap_s=self._transient_backoff_cap_s,
        )

    def _count(self, outcome: str) -> str:
        CONSUMED.labels(self.name, outcome).inc()
        return outcome
