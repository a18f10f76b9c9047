"""The streaming workers: each hands batches of records of the three topics to the projector.

Kept thin on purpose (architecture.md): the logic is tested without a broker, and the engine
is a setting. `faust` (the default) is a Faust-streaming agent; `aiokafka` is a plain consumer
group loop, about 2.6 times faster on a backlog because it skips Faust's per-message stream
machinery (see the README's known limits and bench/README.md).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, Protocol

import faust
from aiokafka import AIOKafkaConsumer
from aiokafka.errors import KafkaError

from shared.logging import get_logger

from .batched_fetch import BatchedFetchTransport
from .projector import Projector
from .settings import Settings

log = get_logger(__name__)


def create_worker(settings: Settings, projector: Projector) -> faust.App:
    """A Faust app (not started) whose agent projects every record of the topics."""
    app = faust.App(
        settings.group,
        broker=f"kafka://{settings.kafka_bootstrap_servers}",
        store="memory://",
        # Faust creates its data directory at start, by default in the working directory,
        # which the service's image does not let it write.
        datadir=settings.faust_data_dir,
        web_enabled=False,
        # No leader election, tables or changelogs: the projection lives in PostgreSQL.
        topic_disable_leader=True,
        consumer_auto_offset_reset="earliest",
        autodiscover=False,
        loop=asyncio.get_running_loop(),
    )
    app.transport = BatchedFetchTransport(
        app.conf.broker_consumer, app, fetch_max_wait_ms=int(settings.batch_within_s * 1000)
    )
    topics = app.topic(*settings.topics, key_serializer="raw", value_serializer="raw")

    @app.agent(topics)
    async def project(stream: Any) -> None:
        # Events of a batch are acknowledged only after the body returns, that is after the
        # projector committed them: a crash redelivers, and facts are idempotent.
        async for events in stream.take_events(settings.batch_size, within=settings.batch_within_s):
            await projector.handle([event.message for event in events])

    return app


class Worker(Protocol):
    async def start(self) -> None: ...
    async def stop(self) -> None: ...


class ConsumerGroupWorker:
    """A plain aiokafka consumer group: fetch a batch, project it, commit its offsets."""

    def __init__(self, settings: Settings, projector: Projector) -> None:
        self._settings = settings
        self._projector = projector
        self._consumer = AIOKafkaConsumer(
            *settings.topics,
            bootstrap_servers=settings.kafka_bootstrap_servers,
            group_id=settings.group,
            client_id=settings.group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_partition_fetch_bytes=8 * 1024 * 1024,
        )
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self._consumer.start()
        self._task = asyncio.create_task(self._run(), name="reporting-consumer")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._consumer.stop()

    async def _run(self) -> None:
        wait_ms = int(self._settings.batch_within_s * 1000)
        while True:
            batches = await self._consumer.getmany(
                timeout_ms=wait_ms, max_records=self._settings.batch_size
            )
            records = [record for part in batches.values() for record in part]
            if records:
                # handle() returns only once the batch is stored: committing after it never
                # commits past a fact not stored.
                await self._projector.handle(records)
                try:
                    await self._consumer.commit()
                except KafkaError as exc:
                    # A rebalance moved the partitions on: the next fetch rejoins, and the
                    # records since the last commit come again (the projector skips them).
                    log.warning("consumer_commit_failed", error=type(exc).__name__)


def create_engine(settings: Settings, projector: Projector) -> Worker:
    """The worker named by `settings.worker_engine` (not started)."""
    if settings.worker_engine == "aiokafka":
        return ConsumerGroupWorker(settings, projector)
    app: Worker = create_worker(settings, projector)
    return app
