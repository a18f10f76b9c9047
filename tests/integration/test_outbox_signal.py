"""Relays in other processes are woken by NOTIFY, unless the one leading is this process's."""

from __future__ import annotations

import asyncio
import contextlib

import asyncpg

from shared.db import create_pool
from shared.relay import NOTIFY_CHANNEL, OutboxSignal


async def test_a_poke_notifies_other_processes_only_when_the_leader_is_elsewhere(
    db_dsn: str,
) -> None:
    pool = await create_pool(db_dsn, min_size=1, max_size=2)
    listener = await asyncpg.connect(db_dsn)
    heard: asyncio.Queue[str] = asyncio.Queue()
    await listener.add_listener(NOTIFY_CHANNEL, lambda *args: heard.put_nowait(args[2]))
    signal = OutboxSignal()
    forwarding = asyncio.create_task(signal.forward_notifications(pool))
    try:
        signal.poke()  # no local leader: a relay in another process must hear of the write
        assert await asyncio.wait_for(heard.get(), 5) == NOTIFY_CHANNEL
        assert signal.local.is_set()

        signal.local.clear()
        signal.leading_here = True  # the leader is in this process: woken directly
        signal.poke()
        assert signal.local.is_set()
        await asyncio.sleep(0.3)
        assert heard.empty()
    finally:
        forwarding.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await forwarding
        await listener.close()
        await pool.close()
