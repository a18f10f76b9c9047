"""The services' idempotent consumer under two faults seen in the fault matrix.

- A member paused past its session (a 20 s SIGSTOP of the dossier service): its group
  rebalanced, its next commit raised `CommitFailedError` and the consumer task ended while the
  process stayed up. Now it rejoins and every event is processed, exactly once.
- PostgreSQL unreachable for a few seconds: six retries in 1.5 s dead-lettered valid events
  for good. Now an infrastructure error is waited out and nothing reaches the DLQ.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition

from shared.consumer import IdempotentConsumer
from shared.contracts.dossier import DossierCompleted
from shared.db import PLATFORM_MIGRATIONS, Connection, create_pool, load_migrations, migrate
from shared.envelope import Envelope
from tests.integration.test_consumer import _produce, _record
from tests.unit.contracts.examples import example

from .instances import PrivatePostgres

HERE = Path(__file__).resolve().parent


def _completed() -> Any:
    return _record(example(DossierCompleted, dossier_id=uuid.uuid4()))


async def _count(pool: asyncpg.Pool) -> int:
    found: int = await pool.fetchval("SELECT count(DISTINCT event_id) FROM received")
    return found


async def _wait_for(pool: asyncpg.Pool, n: int, timeout_s: float) -> None:
    async with asyncio.timeout(timeout_s):
        while await _count(pool) < n:
            await asyncio.sleep(0.2)


def _member(db_dsn: str, bootstrap: str, topic: str, group: str, name: str, log: Any) -> Any:
    return subprocess.Popen(  # noqa: S603 (a member to pause with SIGSTOP)
        [sys.executable, str(HERE / "consumer_process.py"), db_dsn, bootstrap, topic, group, name],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=HERE.parents[1],
        env={"PYTHONPATH": str(HERE.parents[1]), "PYTHONUNBUFFERED": "1"},
    )


async def test_a_paused_member_rejoins_and_processes_everything(
    db_dsn: str, pool: asyncpg.Pool, kafka_bootstrap: str, new_topic: Any, tmp_path: Path
) -> None:
    await migrate(db_dsn, load_migrations(PLATFORM_MIGRATIONS))
    await pool.execute("CREATE TABLE received (event_id uuid NOT NULL, member text NOT NULL)")
    topic = await new_topic(4)
    group = f"test-paused-{uuid.uuid4().hex[:8]}"
    logs = {name: (tmp_path / f"{name}.log").open("w+b") for name in ("paused", "other")}
    paused = _member(db_dsn, kafka_bootstrap, topic, group, "paused", logs["paused"])
    other = _member(db_dsn, kafka_bootstrap, topic, group, "other", logs["other"])
    try:
        await _produce(kafka_bootstrap, topic, [_completed() for _ in range(200)])

        async def both_working() -> bool:
            rows = await pool.fetch("SELECT member, count(*) AS n FROM received GROUP BY member")
            return len(rows) == 2 and all(r["n"] >= 5 for r in rows)

        async with asyncio.timeout(60):
            while not await both_working():
                await asyncio.sleep(0.1)
        # Paused mid-batch for longer than the group's 10 s session: the coordinator evicts
        # the member and gives its partitions to the other; the paused member's commit after
        # waking finds the group moved on.
        paused.send_signal(signal.SIGSTOP)
        await asyncio.sleep(16)
        paused.send_signal(signal.SIGCONT)
        await _produce(kafka_bootstrap, topic, [_completed() for _ in range(100)])
        await _wait_for(pool, 300, timeout_s=120)
        assert paused.poll() is None, "the paused member's process ended"
        processed = await pool.fetchval(
            "SELECT count(*) FROM processed_events WHERE consumer = $1", group
        )
        assert processed == 300
        # Handlers may run again after a rebalance (at least once), but their effects are
        # recorded once per event: the de-duplication record commits with them.
        assert await pool.fetchval("SELECT count(*) FROM received") == 300
        logs["paused"].seek(0)
        output = logs["paused"].read().decode()
        # The fault happened: the paused member found on waking that the group had moved on
        # (its heartbeat or its commit was refused), and carried on.
        assert any(
            sign in output
            for sign in ("consumer_commit_failed", "re-joining group", "session expired")
        ), output
        assert "Traceback" not in output, output
        # After rejoining, the paused member takes work again.
        late = await pool.fetchval(
            "SELECT count(*) FROM received r JOIN processed_events p ON p.event_id = r.event_id "
            "WHERE r.member = 'paused' AND p.consumer = $1",
            group,
        )
        assert late > 0
    finally:
        for process in (paused, other):
            process.kill()
            process.wait()
        for log in logs.values():
            log.close()


async def _applied(conn: Connection, envelope: Envelope) -> None:
    await conn.execute("INSERT INTO received (event_id) VALUES ($1)", envelope.id)


async def test_a_database_outage_is_waited_out_not_dead_lettered(
    private_pg: PrivatePostgres, kafka_bootstrap: str, new_topic: Any
) -> None:
    dsn = await private_pg.create_database("bilan_faults")
    await migrate(dsn, load_migrations(PLATFORM_MIGRATIONS))
    pool = await create_pool(dsn, min_size=1, max_size=4)
    await pool.execute("CREATE TABLE received (event_id uuid NOT NULL)")
    topic = await new_topic(1)
    consumer = IdempotentConsumer(
        name=f"test-outage-{uuid.uuid4().hex[:8]}",
        pool=pool,
        bootstrap_servers=kafka_bootstrap,
        topics=[topic],
        handlers={DossierCompleted.ce_type(): _applied},
        retry_backoff_s=0.05,
        transient_backoff_cap_s=0.5,
    )
    await consumer.start()
    running = asyncio.create_task(consumer.run())
    try:
        await _produce(kafka_bootstrap, topic, [_completed()])
        await _wait_for(pool, 1, timeout_s=30)
        private_pg.crash()
        await _produce(kafka_bootstrap, topic, [_completed() for _ in range(3)])
        await asyncio.sleep(5)  # well past the old 1.5 s of retries
        assert not running.done()
        private_pg.start()
        await _wait_for(pool, 4, timeout_s=60)
        assert await _dlq_size(kafka_bootstrap, topic + ".dlq") == 0
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        await consumer.stop()
        await pool.close()


async def _dlq_size(bootstrap: str, topic: str) -> int:
    reader = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    await reader.start()
    try:
        tp = TopicPartition(topic, 0)
        ends = await reader.end_offsets([tp])
        return int(ends[tp])
    finally:
        await reader.stop()
