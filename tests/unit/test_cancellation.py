"""Loops stop when cancelled, even when woken in the same tick (cpython#86296 on 3.11)."""

from __future__ import annotations

import asyncio
import contextlib
import sys

from shared.cancellation import cancel_and_wait, wake_or_timeout


def _looping(wait: object) -> tuple[asyncio.Event, asyncio.Task[None]]:
    event = asyncio.Event()

    async def loop() -> None:
        while True:
            event.clear()
            await wait(event, 10)  # type: ignore[operator]

    return event, asyncio.create_task(loop())


async def _woken_and_cancelled_at_once(task: asyncio.Task[None], event: asyncio.Event) -> None:
    await asyncio.sleep(0)
    await asyncio.sleep(0)  # the loop now waits on the event
    event.set()
    task.cancel()  # in the same tick as the wake-up


async def test_a_loop_waiting_on_its_wake_up_stops_when_cancelled_as_it_is_woken() -> None:
    event, task = _looping(wake_or_timeout)
    await _woken_and_cancelled_at_once(task, event)
    done, _ = await asyncio.wait({task}, timeout=1)
    assert task in done, "the cancellation was lost: the loop runs on"
    assert task.cancelled()


async def test_wait_for_would_have_lost_it_on_this_python() -> None:
    """The reason for wake_or_timeout, shown: the same loop on asyncio.wait_for."""

    async def old(event: asyncio.Event, timeout_s: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout_s)

    event, task = _looping(old)
    await _woken_and_cancelled_at_once(task, event)
    done, _ = await asyncio.wait({task}, timeout=0.5)
    if sys.version_info >= (3, 12):
        assert task in done  # fixed upstream; wake_or_timeout stays correct on both
    else:
        assert task not in done, "3.11's wait_for swallowed the cancellation"
    # ...and cancel_and_wait still ends it, by cancelling again.
    await cancel_and_wait([task], interval_s=0.05)
    assert task.done()


async def test_cancel_and_wait_gives_up_rather_than_hang() -> None:
    obey = False

    async def stubborn() -> None:
        while True:
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                if obey:
                    raise

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)
    await cancel_and_wait([task], attempts=3, interval_s=0.01)
    assert not task.done(), "it gave up after three rounds instead of waiting forever"
    obey = True
    await cancel_and_wait([task], interval_s=0.01)
    assert task.cancelled()
