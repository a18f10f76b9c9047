"""Loops that stop when asked: waiting for a wake-up or a poll interval without losing a
cancellation, and cancelling tasks until they have really ended."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable


async def wake_or_timeout(wake: asyncio.Event, timeout_s: float) -> None:
    """Return when `wake` is set or after `timeout_s`; a cancellation always propagates.

    Not `asyncio.wait_for`: on Python 3.11 it swallows a cancellation that arrives in the tick
    its inner wait completes (cpython#86296, fixed by 3.12's rewrite on `asyncio.timeout`), and
    a loop that lost its cancellation runs on while its service waits for it to stop. A relay
    woken by a commit just as its service stopped hung the process that way."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(timeout_s):
            await wake.wait()


async def cancel_and_wait(
    tasks: Iterable[asyncio.Task[object]], *, attempts: int = 100, interval_s: float = 0.1
) -> None:
    """Cancel the tasks and wait until each has ended, cancelling again any that is still
    running after `interval_s` (code we do not own may swallow one cancellation, as 3.11's
    `wait_for` does); gives up after `attempts` rounds rather than hang a shutdown."""
    every = list(tasks)
    pending = {task for task in every if not task.done()}
    for task in pending:
        task.cancel()
    for _ in range(attempts):
        if not pending:
            break
        _, pending = await asyncio.wait(pending, timeout=interval_s)
        for task in pending:
            task.cancel()
    for task in every:
        if task.done() and not task.cancelled():
            task.exception()  # a loop that had died: its error was logged when it ended
