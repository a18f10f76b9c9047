"""Fixtures shared by every test tier.

Integration tests run against the real local stack (`bilan stack up`): each test that needs a
database gets a fresh one cloned from a migrated template, and Kafka tests make throwaway
topics or filter the shared topics by their own ids.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg
import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from shared.db import PLATFORM_MIGRATIONS, create_pool, load_migrations, migrate

PG_HOST = "postgresql://bilan:bilan@127.0.0.1:5432"
KAFKA = "127.0.0.1:9092"
# One template per test session (the pid keeps parallel sessions, e.g. two work trees, apart).
TEMPLATE_DB = f"bilan_test_template_{os.getpid()}"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/integration/" in str(item.path):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def kafka_bootstrap() -> str:
    return KAFKA


@pytest.fixture(scope="session")
async def template_db() -> AsyncIterator[str]:
    """A database with the platform migrations, made once per test session."""
    admin = await asyncpg.connect(f"{PG_HOST}/postgres")
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {TEMPLATE_DB} WITH (FORCE)")
        await admin.execute(f"CREATE DATABASE {TEMPLATE_DB}")
    finally:
        await admin.close()
    await migrate(f"{PG_HOST}/{TEMPLATE_DB}", load_migrations(PLATFORM_MIGRATIONS))
    yield TEMPLATE_DB
    admin = await asyncpg.connect(f"{PG_HOST}/postgres")
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {TEMPLATE_DB} WITH (FORCE)")
    finally:
        await admin.close()


@pytest.fixture
async def db_dsn(template_db: str) -> AsyncIterator[str]:
    """A fresh, migrated database for one test, dropped afterwards."""
    name = f"bilan_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(f"{PG_HOST}/postgres")
    try:
        await admin.execute(f"CREATE DATABASE {name} TEMPLATE {template_db}")
        yield f"{PG_HOST}/{name}"
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        await admin.close()


@pytest.fixture
async def pool(db_dsn: str) -> AsyncIterator[asyncpg.Pool]:
    created = await create_pool(db_dsn, min_size=2, max_size=40)
    try:
        yield created
    finally:
        await created.close()


@pytest.fixture
async def new_topic(kafka_bootstrap: str) -> AsyncIterator[Callable[..., Awaitable[str]]]:
    """Makes throwaway topics (with their `.dlq`), deleted after the test."""
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    made: list[str] = []

    async def make(partitions: int = 3) -> str:
        name = f"test.{uuid.uuid4().hex[:12]}.events"
        topics = [
            NewTopic(name, num_partitions=partitions, replication_factor=1),
            NewTopic(name + ".dlq", num_partitions=1, replication_factor=1),
        ]
        await admin.create_topics(topics)
        made.extend(t.name for t in topics)
        return name

    try:
        yield make
    finally:
        if made:
            await admin.delete_topics(made)
        await admin.close()
