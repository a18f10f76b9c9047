"""Where personal data could hide after an erasure: every relation file of each service's
database as stored on disk, and every message of every topic (the events and their DLQs)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from pathlib import Path

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition

from tests.integration.kafka_reading import end_offsets

PG = "postgresql://bilan:bilan@127.0.0.1:5432"
DATABASES = ("bilan_dossier", "bilan_scheduling", "bilan_survey", "bilan_reporting")
EVENT_TOPICS = ("bilan.dossier.events", "bilan.scheduling.events", "bilan.survey.events")
TOPICS = EVENT_TOPICS + tuple(f"{t}.dlq" for t in EVENT_TOPICS)


async def database_exists(name: str) -> bool:
    conn = await asyncpg.connect(f"{PG}/postgres")
    try:
        return bool(await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name))
    finally:
        await conn.close()


async def found_in_database(database: str, needles: Iterable[bytes]) -> list[str]:
    """`relation: needle` for every needle found in the database's relation files (tables,
    TOAST tables, indexes, materialised views), read from disk after a CHECKPOINT."""
    conn = await asyncpg.connect(f"{PG}/{database}")
    try:
        await conn.execute("CHECKPOINT")
        data_dir = Path(await conn.fetchval("SHOW data_directory"))
        rows = await conn.fetch(
            """SELECT c.relname, pg_relation_filepath(c.oid) AS path FROM pg_class c
               WHERE c.relkind IN ('r', 't', 'i', 'm') AND c.relpersistence <> 't'
                 AND pg_relation_filepath(c.oid) IS NOT NULL
                 AND c.relnamespace NOT IN (SELECT oid FROM pg_namespace
                                            WHERE nspname IN ('pg_catalog',
                                                              'information_schema'))"""
        )
    finally:
        await conn.close()
    assert rows, f"no relation of {database} was found"
    wanted = list(needles)
    found: list[str] = []
    for row in rows:
        # The main fork and its 1 GB segments (`<node>`, `<node>.1`…); the free-space and
        # visibility maps (`_fsm`, `_vm`) hold no tuples.
        main = data_dir / row["path"]
        for segment in [main, *sorted(main.parent.glob(main.name + ".*"))]:
            if not segment.exists():
                continue
            content = segment.read_bytes()
            found.extend(f"{row['relname']}: {n!r}" for n in wanted if n in content)
    return found


async def found_in_topics(
    bootstrap: str, needles: Iterable[bytes], about: bytes
) -> tuple[list[str], list[str]]:
    """Every needle found in any message (key, headers, value) of every topic, up to the end
    offsets taken when the scan starts; and the `ce_type` of each message mentioning `about`
    (an id), in the order read."""
    wanted = list(needles)
    types: list[str] = []
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, max_partition_fetch_bytes=8 << 20
    )
    await consumer.start()
    found: list[str] = []
    try:
        ends: dict[TopicPartition, int] = {}
        for topic in TOPICS:
            ends.update(await end_offsets(bootstrap, topic))
        partitions = list(ends)
        starts = await consumer.beginning_offsets(partitions)
        todo = {tp for tp in partitions if ends[tp] > starts[tp]}
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        async with asyncio.timeout(120):
            while todo:
                batches = await consumer.getmany(timeout_ms=1000, max_records=5000)
                for tp, records in batches.items():
                    for record in records:
                        blob = b"".join(
                            [
                                record.key or b"",
                                record.value or b"",
                                *(value for _, value in record.headers),
                            ]
                        )
                        found.extend(
                            f"{tp.topic}@{record.offset}: {n!r}" for n in wanted if n in blob
                        )
                        if about in blob:
                            types.extend(v.decode() for k, v in record.headers if k == "ce_type")
                    if records and records[-1].offset + 1 >= ends[tp]:
                        todo.discard(tp)
    finally:
        await consumer.stop()
    return found, types
