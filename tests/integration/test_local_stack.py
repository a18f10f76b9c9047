"""The native local stack really serves Kafka and PostgreSQL as the services expect.

Run `bilan stack up` first; these tests talk to 127.0.0.1:9092 and 127.0.0.1:5432.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import (
    ConfigResource,
    ConfigResourceType,
)

from deploy.local import kafka_broker, postgres, stack
from deploy.local.topics import TOPICS

pytestmark = pytest.mark.integration

BOOTSTRAP = kafka_broker.BOOTSTRAP


def test_second_up_is_a_no_op(capsys: pytest.CaptureFixture[str]) -> None:
    stack.up()
    capsys.readouterr()

    stack.up()

    out = capsys.readouterr().out
    assert "postgresql: already running" in out
    assert "kafka: already running" in out
    assert f"topics: all {len(TOPICS)} present" in out


def test_status_reports_everything_running(capsys: pytest.CaptureFixture[str]) -> None:
    assert stack.status() is True
    out = capsys.readouterr().out
    assert f"{kafka_broker.BOOTSTRAP}" in out
    assert f"{postgres.HOST}:{postgres.PORT}" in out


@contextlib.asynccontextmanager
async def _admin() -> AsyncIterator[AIOKafkaAdminClient]:
    admin = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP)
    await admin.start()
    try:
        yield admin
    finally:
        await admin.close()


@pytest.mark.asyncio
async def test_topics_exist_with_partitions_and_unlimited_retention() -> None:
    async with _admin() as admin:
        described = await admin.describe_topics([spec.name for spec in TOPICS])
        partitions = {topic["topic"]: len(topic["partitions"]) for topic in described}
        assert partitions == {spec.name: spec.partitions for spec in TOPICS}

        responses = await admin.describe_configs(
            [
                ConfigResource(
                    ConfigResourceType.TOPIC, spec.name, dict.fromkeys(spec.config_dict())
                )
                for spec in TOPICS
            ]
        )
        configs = {
            resource["resource_name"]: {
                entry["config_names"]: entry["config_value"] for entry in resource["config_entries"]
            }
            for response in responses
            for resource in response.to_object()["resources"]
        }
        for spec in TOPICS:
            assert configs[spec.name]["retention.ms"] == "-1", spec.name
            assert configs[spec.name]["retention.bytes"] == "-1", spec.name


@pytest.mark.asyncio
async def test_idempotent_produce_is_consumed_back() -> None:
    topic = f"bilan.test.roundtrip.{uuid.uuid4().hex}"
    async with _admin() as admin:
        response = await admin.create_topics([NewTopic(topic, 3, 1)])
        assert [error[1] for error in response.topic_errors] == [0]
        try:
            producer = AIOKafkaProducer(
                bootstrap_servers=BOOTSTRAP, acks="all", enable_idempotence=True
            )
            await producer.start()
            try:
                sent = await producer.send_and_wait(topic, b"bonjour", key=b"dossier-1")
            finally:
                await producer.stop()

            consumer = AIOKafkaConsumer(
                topic,
                bootstrap_servers=BOOTSTRAP,
                group_id=f"test-{uuid.uuid4().hex}",
                auto_offset_reset="earliest",
                enable_auto_commit=False,
            )
            await consumer.start()
            try:
                batches = await consumer.getmany(timeout_ms=30_000, max_records=1)
            finally:
                await consumer.stop()
        finally:
            await admin.delete_topics([topic])

    records = [record for batch in batches.values() for record in batch]
    assert [(r.key, r.value, r.partition, r.offset) for r in records] == [
        (b"dossier-1", b"bonjour", sent.partition, sent.offset)
    ]


@pytest.mark.asyncio
@pytest.mark.parametrize("database", postgres.DATABASES)
async def test_database_accepts_the_bilan_role(database: str) -> None:
    connection = await asyncpg.connect(
        host=postgres.HOST,
        port=postgres.PORT,
        user=postgres.ROLE,
        password=postgres.PASSWORD,
        database=database,
    )
    try:
        row = await connection.fetchrow(
            "SELECT current_database() AS db, pg_get_userbyid(datdba) AS owner,"
            " current_setting('fsync') AS fsync,"
            " current_setting('synchronous_commit') AS synchronous_commit"
            " FROM pg_database WHERE datname = current_database()"
        )
    finally:
        await connection.close()
    assert row is not None
    assert dict(row) == {
        "db": database,
        "owner": postgres.ROLE,
        "fsync": "on",
        "synchronous_commit": "on",
    }
