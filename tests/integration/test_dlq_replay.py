"""`bilan dlq list|replay`: a record parked by a bug is applied once the bug is fixed."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import asyncpg
from click.testing import CliRunner

from deploy.cli import main
from shared.consumer import IdempotentConsumer
from shared.contracts.dossier import DossierCompleted
from shared.db import Connection
from shared.envelope import Envelope
from tests.unit.contracts.examples import example

from .test_consumer import _drain, _produce, _record


async def test_a_parked_record_is_replayed_once_fixed(
    pool: asyncpg.Pool, kafka_bootstrap: str, new_topic: Any
) -> None:
    await pool.execute("CREATE TABLE applied (event_id uuid PRIMARY KEY)")
    topic = await new_topic(1)
    fixed = False

    async def handler(conn: Connection, envelope: Envelope) -> None:
        if not fixed:
            raise ValueError("a defect in the handler")  # the message's own failure
        await conn.execute("INSERT INTO applied (event_id) VALUES ($1)", envelope.id)

    group = f"test-dlq-{uuid.uuid4().hex[:8]}"
    consumer = IdempotentConsumer(
        name=group,
        pool=pool,
        bootstrap_servers=kafka_bootstrap,
        topics=[topic],
        handlers={DossierCompleted.ce_type(): handler},
        max_retries=1,
        retry_backoff_s=0.01,
    )
    record = _record(example(DossierCompleted, dossier_id=uuid.uuid4()))
    await consumer.start()
    try:
        await _produce(kafka_bootstrap, topic, [record])
        await _drain(consumer, 1)
        assert await pool.fetchval("SELECT count(*) FROM applied") == 0

        runner = CliRunner()
        listed = await asyncio.to_thread(
            runner.invoke, main, ["dlq", "list", "--topic", topic, "--consumer", group]
        )
        assert listed.exit_code == 0, listed.output
        assert "1 parked record(s)" in listed.output
        assert "a defect in the handler" in listed.output
        ref = listed.output.split()[0]

        refused = await asyncio.to_thread(runner.invoke, main, ["dlq", "replay", "--topic", topic])
        assert refused.exit_code != 0  # says which records, never replays all by accident

        fixed = True
        replayed = await asyncio.to_thread(
            runner.invoke, main, ["dlq", "replay", "--topic", topic, "--only", ref]
        )
        assert replayed.exit_code == 0, replayed.output
        assert "replayed 1 record(s)" in replayed.output
        await _drain(consumer, 1)
        ids = [r["event_id"] for r in await pool.fetch("SELECT event_id FROM applied")]
        assert [str(i) for i in ids] == [dict(record.headers)["ce_id"].decode()]
    finally:
        await consumer.stop()
