"""Consumer status: per partition, the projection's position against the end of the topic."""

from __future__ import annotations

from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition

from shared.metrics import CONSUMER_LAG

from .adapters import projection_db as db
from .adapters.kafka_topics import topic_partitions
from .indicators.stats import iso
from .projector import Projector


class StatusReader:
    """Reads end offsets with a group-less consumer; positions come from the projector."""

    def __init__(
        self,
        projector: Projector,
        pool: asyncpg.Pool,
        bootstrap: str,
        topics: tuple[str, ...],
        consumer: str,
    ) -> None:
        self._consumer_name = consumer
        self._projector = projector
        self._pool = pool
        self._topics = topics
        self._bootstrap = bootstrap
        self._partitions: list[TopicPartition] = []
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None
        )

    async def start(self) -> None:
        await self._consumer.start()

    async def stop(self) -> None:
        await self._consumer.stop()

    async def read(self) -> dict[str, Any]:
        if not self._partitions:
            self._partitions = await topic_partitions(self._bootstrap, self._topics)
        partitions = self._partitions
        ends = await self._consumer.end_offsets(partitions) if partitions else {}
        rows = []
        for tp in partitions:
            position = self._projector.positions.get((tp.topic, tp.partition), 0)
            end = ends.get(tp, 0)
            rows.append(
                {
                    "topic": tp.topic,
                    "partition": tp.partition,
                    "position": position,
                    "end_offset": end,
                    "lag": max(end - position, 0),
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
            "partitions": rows,
            "total_lag": sum(r["lag"] for r in rows),
            "last_event_at": iso(self._projector.store.last_event_at),
            "last_processed_at": iso(self._projector.last_processed_at),
            "events_processed": self._projector.processed,
            "dead_lettered": dead,
        }
