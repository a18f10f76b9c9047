"""Durable timers fire exactly once, across a restart of their loop, under a fake clock."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import asyncpg
import pytest

from shared.clock import FakeClock
from shared.db import Connection
from shared.timers import Timer, TimerLoop, cancel, schedule


async def _effects(pool: asyncpg.Pool) -> list[str]:
    return [r["label"] for r in await pool.fetch("SELECT label FROM effects ORDER BY id")]


@pytest.fixture
async def effects_table(pool: asyncpg.Pool) -> None:
    await pool.execute("CREATE TABLE effects (id serial, label text)")


async def _record(conn: Connection, timer: Timer) -> None:
    await conn.execute("INSERT INTO effects (label) VALUES ($1)", timer.payload["label"])


@pytest.mark.usefixtures("effects_table")
async def test_fires_once_when_due_and_never_again_after_restart(pool: asyncpg.Pool) -> None:
    clock = FakeClock()
    await schedule(pool, due_at=clock.now() + timedelta(days=10), kind="k", payload={"label": "a"})
    loop = TimerLoop(service="t", pool=pool, clock=clock, handlers={"k": _record})
    assert await loop.fire_due() == 0
    clock.advance(timedelta(days=10))
    assert await loop.fire_due() == 1
    assert await loop.fire_due() == 0
    restarted = TimerLoop(service="t", pool=pool, clock=clock, handlers={"k": _record})
    clock.advance(timedelta(days=30))
    assert await restarted.fire_due() == 0
    assert await _effects(pool) == ["a"]


@pytest.mark.usefixtures("effects_table")
async def test_a_loop_killed_mid_handler_leaves_the_timer_to_the_next_loop(
    pool: asyncpg.Pool,
) -> None:
    clock = FakeClock()
    await schedule(pool, due_at=clock.now(), kind="k", payload={"label": "b"}, key="once")
    entered = asyncio.Event()

    async def slow(conn: Connection, timer: Timer) -> None:
        await _record(conn, timer)
        entered.set()
        await asyncio.sleep(3600)  # killed here: the effect is written but not committed

    first = TimerLoop(
        service="t", pool=pool, clock=clock, handlers={"k": slow}, poll_interval_s=0.01
    )
    task = asyncio.create_task(first.run())
    await asyncio.wait_for(entered.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await _effects(pool) == []

    second = TimerLoop(service="t", pool=pool, clock=clock, handlers={"k": _record})
    assert await second.fire_due() == 1
    assert await second.fire_due() == 0
    assert await _effects(pool) == ["b"]
    # Scheduling again under the same key does not make a second timer.
    assert not await schedule(
        pool, due_at=clock.now(), kind="k", payload={"label": "c"}, key="once"
    )


@pytest.mark.usefixtures("effects_table")
async def test_two_loops_racing_fire_each_timer_once(pool: asyncpg.Pool) -> None:
    clock = FakeClock()
    for i in range(200):
        await schedule(pool, due_at=clock.now(), kind="k", payload={"label": f"t{i}"})
    loops = [
        TimerLoop(service="t", pool=pool, clock=clock, handlers={"k": _record}) for _ in range(3)
    ]
    counts = await asyncio.gather(*(loop.fire_due() for loop in loops))
    assert sum(counts) == 200
    labels = await _effects(pool)
    assert sorted(labels) == sorted(f"t{i}" for i in range(200))


@pytest.mark.usefixtures("effects_table")
async def test_failing_handler_retries_later_and_cancel_prevents_firing(
    pool: asyncpg.Pool,
) -> None:
    clock = FakeClock()
    calls = 0

    async def flaky(conn: Connection, timer: Timer) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            await _record(conn, timer)  # rolled back with the failure
            raise RuntimeError("SMTP down")
        await _record(conn, timer)

    await schedule(pool, due_at=clock.now(), kind="k", payload={"label": "r"})
    await schedule(pool, due_at=clock.now(), kind="k", payload={"label": "x"}, key="cancel-me")
    assert await cancel(pool, "cancel-me")
    loop = TimerLoop(service="t", pool=pool, clock=clock, handlers={"k": flaky})
    await loop.fire_due()
    assert await _effects(pool) == []
    row = await pool.fetchrow(
        "SELECT attempts, state, last_error FROM timers WHERE timer_key IS NULL"
    )
    assert row is not None
    assert (row["attempts"], row["state"]) == (1, "pending")
    assert "SMTP down" in row["last_error"]
    clock.advance(timedelta(minutes=5))
    await loop.fire_due()
    assert await _effects(pool) == ["r"]


@pytest.mark.usefixtures("effects_table")
async def test_running_loop_wakes_when_the_fake_clock_moves(pool: asyncpg.Pool) -> None:
    clock = FakeClock()
    await schedule(pool, due_at=clock.now() + timedelta(hours=2), kind="k", payload={"label": "w"})
    loop = TimerLoop(
        service="t", pool=pool, clock=clock, handlers={"k": _record}, poll_interval_s=30
    )
    task = asyncio.create_task(loop.run())
    try:
        await asyncio.sleep(0.1)
        assert await _effects(pool) == []
        clock.advance(timedelta(hours=2))
        async with asyncio.timeout(5):
            while not await _effects(pool):
                await asyncio.sleep(0.02)
    finally:
        task.cancel()
    assert await _effects(pool) == ["w"]
