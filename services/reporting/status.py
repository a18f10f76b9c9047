"""Consumer status: per partition, what the projection stored against what its group committed
and the end of the topic.

`stored` is the next offset whose facts are committed in PostgreSQL (the projection's own
positions table, as loaded and then advanced only after each batch's commit); `committed` is
the worker group's committed offset in Kafka; `lag` is the end of the topic minus `stored`.
A `committed` ahead of `stored` is a gap (the worker would skip records the projection never
stored): it is shown per partition and in `total_gap`, and the projector reads such records
back (`Projector.catch_up_to`, and before any batch that starts past its stored position).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from shared.metrics import CONSUMER_LAG

from .adapters import projection_db as db
from .adapters.kafka_topics import topic_partitions
from .indicators.stats import iso
from .projector import Projector


class StatusReader:
    """Reads end offsets with a group-less consumer and the group's committed offsets."""

    def __init__(
        self,
        projector: Projector,
        pool: asyncpg.Pool,
        bootstrap: str,
        topics: tuple[str, ...],
        consumer: str,
        worker_state: Callable[[], str] = lambda: "not running",
    ) -> None:
        self._consumer_name = consumer
        self._projector = projector
        self._pool = pool
        self._topics = topics
        self._bootstrap = bootstrap
        self._worker_state = worker_state
        self._partitions: list[TopicPartition] = []
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None
        )
        self._admin = AIOKafkaAdminClient(
            bootstrap_servers=bootstrap, client_id=f"{consumer}-status"
        )
        self._consumer_started = self._admin_started = False

    async def start(self) -> None:
        """Connect; may be called again after a failure (Kafka away at start)."""
        if not self._consumer_started:
            await self._consumer.start()
            self._consumer_started = True
        if not self._admin_started:
            await self._admin.start()
            self._admin_started = True

    async def stop(self) -> None:
        if self._consumer_started:
            await self._consumer.stop()
            self._consumer_started = False
        if self._admin_started:
            await self._admin.close()
            self._admin_started = False

    async def committed(self) -> db.Positions:
        """The worker group's committed offsets (none for a group that never committed)."""
        offsets = await self._admin.list_consumer_group_offsets(self._consumer_name)
        return {
            (tp.topic, tp.partition): meta.offset
            for tp, meta in offsets.items()
            if tp.topic in self._topics and meta.offset >= 0
        }

    async def read(self) -> dict[str, Any]:
        if not self._partitions:
            self._partitions = await topic_partitions(self._bootstrap, self._topics)
        partitions = self._partitions
        ends = await self._consumer.end_offsets(partitions) if partitions else {}
        committed = await self.committed()
        stored_positions = dict(self._projector.positions)
        rows = []
        for tp in partitions:
            key = (tp.topic, tp.partition)
            stored = stored_positions.get(key, 0)
            group = committed.get(key)
            end = ends.get(tp, 0)
            rows.append(
                {
                    "topic": tp.topic,
                    "partition": tp.partition,
                    "stored": stored,
                    "position": stored,
                    "committed": group,
                    "end_offset": end,
                    "lag": max(end - stored, 0),
                    "gap": max((group or 0) - stored, 0),
                }
            )
            # Exported as the command services' consumers do, for `bilan status` and alerts.
            CONSUMER_LAG.labels(self._consumer_name, tp.topic, str(tp.partition)).set(
                rows[-1]["lag"]
            )
        async with self._pool.acquire() as conn:
            dead = await db.dead_letter_counts(conn)
        return {
            "generation": self._projector.generation,
            "worker": self._worker_state(),
            "projection": self._projector.state,
            "partitions": rows,
            "total_lag": sum(r["lag"] for r in rows),
            "total_gap": sum(r["gap"] for r in rows),
            "gaps_filled": self._projector.gaps_filled,
            "last_event_at": iso(self._projector.store.last_event_at),
            "last_processed_at": iso(self._projector.last_processed_at),
            "events_processed": self._projector.processed,
            "dead_lettered": dead,
        }
