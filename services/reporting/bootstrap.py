"""Composition root: the projector, the streaming worker and the HTTP API in one process.

The API answers from the facts the worker keeps in memory (and persists per batch), so a query
never waits on the database; the process is one FastAPI app whose lifespan starts the worker.
The API serves the stored projection as soon as it is loaded: joining the consumer group (up
to a minute after a restart, more while Kafka itself restarts) happens in the background, and
`/v1/status` and every indicator answer say how fresh the figures are meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from fastapi import FastAPI

from shared.auth import token_verifier
from shared.clock import OffsetClock
from shared.db import create_pool
from shared.devclock import dev_clock_router
from shared.logging import get_logger
from shared.transient import backoff_s, is_transient
from shared.web import (
    RUNNING,
    BodySizeLimitMiddleware,
    RequestContextMiddleware,
    declare_problems,
    install_problem_handlers,
    operations_router,
)

from .adapters.projection_db import migrate_reporting
from .api import build_router
from .bpf_api import build_bpf_router
from .projector import KafkaDeadLetters, KafkaGapReader, Projector
from .settings import Settings
from .status import StatusReader
from .worker import Worker, create_engine

T = TypeVar("T")

log = get_logger(__name__)


class ReportingService:
    """The parts of the running service, started and stopped in order."""

    def __init__(self, settings: Settings, *, run_worker: bool = True) -> None:
        self.settings = settings
        self.run_worker = run_worker
        self.projector: Projector
        self.status: StatusReader
        self._tasks: list[asyncio.Task[None]] = []
        self._dead: dict[str, str] = {}
        self._joining = False
        """True once `worker.start()` was called: the worker must then be stopped."""
        self.worker_state = "not started"
        """`joining` (catching up, then joining the group), `running`, or why not."""

    @contextlib.asynccontextmanager
    async def lifespan(self, _app: FastAPI) -> AsyncIterator[None]:
        s = self.settings
        await migrate_reporting(s.database_url)
        pool = await create_pool(
            s.database_url, min_size=s.database_pool_min, max_size=s.database_pool_max
        )
        dead_letters = KafkaDeadLetters(s.kafka_bootstrap_servers, f"{s.group}-dlq")
        await dead_letters.start()
        self.projector = Projector(
            pool, dead_letters, gap_reader=KafkaGapReader(s.kafka_bootstrap_servers)
        )
        await self.projector.start()
        self.status = StatusReader(
            self.projector,
            pool,
            s.kafka_bootstrap_servers,
            s.topics,
            consumer=s.group,
            worker_state=lambda: self.worker_state,
        )
        self.pool = pool
        # Connected at once when Kafka answers (the usual case); otherwise the worker's start
        # keeps trying in the background while the stored projection is served.
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.status.start(), 10)
        worker = create_engine(s, self.projector) if self.run_worker else None
        starting: asyncio.Task[None] | None = None
        try:
            if worker is not None:
                starting = self._spawn("worker", self._start_worker(worker))
            self._spawn("generation-follower", self._follow_switches())
            yield
        finally:
            if starting is not None and self._joining and not starting.done():
                # Half-started streaming engines leave threads and tasks behind: let the
                # start finish (bounded), then stop the worker properly.
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(asyncio.shield(starting), 60)
            for task in self._tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            if worker is not None and self._joining:
                await worker.stop()
            await self.status.stop()
            await dead_letters.stop()
            await pool.close()

    def _spawn(self, name: str, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.create_task(coro, name=f"reporting-{name}")
        task.add_done_callback(lambda done: self._on_task_done(name, done))
        self._tasks.append(task)
        return task

    def _on_task_done(self, name: str, task: asyncio.Task[None]) -> None:
        if task.cancelled():
            return
        error = task.exception()
        if error is not None:
            log.error("background_task_died", task=name, exc_info=error)
            if name == "worker":
                self.worker_state = f"died: {type(error).__name__}"
            else:
                self._dead[name] = f"died: {type(error).__name__}"

    async def _start_worker(self, worker: Worker) -> None:
        """Read back anything the group committed but the projection lacks, then join."""
        self.worker_state = "joining"
        await self._until_kafka_answers(self.status.start)
        committed = await self._until_kafka_answers(self.status.committed)
        read = await self.projector.catch_up_to(committed)
        if read:
            log.warning("projection_caught_up_to_committed", records=read)
        self._joining = True
        await worker.start()
        self.worker_state = RUNNING

    @staticmethod
    async def _until_kafka_answers(step: Callable[[], Awaitable[T]]) -> T:
        attempt = 0
        while True:
            try:
                return await step()
            except Exception as exc:
                if not is_transient(exc):
                    raise
                log.warning("kafka_not_answering", attempt=attempt + 1, error=type(exc).__name__)
                await asyncio.sleep(backoff_s(attempt))
                attempt += 1

    def loop_states(self) -> dict[str, str]:
        # Joining is not a failure: the stored projection is served meanwhile.
        worker = self.worker_state
        states = {"worker": RUNNING if worker in ("joining", RUNNING) else worker}
        states.update({"generation-follower": RUNNING, **self._dead})
        return states if self.run_worker else {"generation-follower": RUNNING, **self._dead}

    async def _follow_switches(self) -> None:
        failing = False
        while True:
            await asyncio.sleep(self.settings.generation_poll_interval_s)
            try:
                await self.projector.follow_switch()
                failing = False
            except Exception as exc:
                if not failing:  # once per outage, not at every poll
                    log.warning("generation_check_failed", error=type(exc).__name__)
                failing = True
            if self.worker_state == RUNNING:
                # Keeps the consumer-lag gauge (from the stored positions) current for
                # `bilan status` and alerts, not only when someone reads /v1/status.
                with contextlib.suppress(Exception):
                    await self.status.read()

    async def check_projection(self) -> None:
        """Ready as soon as the stored projection is loaded: queries answer from memory."""
        if self.projector.generation is None and self.projector.state == "loading":
            raise RuntimeError("projection not loaded")

    async def check_database(self) -> None:
        await asyncio.wait_for(self.pool.fetchval("SELECT 1"), 2)

    async def check_kafka(self) -> None:
        await asyncio.wait_for(self.status.read(), 3)


def create_app(settings: Settings | None = None, *, run_worker: bool = True) -> FastAPI:
    """The reporting app; the worker and the projection start with its lifespan."""
    s = settings or Settings()
    service = ReportingService(s, run_worker=run_worker)
    app = FastAPI(
        title="Bilan reporting",
        description="Qualiopi indicators and per-dossier checklists for auditors, computed "
        "from the event topics (indicators.md). Pseudonymous ids only; no personal data.",
        lifespan=service.lifespan,
    )
    app.state.service = service
    app.state.token_verifier = token_verifier(s)
    install_problem_handlers(app)
    declare_problems(app)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=s.max_request_body_bytes)
    app.add_middleware(RequestContextMiddleware, service=s.service_name)
    app.include_router(
        operations_router(
            {"projection": service.check_projection},
            informational={"database": service.check_database, "kafka": service.check_kafka},
            loops=service.loop_states,
        )
    )

    # In development the API's `as_of` follows the development clock, moved with the others'.
    dev_clock = OffsetClock() if s.dev_clock_enabled else None
    if dev_clock is not None:
        app.include_router(dev_clock_router(dev_clock))
    app.include_router(
        build_router(
            lambda: service.projector,
            lambda: service.status,
            grace_days=s.destruction_grace_days,
            clock=dev_clock,
        )
    )
    app.include_router(build_bpf_router(lambda: service.projector))
    return app
