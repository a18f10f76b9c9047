"""Composition of the platform parts a command-side service runs: database pool and
migrations, event store, key store, outbox relay, idempotent consumer and timer loop, with a
FastAPI lifespan that starts and stops them in order. Nothing connects at import time."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping, Sequence
from pathlib import Path
from typing import Any

import asyncpg
from aiokafka.admin import AIOKafkaAdminClient
from fastapi import FastAPI

from shared.auth import token_verifier
from shared.cancellation import cancel_and_wait
from shared.clock import Clock, OffsetClock, SystemClock
from shared.consumer import Handler, IdempotentConsumer
from shared.contracts.base import IntegrationEvent
from shared.db import PLATFORM_MIGRATIONS, create_pool, load_migrations, migrate
from shared.devclock import DueWork, dev_clock_router
from shared.eventstore import OutboxMessage, PostgresEventStore
from shared.idempotency import IdempotencyMiddleware
from shared.keystore import KeyStore
from shared.logging import current_context, get_logger
from shared.mail import STOP_TIMEOUT_S, MailSender
from shared.relay import OutboxRelay, OutboxSignal, kafka_producer_factory
from shared.settings import ServiceSettings
from shared.timers import TimerHandler, TimerLoop
from shared.web import (
    RUNNING,
    BodySizeLimitMiddleware,
    RequestContextMiddleware,
    declare_problems,
    install_problem_handlers,
    operations_router,
)
from shared.web.forwarded import trust_forwarded_for

log = get_logger(__name__)


class ServiceRuntime:
    """Everything a service needs besides its own domain; built from settings, started later."""

    def __init__(
        self,
        settings: ServiceSettings,
        *,
        migrations: Sequence[Path] = (),
        consumer_topics: Sequence[str] = (),
        event_handlers: Mapping[str, Handler] | None = None,
        timer_handlers: Mapping[str, TimerHandler] | None = None,
        clock: Clock | None = None,
        run_background: bool = True,
    ) -> None:
        self.settings = settings
        self.dev_clock: OffsetClock | None = None
        if clock is None and settings.dev_clock_enabled:
            self.dev_clock = OffsetClock()
        self.clock: Clock = clock or self.dev_clock or SystemClock()
        self._migration_folders = [PLATFORM_MIGRATIONS, *migrations]
        self._consumer_topics = tuple(consumer_topics)
        self.event_handlers: dict[str, Handler] = dict(event_handlers or {})
        self.timer_handlers: dict[str, TimerHandler] = dict(timer_handlers or {})
        self._run_background = run_background
        self.signal = OutboxSignal()
        self._tasks: list[asyncio.Task[None]] = []
        self.loops: dict[str, str] = {}
        """Each background loop's state, for `/readyz` and `/healthz`."""
        self._pool: asyncpg.Pool | None = None
        self._admin: AIOKafkaAdminClient | None = None
        self.store: PostgresEventStore
        self.keys: KeyStore
        self.timers: TimerLoop
        self.relay: OutboxRelay
        self.consumer: IdempotentConsumer | None = None
        self.due_work: dict[str, DueWork] = {}
        """What else than the timers falls due on this service's clock (its mail sender, by
        name): the development clock stops at each due time when it moves (`shared.devclock`)."""
        self._started_hooks: list[Callable[[], Awaitable[None]]] = []
        self._mail_factory: Callable[[ServiceRuntime], MailSender] | None = None
        self.mail: MailSender | None = None
        """The service's mail sender, when it sends mail (`use_mail`), once started."""
        self._mail_task: asyncio.Task[None] | None = None
        self._alongside: list[tuple[str, Callable[[], Coroutine[Any, Any, None]]]] = []
        self._alongside_tasks: list[asyncio.Task[None]] = []

    def alongside(self, name: str, work: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Run `work()` once started, whether or not the background loops run, and cancel it
        first when stopping. Unlike the loops it is not watched: it may end (a one-off
        back-fill) without making the service unhealthy, and handles its own failures."""
        self._alongside.append((name, work))

    def on_started(self, hook: Callable[[], Awaitable[None]]) -> None:
        """Run `hook` once the database is migrated and the stores exist, before the
        background loops start (e.g. seeding reference data)."""
        self._started_hooks.append(hook)

    def use_mail(self, factory: Callable[[ServiceRuntime], MailSender]) -> None:
        """The service sends mail: `factory(runtime)` makes its sender once the pool exists;
        the runtime runs it with the other loops (`mail` in `/readyz`), lets the development
        clock stop at its due times, and stops it between two sends."""
        self._mail_factory = factory

    @property
    def pool(self) -> asyncpg.Pool:
        assert self._pool is not None, "the runtime is not started"
        return self._pool

    async def start(self) -> None:
        s = self.settings
        await migrate(s.database_url, load_migrations(*self._migration_folders))
        self._pool = await create_pool(
            s.database_url, min_size=s.database_pool_min, max_size=s.database_pool_max
        )
        self.store = PostgresEventStore(
            self._pool,
            clock=self.clock,
            on_outbox_write=self.signal.poke,
            service=s.service_name,
        )
        self.keys = KeyStore(self._pool, s.master_key_bytes(), s.master_key_id)
        self.timers = TimerLoop(
            service=s.service_name,
            pool=self._pool,
            clock=self.clock,
            handlers=self.timer_handlers,
            poll_interval_s=s.timer_poll_interval_s,
        )
        self.relay = OutboxRelay(
            service=s.service_name,
            dsn=s.database_url,
            pool=self._pool,
            producer_factory=kafka_producer_factory(
                s.kafka_bootstrap_servers, f"bilan-{s.service_name}-relay"
            ),
            signal=self.signal,
            batch_size=s.relay_batch_size,
            poll_interval_s=s.relay_poll_interval_s,
        )
        self._admin = AIOKafkaAdminClient(
            bootstrap_servers=s.kafka_bootstrap_servers, client_id=f"bilan-{s.service_name}-probe"
        )
        await self._admin.start()
        if self._consumer_topics:
            self.consumer = IdempotentConsumer(
                name=s.consumer_group or f"bilan-{s.service_name}",
                pool=self._pool,
                bootstrap_servers=s.kafka_bootstrap_servers,
                topics=self._consumer_topics,
                handlers=self.event_handlers,
                max_retries=s.consumer_max_retries,
            )
        for hook in self._started_hooks:
            await hook()
        if self._mail_factory is not None and self.mail is None:
            self.mail = self._mail_factory(self)
            self.due_work["mail"] = self.mail
        if self._run_background:
            await self.start_background()
        for name, work in self._alongside:
            self._alongside_tasks.append(
                asyncio.create_task(work(), name=f"{s.service_name}-{name}")
            )

    async def start_background(self) -> None:
        """Start the relay, the NOTIFY forwarder, the timer loop and the consumer."""
        self._spawn("relay", self.relay.run())
        self._spawn("outbox-notify", self.signal.forward_notifications(self.pool))
        self._spawn("timers", self.timers.run())
        if self.consumer is not None:
            await self.consumer.start()
            self._spawn("consumer", self.consumer.run())
        if self.mail is not None:
            # Not `_spawn`: the mail loop is stopped between two sends, never cancelled.
            self._mail_task = asyncio.create_task(
                self.mail.run(), name=f"{self.settings.service_name}-mail"
            )
            self.watch("mail", self._mail_task)

    def _spawn(self, name: str, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro, name=f"{self.settings.service_name}-{name}")
        self.watch(name, task)
        self._tasks.append(task)

    def watch(self, name: str, task: asyncio.Task[None]) -> None:
        """Report a loop the service runs itself (and stops itself, e.g. the mail sender,
        which stops between sends) in `/readyz` and `/healthz`; `forget` it before stopping."""
        self.loops[name] = RUNNING
        task.add_done_callback(lambda done: self._on_task_done(name, done))

    def forget(self, name: str) -> None:
        """The service is stopping `name` on purpose: its end is not a death."""
        self.loops.pop(name, None)

    def _on_task_done(self, name: str, task: asyncio.Task[None]) -> None:
        if name not in self.loops:
            return  # forgotten: stopped on purpose
        if task.cancelled():
            self.loops[name] = "stopped"
            return
        error = task.exception()
        # A loop only ends by cancellation: any other end, with or without an error, leaves
        # work undone, and /healthz and /readyz say so until the process is restarted.
        self.loops[name] = f"died: {type(error).__name__}" if error else "died: returned"
        log.error("background_task_died", task=task.get_name(), exc_info=error)

    def loop_states(self) -> dict[str, str]:
        return dict(self.loops)

    async def _stop_mail(self) -> None:
        if self._mail_task is not None and self.mail is not None:
            # The loop returns between two sends: a mail being sent is finished first and its
            # outcome recorded (cancelling it would leave it uncertain).
            self.forget("mail")
            self.mail.stop()
            try:
                await asyncio.wait_for(self._mail_task, STOP_TIMEOUT_S)
            except Exception as exc:  # a timeout, or the loop had died already
                log.warning("mail_loop_stopped_abruptly", error=type(exc).__name__)
            self._mail_task = None
        if self.mail is not None:
            await self.mail.aclose()

    async def stop(self) -> None:
        await cancel_and_wait(self._alongside_tasks)
        self._alongside_tasks.clear()
        await self._stop_mail()
        await cancel_and_wait(self._tasks)
        self._tasks.clear()
        if self.consumer is not None:
            await self.consumer.stop()
        if self._admin is not None:
            await self._admin.close()
            self._admin = None
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def check_database(self) -> None:
        await asyncio.wait_for(self.pool.fetchval("SELECT 1"), 2)

    async def check_kafka(self) -> None:
        assert self._admin is not None
        await asyncio.wait_for(self._admin.describe_cluster(), 3)

    @contextlib.asynccontextmanager
    async def lifespan(self, _app: FastAPI) -> AsyncIterator[None]:
        await self.start()
        try:
            yield
        finally:
            await self.stop()


def outbox_message(event: IntegrationEvent, site_id: str) -> OutboxMessage:
    """An outbox message carrying the current request's or event's correlation and causation.

    In an HTTP request the causation is the request id; in a consumer it is the `ce_id` of the
    event being handled (both bound by the platform). Outside either, a fresh id stands in.
    """
    context = current_context()
    correlation_id = str(context.get("correlation_id") or uuid.uuid4())
    causation_id = str(
        context.get("event_id")
        or context.get("request_id")
        or context.get("causation_id")
        or correlation_id
    )
    return OutboxMessage(
        event, site_id=site_id, correlation_id=correlation_id, causation_id=causation_id
    )


def create_service_app(
    runtime: ServiceRuntime,
    *,
    title: str,
    description: str,
    idempotent_paths: Sequence[str] = (),
) -> FastAPI:
    """A FastAPI app with the platform's errors, middleware, operations endpoints and auth.

    `idempotent_paths` are the creating routes (templates such as `/dossiers`) whose POST
    accepts an `Idempotency-Key` (shared.idempotency)."""
    s = runtime.settings
    app = FastAPI(title=title, description=description, lifespan=runtime.lifespan)
    app.state.runtime = runtime
    app.state.token_verifier = token_verifier(s)
    install_problem_handlers(app)
    if idempotent_paths:
        app.add_middleware(
            IdempotencyMiddleware, pool_of=lambda: runtime.pool, paths=idempotent_paths
        )
    declare_problems(app)
    # Outside the idempotency middleware (which buffers a body): a large body is refused first.
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=s.max_request_body_bytes)
    # Added last, so outermost: a replayed answer carries its correlation id too.
    app.add_middleware(RequestContextMiddleware, service=s.service_name)
    trust_forwarded_for(app, s.trusted_proxies)
    app.include_router(
        operations_router(
            {"database": runtime.check_database},
            informational={"kafka": runtime.check_kafka},
            loops=runtime.loop_states,
        )
    )
    if runtime.dev_clock is not None:
        app.include_router(
            dev_clock_router(
                runtime.dev_clock, lambda: [runtime.timers, *runtime.due_work.values()]
            )
        )
    return app
