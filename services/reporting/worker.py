"""The Faust-streaming worker: one agent over the three topics that hands batches to the
projector. Kept this thin on purpose (architecture.md): the logic is tested without a broker."""

from __future__ import annotations

import asyncio
from typing import Any

import faust

from .projector import Projector
from .settings import Settings


def create_worker(settings: Settings, projector: Projector) -> faust.App:
    """A Faust app (not started) whose agent projects every record of the topics."""
    app = faust.App(
        settings.group,
        broker=f"kafka://{settings.kafka_bootstrap_servers}",
        store="memory://",
        web_enabled=False,
        # No leader election, tables or changelogs: the projection lives in PostgreSQL.
        topic_disable_leader=True,
        consumer_auto_offset_reset="earliest",
        autodiscover=False,
        loop=asyncio.get_running_loop(),
    )
    topics = app.topic(*settings.topics, key_serializer="raw", value_serializer="raw")

    @app.agent(topics)
    async def project(stream: Any) -> None:
        # Events of a batch are acknowledged only after the body returns, that is after the
        # projector committed them: a crash redelivers, and facts are idempotent.
        async for events in stream.take_events(settings.batch_size, within=settings.batch_within_s):
            await projector.handle([event.message for event in events])

    return app
