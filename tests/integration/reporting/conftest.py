"""A running reporting service (worker + API) on a fresh database, and a contract producer."""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from deploy.tokens import dev_token
from services.reporting.bootstrap import ReportingService, create_app
from services.reporting.settings import Settings
from shared.contracts import IntegrationEvent
from shared.envelope import encode


@dataclass
class Running:
    client: httpx.AsyncClient
    service: ReportingService
    settings: Settings


def auth(roles: list[str], sites: list[str] | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {dev_token(roles, sites or [])}"}


_FAUST_DIRS = tempfile.TemporaryDirectory(prefix="bilan-test-faust-")
"""Faust's (empty) data directories of the tests' workers, removed when the session ends."""


def make_settings(db_dsn: str, kafka_bootstrap: str, **overrides: Any) -> Settings:
    group = f"test-reporting-{uuid.uuid4().hex[:10]}"
    return Settings(
        database_url=db_dsn,
        kafka_bootstrap_servers=kafka_bootstrap,
        consumer_group=group,
        worker_data_dir=Path(_FAUST_DIRS.name) / group,
        batch_within_s=0.05,
        generation_poll_interval_s=0.2,
        **overrides,
    )


@pytest.fixture
def start_reporting() -> Callable[[Settings], Any]:
    """`async with start_reporting(settings) as running:` a live service and its client."""
    import contextlib

    @contextlib.asynccontextmanager
    async def start(settings: Settings) -> AsyncIterator[Running]:
        dev_token(["admin"])  # makes sure the development key pair exists
        app = create_app(settings)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://reporting"
            ) as client,
        ):
            yield Running(client, app.state.service, settings)

    return start


class Producer:
    """Publishes contract events as the services would (CloudEvents headers, keys)."""

    def __init__(self, bootstrap: str) -> None:
        self._producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap, enable_idempotence=True, acks="all"
        )
        self._sequences: dict[str, int] = defaultdict(int)
        self.routes: dict[str, str] = {}
        """Service name -> topic, to publish to throwaway topics instead of the contract's."""

    async def start(self) -> None:
        await self._producer.start()

    async def stop(self) -> None:
        await self._producer.stop()

    async def publish(
        self,
        event: IntegrationEvent,
        *,
        site: str = "org",
        topic: str | None = None,
        event_id: uuid.UUID | None = None,
    ) -> uuid.UUID:
        subject = event.subject()
        if event_id is None:
            self._sequences[subject] += 1
        record = encode(
            event,
            event_id=event_id or uuid.uuid4(),
            sequence=max(self._sequences[subject], 1),
            site_id=site,
            correlation_id=str(uuid.uuid4()),
            causation_id=str(uuid.uuid4()),
        )
        await self._producer.send_and_wait(
            topic or self.routes.get(event.service, record.topic),
            key=record.key,
            value=record.value,
            headers=record.headers,
        )
        return uuid.UUID(dict(record.headers)["ce_id"].decode())

    async def send_raw(self, topic: str, key: bytes, value: bytes, headers: list[Any]) -> None:
        await self._producer.send_and_wait(topic, key=key, value=value, headers=headers)


@pytest.fixture
async def producer(kafka_bootstrap: str) -> AsyncIterator[Producer]:
    made = Producer(kafka_bootstrap)
    await made.start()
    try:
        yield made
    finally:
        await made.stop()


async def eventually(
    check: Callable[[], Awaitable[bool]], timeout_s: float = 240.0, every_s: float = 0.2
) -> None:
    """Wait until `check()` holds (the worker is asynchronous)."""
    async with asyncio.timeout(timeout_s):
        while not await check():
            await asyncio.sleep(every_s)
