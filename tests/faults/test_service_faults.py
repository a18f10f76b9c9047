"""A command service when its database or its broker goes away.

- PostgreSQL down: a command answers 503 with `Retry-After` (it was a 500), and the retry
  with the same `Idempotency-Key` once the database is back creates the dossier once.
- Kafka down: `/readyz` stays 200 (it answered 503 for the whole outage, which in Kubernetes
  takes every pod out of its Service although commands keep working through the outbox);
  a command is accepted meanwhile and its event reaches Kafka once the broker is back.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from aiokafka import TopicPartition

from deploy.local import kafka_admin
from deploy.local.topics import TOPICS
from deploy.tokens import dev_token
from shared.clock import FakeClock
from tests.integration.harness import DOSSIER, ServiceHarness
from tests.integration.kafka_reading import read_envelopes

from .instances import PrivateKafka, PrivatePostgres

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SITE = str(uuid.uuid4())


@asynccontextmanager
async def dossier_service(dsn: str, bootstrap: str) -> AsyncIterator[httpx.AsyncClient]:
    async with ServiceHarness(DOSSIER, dsn, bootstrap, clock=FakeClock(NOW)).running() as running:
        yield running.client


def _manager() -> dict[str, str]:
    return {"Authorization": f"Bearer {dev_token(['site_manager'], [SITE])}"}


def _opening() -> dict[str, Any]:
    return {
        "site_id": SITE,
        "funding_route": "cpf",
        "enquiry_received_at": (NOW - timedelta(days=1)).isoformat(),
        "name": "Alix Test",
        "email": "alix.test@example.org",
    }


async def test_a_database_outage_answers_503_and_the_keyed_retry_creates_once(
    private_pg: PrivatePostgres, kafka_bootstrap: str
) -> None:
    dsn = await private_pg.create_database("bilan_dossier")
    async with dossier_service(dsn, kafka_bootstrap) as client:
        headers = {**_manager(), "Idempotency-Key": "open-alix-1"}
        private_pg.crash()
        refused = await client.post("/dossiers", json=_opening(), headers=headers)
        assert refused.status_code == 503, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["code"] == "service_unavailable"
        assert int(refused.headers["retry-after"]) > 0
        ready = await client.get("/readyz")
        assert ready.status_code == 503  # without its database it cannot serve
        private_pg.start()
        created = await _retry(lambda: client.post("/dossiers", json=_opening(), headers=headers))
        assert created.status_code == 201, created.text
        again = await client.post("/dossiers", json=_opening(), headers=headers)
        assert again.json()["id"] == created.json()["id"]
        listed = await client.get("/dossiers", headers=_manager())
        assert [d["dossier_id"] for d in listed.json()] == [created.json()["id"]]


async def _retry(call: Callable[[], Any], attempts: int = 40) -> httpx.Response:
    """What a client does with 503 + Retry-After (shortened here)."""
    for _ in range(attempts):
        response: httpx.Response = await call()
        if response.status_code != 503:
            return response
        await asyncio.sleep(0.5)
    return response


async def test_readiness_and_commands_survive_a_kafka_outage(
    private_kafka: PrivateKafka, db_dsn: str
) -> None:
    await asyncio.to_thread(kafka_admin.create_missing, private_kafka.bootstrap, TOPICS)
    async with dossier_service(db_dsn, private_kafka.bootstrap) as client:
        assert (await client.get("/readyz")).status_code == 200
        private_kafka.kill()
        ready = await client.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["dependencies"]["kafka"].startswith("unavailable")
        assert (await client.get("/healthz")).status_code == 200
        created = await client.post("/dossiers", json=_opening(), headers=_manager())
        assert created.status_code == 201, created.text
        dossier = created.json()["id"]
        await asyncio.to_thread(private_kafka.start)
        start = {TopicPartition("bilan.dossier.events", p): 0 for p in range(_partitions())}
        found = await read_envelopes(
            private_kafka.bootstrap,
            start,
            keep=lambda e: e.subject == dossier,
            done=lambda kept: len(kept) >= 1,
            timeout_s=90,
        )
        assert [e.type for e in found] == ["bilan.dossier.DossierOpened.v1"]


def _partitions() -> int:
    return next(t.partitions for t in TOPICS if t.name == "bilan.dossier.events")
