"""A survey service on the real stack for tests: fresh database, own consumer group started at
the end of the dossier topic (so other engineers' events do not flood it), a real SMTP server,
a fake contact resolver, a fake clock, and helpers to publish dossier events."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from email.message import Message
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from deploy.tokens import dev_token
from services.survey.api.deps import SurveyService
from services.survey.bootstrap import build_service
from services.survey.settings import SurveySettings
from shared import contracts as ct
from shared.clock import FakeClock
from shared.contracts.base import IntegrationEvent
from shared.envelope import encode
from shared.mail import Contact
from tests.integration.kafka_reading import end_offsets

DOSSIER_TOPIC = "bilan.dossier.events"
SURVEY_TOPIC = "bilan.survey.events"
SCHEDULING_TOPIC = "bilan.scheduling.events"
LINK = re.compile(r"http://survey\.test/public/surveys/(\S+)")


class Contacts:
    """The dossier service's contact endpoint, faked: only our dossiers have an address."""

    def __init__(self) -> None:
        self.known: dict[str, Contact] = {}

    async def __call__(self, ref: str) -> Contact | None:
        return self.known.get(ref)


async def start_group_at_end(bootstrap: str, group: str, topic: str) -> None:
    """Commit `group`'s offsets at the topic's end, so the service reads only what follows."""
    ends = await end_offsets(bootstrap, topic)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        consumer.assign(list(ends))
        await consumer.commit(dict(ends.items()))
    finally:
        await consumer.stop()


class Publisher:
    """Publishes dossier-service events as the dossier service would (contract envelope)."""

    def __init__(self, bootstrap: str) -> None:
        self._producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
        self._sequences: dict[str, int] = {}

    async def start(self) -> None:
        await self._producer.start()

    async def stop(self) -> None:
        await self._producer.stop()

    async def publish(
        self, event: IntegrationEvent, site_id: str, event_id: uuid.UUID | None = None
    ) -> uuid.UUID:
        subject = event.subject()
        sequence = self._sequences.get(subject, 0) + 1
        self._sequences[subject] = sequence
        event_id = event_id or uuid.uuid4()
        record = encode(
            event,
            event_id=event_id,
            sequence=sequence,
            site_id=site_id,
            correlation_id=str(uuid.uuid4()),
            causation_id=str(uuid.uuid4()),
        )
        await self._producer.send_and_wait(
            record.topic, key=record.key, value=record.value, headers=record.headers
        )
        return event_id

    async def complete_bilan(
        self,
        dossier: uuid.UUID,
        beneficiary: uuid.UUID,
        site: str,
        completed_at: datetime,
        *,
        funding_route: str = "employer_plan",
        held_minutes: int = 1380,
        opened_days_before: int = 50,
    ) -> None:
        """The dossier service's events of a bilan opened, then completed at `completed_at`."""
        await self.publish(
            ct.DossierOpened(
                dossier_id=dossier,
                beneficiary_id=beneficiary,
                site_id=uuid.UUID(site),
                funding_route=funding_route,
                enquiry_received_at=completed_at - timedelta(days=opened_days_before + 10),
                opened_at=completed_at - timedelta(days=opened_days_before),
            ),
            site,
        )
        await self.publish(
            ct.DossierCompleted(
                dossier_id=dossier, held_minutes=held_minutes, completed_at=completed_at
            ),
            site,
        )


def auth(roles: list[str], sites: list[str] | None = None) -> dict[str, str]:
    """A development bearer token header."""
    return {"Authorization": f"Bearer {dev_token(roles, sites or [])}"}


def link_token(message: Message) -> str:
    body = message.get_payload(decode=True)
    assert isinstance(body, bytes)
    found = LINK.search(body.decode())
    assert found, "the e-mail carries an answer link"
    return found.group(1)


async def eventually(
    check: Callable[[], Awaitable[bool]], timeout_s: float = 20.0, what: str = "condition"
) -> None:
    """Wait until `check()` holds."""
    try:
        async with asyncio.timeout(timeout_s):
            while not await check():
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None


class Harness:
    """Starts and restarts the service on one database with one clock."""

    def __init__(self, db_dsn: str, smtp_port: int, bootstrap: str, **overrides: Any) -> None:
        self.clock = FakeClock(datetime.fromisoformat("2026-03-02T09:00:00+00:00"))
        self.contacts = Contacts()
        self.group = f"test-survey-{uuid.uuid4().hex[:10]}"
        self.bootstrap = bootstrap
        settings: dict[str, Any] = {
            "database_url": db_dsn,
            "consumer_group": self.group,
            "relay_poll_interval_s": 0.05,
            "timer_poll_interval_s": 0.05,
            "mail_poll_interval_s": 0.05,
            "smtp_port": smtp_port,
            "public_answer_url": "http://survey.test/public/surveys/{token}",
        }
        self.settings = SurveySettings(**{**settings, **overrides})

    async def prepare(self) -> None:
        for topic in (DOSSIER_TOPIC, SCHEDULING_TOPIC):
            await start_group_at_end(self.bootstrap, self.group, topic)

    @asynccontextmanager
    async def running(self) -> AsyncIterator[tuple[httpx.AsyncClient, SurveyService]]:
        dev_token(["admin"])  # the development key pair exists before the app reads it
        app, service = build_service(
            self.settings, clock=self.clock, contact_resolver=self.contacts
        )
        await service.runtime.start()
        try:
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://survey.test"
            ) as client:
                yield client, service
        finally:
            await service.runtime.stop()
