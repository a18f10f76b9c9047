"""Relays in other processes are woken by NOTIFY, unless the one leading is this process's.

The forwarder is driven one step at a time (`OutboxSignal.forward_pending`, the body of the
`forward_notifications` loop), so each step is seen to send its NOTIFY or not; a NOTIFY the
test sends itself afterwards (a sentinel) shows that the listener heard nothing in between,
since PostgreSQL delivers notifications in commit order."""

from __future__ import annotations

import asyncio
import contextlib

import asyncpg

from shared.db import create_pool
from shared.relay import NOTIFY_CHANNEL, OutboxSignal

SENTINEL = "sentinel"


async def test_a_poke_notifies_other_processes_only_when_the_leader_is_elsewhere(
    db_dsn: str,
) -> None:
    pool = await create_pool(db_dsn, min_size=1, max_size=2)
    listener = await asyncpg.connect(db_dsn)
    heard: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
    await listener.add_listener(
        NOTIFY_CHANNEL, lambda _conn, _pid, channel, payload: heard.put_nowait((channel, payload))
    )
    signal = OutboxSignal()

    async def nothing_else_heard() -> None:
        await pool.execute(f"NOTIFY {NOTIFY_CHANNEL}, '{SENTINEL}'")
        assert await asyncio.wait_for(heard.get(), 5) == (NOTIFY_CHANNEL, SENTINEL)

    try:
        signal.poke()  # no local leader: a relay in another process must hear of the write
        signal.poke()  # a second write before the forwarder ran: still one NOTIFY
        assert signal.local.is_set()
        assert await signal.forward_pending(pool), "the step sends the NOTIFY"
        assert await asyncio.wait_for(heard.get(), 5) == (NOTIFY_CHANNEL, "")
        assert not await signal.forward_pending(pool), "both pokes were one NOTIFY"
        await nothing_else_heard()

        signal.local.clear()
        signal.leading_here = True  # the leader is in this process: woken directly
        signal.poke()
        assert signal.local.is_set()
        assert not await signal.forward_pending(pool), "no other process needs waking"
        await nothing_else_heard()

        # The loop runs those steps: a poke once the leader is elsewhere again reaches the
        # listener through it.
        signal.leading_here = False
        forwarding = asyncio.create_task(signal.forward_notifications(pool))
        try:
            signal.poke()
            assert await asyncio.wait_for(heard.get(), 5) == (NOTIFY_CHANNEL, "")
        finally:
            forwarding.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await forwarding
    finally:
        await listener.close()
        await pool.close()
