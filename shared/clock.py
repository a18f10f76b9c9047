"""Time as a dependency: every deadline is computed from an injected clock."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Tells the current UTC time."""

    def now(self) -> datetime: ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FakeClock:
    """A clock that only moves when told to: for tests and the development demo clock.

    Waiters (timer loops) are woken when it moves, so a test that advances the clock does not
    have to wait for a poll interval.
    """

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
        self._moved = asyncio.Event()

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        if delta < timedelta(0):
            raise ValueError("a clock never goes back")
        self._now += delta
        self._moved.set()
        return self._now

    def set(self, moment: datetime) -> datetime:
        return self.advance(moment - self._now)

    async def wait_moved(self) -> None:
        """Wait until the clock moves."""
        self._moved.clear()
        await self._moved.wait()
