"""Time as a dependency: every deadline is computed from an injected clock."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable


class Clock(Protocol):
    """Tells the current UTC time."""

    def now(self) -> datetime: ...


@runtime_checkable
class MovableClock(Protocol):
    """A clock that can be moved forward; waiters (timer loops) are woken when it moves."""

    def now(self) -> datetime: ...

    def advance(self, delta: timedelta) -> datetime: ...

    async def wait_moved(self) -> None: ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class _Moves:
    def __init__(self) -> None:
        self._moved = asyncio.Event()

    def _signal_moved(self) -> None:
        self._moved.set()

    async def wait_moved(self) -> None:
        """Wait until the clock moves."""
        self._moved.clear()
        await self._moved.wait()


class FakeClock(_Moves):
    """A clock that only moves when told to: for tests."""

    def __init__(self, start: datetime | None = None) -> None:
        super().__init__()
        self._now = start or datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        if delta < timedelta(0):
            raise ValueError("a clock never goes back")
        self._now += delta
        self._signal_moved()
        return self._now

    def set(self, moment: datetime) -> datetime:
        return self.advance(moment - self._now)


class OffsetClock(_Moves):
    """The real clock plus an offset that only grows: the development demo clock.

    Time keeps flowing, and the demo can jump ahead (to let reminders, deadlines and the
    six-month survey happen). Settings refuse it outside development.
    """

    def __init__(self) -> None:
        super().__init__()
        self._offset = timedelta(0)
        self._held: datetime | None = None

    def now(self) -> datetime:
        if self._held is not None:
            return self._held
        return datetime.now(UTC) + self._offset

    @property
    def offset(self) -> timedelta:
        return self._offset

    def advance(self, delta: timedelta) -> datetime:
        if delta < timedelta(0):
            raise ValueError("a clock never goes back")
        if self._held is not None:
            return self.hold(self._held + delta)
        self._offset += delta
        self._signal_moved()
        return self.now()

    def hold(self, moment: datetime) -> datetime:
        """Stop the clock at `moment` (not before now): what fires then sees exactly it."""
        if moment < self.now():
            raise ValueError("a clock never goes back")
        self._held = moment
        self._offset = moment - datetime.now(UTC)
        self._signal_moved()
        return moment

    def release(self) -> datetime:
        """Let time flow again from the moment held (the offset then only grows)."""
        if self._held is not None:
            self._offset = max(self._offset, self._held - datetime.now(UTC))
            self._held = None
        return self.now()
