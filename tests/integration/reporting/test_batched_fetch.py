"""The Faust worker's consumer fetches in batches (Faust itself would fetch per record)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, cast

from aiokafka import AIOKafkaProducer

from services.reporting.batched_fetch import FETCH_MIN_BYTES
from services.reporting.projector import Projector
from services.reporting.worker import create_worker
from tests.integration.reporting.conftest import make_settings


class _Recorder:
    """Stands in for the projector: this test is about what reaches it, not what it does."""

    def __init__(self) -> None:
        self.values: list[bytes] = []

    async def handle(self, records: list[Any]) -> None:
        self.values.extend(record.value for record in records)


async def test_the_faust_worker_fetches_in_batches_and_still_delivers_every_record(
    db_dsn: str, kafka_bootstrap: str, new_topic: Callable[..., Awaitable[str]]
) -> None:
    names = [await new_topic(3) for _ in range(3)]
    settings = make_settings(
        db_dsn,
        kafka_bootstrap,
        dossier_topic=names[0],
        scheduling_topic=names[1],
        survey_topic=names[2],
    )
    recorder = _Recorder()
    app = create_worker(settings, cast(Projector, recorder))
    await app.start()
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:
        sent = [f"record-{n}".encode() for n in range(30)]
        for n, value in enumerate(sent):
            await producer.send_and_wait(names[n % 3], value, key=str(uuid.uuid4()).encode())
        async with asyncio.timeout(30):
            while sorted(recorder.values) != sorted(sent):
                await asyncio.sleep(0.05)
        # The settings reached the fetcher aiokafka built when the consumer started.
        fetcher = app.consumer._thread._consumer._fetcher  # type: ignore[attr-defined]
        assert fetcher._fetch_min_bytes == FETCH_MIN_BYTES
        assert fetcher._fetch_max_wait_ms == int(settings.batch_within_s * 1000)
        # Faust's data directory is the configured one, never the working directory.
        assert app.conf.datadir == settings.faust_data_dir
        assert settings.faust_data_dir.is_absolute()
        assert settings.faust_data_dir.is_dir()
        assert not (Path.cwd() / f"{settings.group}-data").exists()
    finally:
        await producer.stop()
        await app.stop()
