"""Composition root: the projector, the streaming worker and the HTTP API in one process.

The API answers from the facts the worker keeps in memory (and persists per batch), so a query
never waits on the database; the process is one FastAPI app whose lifespan starts the worker.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI

from shared.auth import token_verifier
from shared.db import create_pool
from shared.logging import get_logger
from shared.web import RequestContextMiddleware, install_problem_handlers, operations_router

from .adapters.projection_db import migrate_reporting
from .api import build_router
from .projector import KafkaDeadLetters, Projector
from .settings import Settings
from .status import StatusReader
from .worker import create_engine

log = get_logger(__name__)


class ReportingService:
    """The parts of the running service, started and stopped in order."""

    def __init__(self, settings: Settings, *, run_worker: bool = True) -> None:
        self.settings = settings
        self.run_worker = run_worker
        self.projector: Projector
        self.status: StatusReader
        self._tasks: list[asyncio.Task[None]] = []

    @contextlib.asynccontextmanager
    async def lifespan(self, _app: FastAPI) -> AsyncIterator[None]:
        s = self.settings
        await migrate_reporting(s.database_url)
        pool = await create_pool(
            s.database_url, min_size=s.database_pool_min, max_size=s.database_pool_max
        )
        dead_letters = KafkaDeadLetters(s.kafka_bootstrap_servers, f"{s.group}-dlq")
        await dead_letters.start()
        self.projector = Projector(pool, dead_letters)
        await self.projector.start()
        self.status = StatusReader(
            self.projector, pool, s.kafka_bootstrap_servers, s.topics, consumer=s.group
        )
        await self.status.start()
        self.pool = pool
        worker = create_engine(s, self.projector) if self.run_worker else None
        try:
            if worker is not None:
                await worker.start()
            self._tasks.append(asyncio.create_task(self._follow_switches()))
            yield
        finally:
            for task in self._tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if worker is not None:
                await worker.stop()
            await self.status.stop()
            await dead_letters.stop()
            await pool.close()

    async def _follow_switches(self) -> None:
        while True:
            await asyncio.sleep(self.settings.generation_poll_interval_s)
            try:
                await self.projector.follow_switch()
            except Exception as exc:
                log.warning("generation_check_failed", error=type(exc).__name__)

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
    app.add_middleware(RequestContextMiddleware, service=s.service_name)
    app.include_router(
        operations_router({"database": service.check_database, "kafka": service.check_kafka})
    )

    app.include_router(
        build_router(
            lambda: service.projector,
            lambda: service.status,
            grace_days=s.destruction_grace_days,
        )
    )
    return app
