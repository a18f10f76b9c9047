"""One harness for the command services (dossier, scheduling, survey) on the real stack.

`ServiceHarness(spec, db_dsn, kafka_bootstrap)` starts a service's real app, through its
lifespan, on the test's own fresh database, against the shared PostgreSQL and Kafka, with a
fake clock, fast polling loops and a fake contact resolver; `running()` gives a `Running`
(an HTTP client on the app, the app, its runtime and the service's parts). It may be started
again on the same database and clock, as a restarted process would be. The specs of the three
services are `DOSSIER`, `SCHEDULING` and `SURVEY`; each test directory adds only what is about
its own service (`tests/integration/<service>/harness.py`).

Kafka's topics are shared with every other test (and other work trees' test sessions): the
service's consumer group is new per harness and positioned at the end of the topics it reads
before it starts, a publisher plays the other services with fresh ids, and the helpers here
read back from offsets taken before acting.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Generic, Protocol, TypeVar

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from fastapi import FastAPI
from pydantic_settings import BaseSettings

from deploy.tokens import dev_token
from services.dossier.api.deps import DossierService
from services.dossier.bootstrap import create_app as create_dossier_app
from services.dossier.settings import Settings as DossierSettings
from services.scheduling.api.deps import SchedulingService
from services.scheduling.bootstrap import create_app as create_scheduling_app
from services.scheduling.settings import Settings as SchedulingSettings
from services.survey.api.deps import SurveyService
from services.survey.bootstrap import build_service as build_survey_service
from services.survey.settings import SurveySettings
from shared.clock import Clock, FakeClock
from shared.contracts.base import IntegrationEvent
from shared.envelope import Envelope, encode
from shared.mail import Contact
from shared.runtime import ServiceRuntime
from tests.integration.kafka_reading import end_offsets, read_envelopes

DOSSIER_TOPIC = "bilan.dossier.events"
SCHEDULING_TOPIC = "bilan.scheduling.events"
SURVEY_TOPIC = "bilan.survey.events"
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
"""Where a harness's fake clock starts unless the test gives its own."""

Parts = TypeVar("Parts")


def auth(
    roles: list[str], sites: list[str] | None = None, subject: str | None = None
) -> dict[str, str]:
    """The header of a development access token with these roles on these sites."""
    return {"Authorization": f"Bearer {dev_token(roles, sites or [], subject=subject)}"}


def if_match(version: int) -> dict[str, str]:
    return {"If-Match": f'"{version}"'}


async def eventually(
    check: Callable[[], Awaitable[Any]],
    timeout_s: float = 30.0,
    *,
    interval_s: float = 0.05,
    what: str = "condition",
) -> Any:
    """The first truthy result of `check`, polled until the timeout (then a failed test)."""
    try:
        async with asyncio.timeout(timeout_s):
            while True:
                result = await check()
                if result:
                    return result
                await asyncio.sleep(interval_s)
    except TimeoutError:
        raise AssertionError(f"timed out after {timeout_s}s waiting for {what}") from None


class Contacts:
    """The dossier service's contact endpoint, faked: only the test's dossiers have one."""

    def __init__(self) -> None:
        self.known: dict[str, Contact] = {}

    async def __call__(self, ref: str) -> Contact | None:
        return self.known.get(ref)


async def start_group_at_end(bootstrap: str, group: str, topic: str) -> None:
    """Commit `group`'s offsets at the topic's end, so the service reads only what follows.

    A new group would otherwise read the whole shared topic first (everyone's events,
    hundreds of thousands on a busy machine) before the test's own."""
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
    """Publishes contract events as their producing service would: the envelope, fresh
    `ce_id`s and a sequence per subject.

    Used started (`async with Publisher(...)` or `start()`/`stop()`), it keeps one producer;
    otherwise each `publish` opens and closes its own."""

    def __init__(self, bootstrap: str) -> None:
        self._bootstrap = bootstrap
        self._producer: AIOKafkaProducer | None = None
        self._sequences: dict[str, int] = {}

    def _new_producer(self) -> AIOKafkaProducer:
        return AIOKafkaProducer(
            bootstrap_servers=self._bootstrap, enable_idempotence=True, acks="all"
        )

    async def start(self) -> None:
        self._producer = self._new_producer()
        await self._producer.start()

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    async def __aenter__(self) -> Publisher:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def publish(
        self, event: IntegrationEvent, site_id: str | None = None, event_id: uuid.UUID | None = None
    ) -> uuid.UUID:
        """Publish one event (site: the given one, else the event's own, else `org`)."""
        (published,) = await self.publish_all([event], site_id, event_ids=[event_id])
        return published

    async def publish_all(
        self,
        events: list[IntegrationEvent],
        site_id: str | None = None,
        *,
        event_ids: list[uuid.UUID | None] | None = None,
    ) -> list[uuid.UUID]:
        """Publish events in order, each acknowledged before the next is sent."""
        own = self._producer is None
        producer = self._producer or self._new_producer()
        if own:
            await producer.start()
        ids: list[uuid.UUID] = []
        try:
            for event, given_id in zip(events, event_ids or [None] * len(events), strict=True):
                subject = event.subject()
                self._sequences[subject] = self._sequences.get(subject, 0) + 1
                event_id = given_id or uuid.uuid4()
                record = encode(
                    event,
                    event_id=event_id,
                    sequence=self._sequences[subject],
                    site_id=site_id or str(getattr(event, "site_id", None) or "org"),
                    correlation_id=str(uuid.uuid4()),
                    causation_id=str(uuid.uuid4()),
                )
                await producer.send_and_wait(
                    record.topic, value=record.value, key=record.key, headers=list(record.headers)
                )
                ids.append(event_id)
        finally:
            if own:
                await producer.stop()
        return ids


async def published(
    bootstrap: str,
    start: dict[TopicPartition, int],
    subjects: set[str],
    count: int,
    timeout_s: float = 30,
) -> list[Envelope]:
    """The events about `subjects` published after `start`, once `count` distinct arrived.

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


class AppFactory(Protocol):
    def __call__(
        self,
        settings: BaseSettings,
        *,
        clock: Clock | None,
        contacts: Contacts | None,
        run_background: bool,
    ) -> FastAPI: ...


@dataclass(frozen=True)
class ServiceSpec(Generic[Parts]):
    """What differs between the command services, for the harness."""

    name: str
    settings: Callable[..., BaseSettings]
    make_app: AppFactory
    parts: Callable[[FastAPI], Parts]
    """The service's own parts, as its routes read them from `app.state`."""
    topic: str
    """The topic the service publishes to."""
    reads: tuple[str, ...]
    """The topics its consumer reads."""
    defaults: Mapping[str, Any] = field(default_factory=dict)
    """Settings of every test of this service (the harness's overrides come after)."""


@dataclass
class Running(Generic[Parts]):
    """A started service."""

    client: httpx.AsyncClient
    app: FastAPI
    clock: FakeClock
    service: Parts

    @property
    def runtime(self) -> ServiceRuntime:
        runtime: ServiceRuntime = self.app.state.runtime
        return runtime


@dataclass
class ServiceHarness(Generic[Parts]):
    """Starts (and restarts) one service on one database with one fake clock."""

    spec: ServiceSpec[Parts]
    db_dsn: str
    kafka_bootstrap: str
    clock: FakeClock = field(default_factory=lambda: FakeClock(NOW))
    smtp_port: int | None = None
    """The test's SMTP server (None: the settings' default, where nothing listens)."""
    overrides: dict[str, Any] = field(default_factory=dict)
    """Settings a test changes."""
    real_clock: bool = False
    """Run on the real clock instead: the console's tests open dossiers with dates taken from
    the wall clock, which the dossier service must not see as being in its future."""
    contacts: Contacts = field(default_factory=Contacts)
    fake_contacts: bool = True
    """False: the service asks the dossier service for contacts over HTTP, as it runs."""
    group: str = ""
    """The service's consumer group (a new one per harness unless given)."""
    _positioned: bool = False

    def __post_init__(self) -> None:
        self.group = self.group or f"test-{self.spec.name}-{uuid.uuid4().hex[:12]}"

    @property
    def settings(self) -> BaseSettings:
        values: dict[str, Any] = {
            "database_url": self.db_dsn,
            "kafka_bootstrap_servers": self.kafka_bootstrap,
            "consumer_group": self.group,
            "relay_poll_interval_s": 0.05,
            "timer_poll_interval_s": 0.05,
            **self.spec.defaults,
            **({"smtp_port": self.smtp_port} if self.smtp_port is not None else {}),
            **self.overrides,
        }
        return self.spec.settings(**values)

    async def prepare(self) -> None:
        """Position the service's consumer group at the end of what it reads (once)."""
        if self._positioned:
            return
        for topic in self.spec.reads:
            await start_group_at_end(self.kafka_bootstrap, self.group, topic)
        self._positioned = True

    def app(self, *, background: bool = True) -> FastAPI:
        """A new app of the service (not started); without `background`, its loops (relay,
        timers, consumer, mail) do not run, for a test that drives them one step at a time."""
        dev_token(["admin"])  # the development key pair exists before the app reads it
        return self.spec.make_app(
            self.settings,
            clock=None if self.real_clock else self.clock,
            contacts=self.contacts if self.fake_contacts else None,
            run_background=background,
        )

    @asynccontextmanager
    async def running(
        self, app: FastAPI | None = None, *, background: bool = True
    ) -> AsyncIterator[Running[Parts]]:
        """The service (`app`, or a new one) started through its lifespan, stopped on
        leaving."""
        await self.prepare()
        app = app or self.app(background=background)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app),
                base_url=f"http://{self.spec.name}.test",
            ) as client,
        ):
            yield Running(client, app, self.clock, self.spec.parts(app))

    async def offsets(self) -> dict[TopicPartition, int]:
        """Where the service's topic ends now: read back what follows with `published`."""
        return await end_offsets(self.kafka_bootstrap, self.spec.topic)


def _dossier_app(
    settings: BaseSettings,
    *,
    clock: Clock | None,
    contacts: Contacts | None,
    run_background: bool,
) -> FastAPI:
    assert isinstance(settings, DossierSettings)
    # The dossier service is the one that knows contacts: it has no resolver to fake.
    return create_dossier_app(settings, clock=clock, run_background=run_background)


def _scheduling_app(
    settings: BaseSettings,
    *,
    clock: Clock | None,
    contacts: Contacts | None,
    run_background: bool,
) -> FastAPI:
    assert isinstance(settings, SchedulingSettings)
    return create_scheduling_app(
        settings, clock=clock, contact_resolver=contacts, run_background=run_background
    )


def _survey_app(
    settings: BaseSettings,
    *,
    clock: Clock | None,
    contacts: Contacts | None,
    run_background: bool,
) -> FastAPI:
    assert isinstance(settings, SurveySettings)
    app, _ = build_survey_service(
        settings, clock=clock, contact_resolver=contacts, run_background=run_background
    )
    return app


def _state(name: str) -> Callable[[FastAPI], Any]:
    return lambda app: getattr(app.state, name)


DOSSIER: ServiceSpec[DossierService] = ServiceSpec(
    name="dossier",
    settings=DossierSettings,
    make_app=_dossier_app,
    parts=_state("dossier_service"),
    topic=DOSSIER_TOPIC,
    reads=(SCHEDULING_TOPIC,),
    defaults={"mail_poll_interval_s": 0.05},
)
SCHEDULING: ServiceSpec[SchedulingService] = ServiceSpec(
    name="scheduling",
    settings=SchedulingSettings,
    make_app=_scheduling_app,
    parts=_state("scheduling_service"),
    topic=SCHEDULING_TOPIC,
    reads=(DOSSIER_TOPIC,),
    defaults={"mail_poll_interval_s": 0.05},
)
SURVEY: ServiceSpec[SurveyService] = ServiceSpec(
    name="survey",
    settings=SurveySettings,
    make_app=_survey_app,
    parts=_state("survey_service"),
    topic=SURVEY_TOPIC,
    reads=(DOSSIER_TOPIC, SCHEDULING_TOPIC),
    defaults={
        "mail_poll_interval_s": 0.05,
        "public_answer_url": "http://survey.test/public/surveys/{token}",
    },
)
