"""The scheduling service over HTTP with real PostgreSQL, Kafka and (when asked) SMTP, plus
the dossier service's side of the contract, played by producing its events to Kafka."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer
from fastapi import FastAPI

from deploy.tokens import dev_token
from services.scheduling.bootstrap import create_app
from services.scheduling.settings import Settings
from shared.clock import FakeClock
from shared.contracts import dossier as d
from shared.contracts.base import IntegrationEvent
from shared.envelope import Envelope, encode
from shared.mail import Contact
from shared.runtime import ServiceRuntime
from tests.integration.kafka_reading import end_offsets, read_envelopes
from tests.integration.survey.harness import start_group_at_end

SCHEDULING_TOPIC = "bilan.scheduling.events"
DOSSIER_TOPIC = "bilan.dossier.events"


def auth(roles: list[str], sites: list[str], subject: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {dev_token(roles, sites, subject=subject)}"}


def if_match(version: int) -> dict[str, str]:
    return {"If-Match": f'"{version}"'}


class DossierService:
    """Plays the dossier service: its events, with per-dossier sequences, onto its topic."""

    def __init__(self, bootstrap: str) -> None:
        self._bootstrap = bootstrap
        self._sequences: dict[str, int] = {}

    async def publish(self, *events: IntegrationEvent) -> None:
        producer = AIOKafkaProducer(
            bootstrap_servers=self._bootstrap, enable_idempotence=True, acks="all"
        )
        await producer.start()
        try:
            for event in events:
                subject = event.subject()
                self._sequences[subject] = self._sequences.get(subject, 0) + 1
                record = encode(
                    event,
                    event_id=uuid.uuid4(),
                    sequence=self._sequences[subject],
                    site_id=str(getattr(event, "site_id", None) or "org"),
                    correlation_id=str(uuid.uuid4()),
                    causation_id=str(uuid.uuid4()),
                )
                await producer.send_and_wait(
                    record.topic, value=record.value, key=record.key, headers=list(record.headers)
                )
        finally:
            await producer.stop()

    async def open(
        self, dossier_id: uuid.UUID, beneficiary_id: uuid.UUID, site_id: str, at: datetime
    ) -> None:
        await self.publish(
            d.DossierOpened(
                dossier_id=dossier_id,
                beneficiary_id=beneficiary_id,
                site_id=uuid.UUID(site_id),
                funding_route="cpf",
                enquiry_received_at=at - timedelta(days=3),
                opened_at=at,
            )
        )

    async def assign_referent(
        self, dossier_id: uuid.UUID, consultant_id: str, at: datetime
    ) -> None:
        await self.publish(
            d.ReferentConsultantAssigned(
                dossier_id=dossier_id,
                consultant_id=uuid.UUID(consultant_id),
                previous_consultant_id=None,
                reason="initial",
                assigned_at=at,
            )
        )

    async def sign_convention(self, dossier_id: uuid.UUID, at: datetime) -> None:
        await self.publish(
            d.ConventionSigned(dossier_id=dossier_id, convention_id=uuid.uuid4(), signed_at=at)
        )


@dataclass
class Running:
    client: httpx.AsyncClient
    app: FastAPI
    clock: FakeClock

    @property
    def runtime(self) -> ServiceRuntime:
        runtime: ServiceRuntime = self.app.state.runtime
        return runtime


@dataclass
class Harness:
    """Starts (and restarts) the service on one database with one fake clock."""

    db_dsn: str
    kafka_bootstrap: str
    clock: FakeClock = field(default_factory=FakeClock)
    group: str = field(default_factory=lambda: f"test-scheduling-{uuid.uuid4().hex[:12]}")
    smtp_port: int = 8025
    contacts: dict[str, Contact] = field(default_factory=dict)
    overrides: dict[str, Any] = field(default_factory=dict)
    """Settings a test changes."""
    _positioned: bool = False

    def settings(self) -> Settings:
        return Settings(
            database_url=self.db_dsn,
            consumer_group=self.group,
            relay_poll_interval_s=0.05,
            timer_poll_interval_s=0.05,
            mail_poll_interval_s=0.05,
            smtp_port=self.smtp_port,
            **self.overrides,
        )

    async def _resolve(self, ref: str) -> Contact | None:
        return self.contacts.get(ref)

    @asynccontextmanager
    async def running(self) -> AsyncIterator[Running]:
        dev_token(["admin"])  # makes sure the development key pair exists
        if not self._positioned:
            # A new group would read the whole shared dossier topic first (everyone's events,
            # hundreds of thousands on a busy machine): start it where the topic ends now.
            await start_group_at_end(self.kafka_bootstrap, self.group, "bilan.dossier.events")
            self._positioned = True
        app = create_app(self.settings(), clock=self.clock, contact_resolver=self._resolve)
        runtime: ServiceRuntime = app.state.runtime
        await runtime.start()
        try:
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://scheduling"
            ) as client:
                yield Running(client, app, self.clock)
        finally:
            await runtime.stop()


async def eventually(
    check: Callable[[], Awaitable[Any]], *, timeout_s: float = 30.0, interval_s: float = 0.1
) -> Any:
    """The first truthy result of `check`, polled until the timeout."""
    async with asyncio.timeout(timeout_s):
        while True:
            result = await check()
            if result:
                return result
            await asyncio.sleep(interval_s)


async def scheduling_offsets(bootstrap: str) -> Any:
    return await end_offsets(bootstrap, SCHEDULING_TOPIC)


async def published(
    bootstrap: str, start: Any, subjects: set[str], count: int, timeout_s: float = 30
) -> list[Envelope]:
    """The scheduling events about `subjects` published after `start`, once `count` arrived.

    A relay stopped between the broker's acknowledgement and its bookkeeping publishes again
    (at least once, de-duplicated by `ce_id` as events.md rule 1 says): copies are dropped.
    """
    received = await read_envelopes(
        bootstrap,
        start,
        keep=lambda e: e.subject in subjects,
        done=lambda got: len({e.id for e in got}) >= count,
        timeout_s=timeout_s,
    )
    unique: dict[uuid.UUID, Envelope] = {}
    for envelope in received:
        unique.setdefault(envelope.id, envelope)
    return list(unique.values())


async def setup_site(client: httpx.AsyncClient, *, confidential: bool = True) -> tuple[str, str]:
    """A new site with one room; returns (site_id, room_id)."""
    site = await client.post(
        "/sites", json={"name": "Lyon Part-Dieu", "region": "ara"}, headers=auth(["admin"], ["*"])
    )
    assert site.status_code == 201, site.text
    site_id = site.json()["site_id"]
    room = await client.post(
        f"/sites/{site_id}/rooms",
        json={"name": "B12", "confidential": confidential},
        headers=auth(["site_manager"], [site_id]),
    )
    assert room.status_code == 201, room.text
    return site_id, room.json()["room_id"]


async def onboard(
    client: httpx.AsyncClient,
    site_id: str,
    *,
    roles: list[str] | None = None,
    name: str = "Claire Dubois",
    email: str | None = None,
) -> str:
    staff_id = str(uuid.uuid4())
    response = await client.post(
        "/staff",
        json={
            "staff_id": staff_id,
            "name": name,
            "roles": roles or ["consultant"],
            "site_ids": [site_id],
            "contract": "employee",
            **({"email": email} if email is not None else {}),
        },
        headers=auth(["site_manager"], [site_id]),
    )
    assert response.status_code == 201, response.text
    return staff_id
