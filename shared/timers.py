"""Durable timers: deadlines stored in PostgreSQL and fired once by a loop that survives restarts.

A timer fires inside a transaction that runs its handler and marks it fired, so its effects and
the marking commit together: a crash before the commit fires it again, after it never. Rows are
claimed with `FOR UPDATE SKIP LOCKED`, so several loops (replicas) never fire one timer twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from shared.cancellation import wake_or_timeout
from shared.clock import Clock, MovableClock
from shared.db import Connection
from shared.logging import bound, get_logger
from shared.metrics import TIMERS_FIRED
from shared.unit_of_work import transaction

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Timer:
    """A due timer handed to its handler."""

    id: int
    kind: str
    due_at: datetime
    payload: dict[str, Any]
    timer_key: str | None
    attempts: int


TimerHandler = Callable[[Connection, Timer], Awaitable[None]]


async def schedule(
    conn: Connection | asyncpg.Pool,
    *,
    due_at: datetime,
    kind: str,
    payload: dict[str, Any],
    key: str | None = None,
) -> bool:
    """Schedule a timer; with a `key`, scheduling twice keeps the first one (returns False)."""
    if due_at.tzinfo is None:
        raise ValueError("due_at must be timezone-aware")
    inserted = await conn.fetchval(
        """INSERT INTO timers (kind, due_at, payload, timer_key) VALUES ($1, $2, $3, $4)
           ON CONFLICT (timer_key) DO NOTHING RETURNING true""",
        kind,
        due_at,
        payload,
        key,
    )
    return bool(inserted)


async def cancel(conn: Connection | asyncpg.Pool, key: str) -> bool:
    """Cancel a pending timer by key; returns False when none was pending."""
    status = await conn.execute(
        "UPDATE timers SET state = 'cancelled' WHERE timer_key = $1 AND state = 'pending'", key
    )
    return status.endswith(" 1")


class TimerLoop:
    """Fires due timers with their handlers, one transaction per timer."""

    def __init__(
        self,
        *,
        service: str,
        pool: asyncpg.Pool,
        clock: Clock,
        handlers: Mapping[str, TimerHandler],
        poll_interval_s: float = 1.0,
        max_attempts: int = 10,
        batch_size: int = 100,
    ) -> None:
        self._service = service
        self._pool = pool
        self._clock = clock
        self._handlers = dict(handlers)
        self._poll_interval_s = poll_interval_s
        self._max_attempts = max_attempts
        self._batch_size = batch_size
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Look for due timers now (after scheduling a short one, or moving a fake clock)."""
        self._wake.set()

    async def run(self) -> None:
        """Fire due timers until cancelled."""
        while True:
            # Cleared before looking, not after: a wake-up during the look is not lost.
            self._wake.clear()
            try:
                fired = await self.fire_due()
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("timer_loop_interrupted", error=type(exc).__name__)
                fired = 0
            if fired == 0:
                await self._idle()

    async def _idle(self) -> None:
        if isinstance(self._clock, MovableClock):
            waiters = [
                asyncio.ensure_future(self._wake.wait()),
                asyncio.ensure_future(self._clock.wait_moved()),
            ]
            _, pending = await asyncio.wait(
                waiters, timeout=self._poll_interval_s, return_when=asyncio.FIRST_COMPLETED
            )
            for task in pending:
                task.cancel()
            return
        await wake_or_timeout(self._wake, self._poll_interval_s)

    async def next_due(self, until: datetime) -> datetime | None:
        """The earliest pending timer due at or before `until` (the development clock's
        stepping, `shared.devclock`)."""
        due: datetime | None = await self._pool.fetchval(
            "SELECT min(due_at) FROM timers WHERE state = 'pending' AND due_at <= $1", until
        )
        return due

    async def run_due(self) -> int:
        return await self.fire_due()

    async def fire_due(self) -> int:
        """Fire every timer due now; returns how many fired (or failed for good)."""
        fired = 0
        while True:
            count = await self._fire_batch()
            fired += count
            if count < self._batch_size:
                return fired

    async def _fire_batch(self) -> int:
        now = self._clock.now()
        handled = 0
        async with self._pool.acquire() as conn:
            for _ in range(self._batch_size):
                outcome = await self._fire_one(conn, now)
                if outcome is None:
                    break
                handled += 1
        return handled

    async def _fire_one(self, conn: Connection, now: datetime) -> str | None:
        failure: Exception | None = None
        timer: Timer | None = None
        try:
            async with transaction(conn):
                row = await conn.fetchrow(
                    """SELECT id, kind, due_at, payload, timer_key, attempts FROM timers
                       WHERE state = 'pending' AND due_at <= $1
                       ORDER BY due_at, id LIMIT 1 FOR UPDATE SKIP LOCKED""",
                    now,
                )
                if row is None:
                    return None
                timer = Timer(**dict(row))
                handler = self._handlers.get(timer.kind)
                if handler is None:
                    raise LookupError(f"no handler for timer kind {timer.kind!r}")
                with bound(timer_id=timer.id, timer_kind=timer.kind):
                    await handler(conn, timer)
                await conn.execute(
                    "UPDATE timers SET state = 'fired', fired_at = $2 WHERE id = $1",
                    timer.id,
                    now,
                )
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            failure = exc
        if timer is None:
            return None
        if failure is not None:
            return await self._record_failure(conn, timer, failure, now)
        TIMERS_FIRED.labels(self._service, timer.kind).inc()
        log.info("timer_fired", timer_id=timer.id, timer_kind=timer.kind)
        return "fired"

    async def _record_failure(
        self, conn: Connection, timer: Timer, failure: Exception, now: datetime
    ) -> str:
        attempts = timer.attempts + 1
        gave_up = attempts >= self._max_attempts
        # Back off exponentially in clock time, so a broken handler does not spin.
        retry_at = now + timedelta(seconds=min(2**attempts, 3600))
        await conn.execute(
            """UPDATE timers SET attempts = $2, last_error = $3, due_at = $4,
                      state = CASE WHEN $5 THEN 'failed' ELSE state END
               WHERE id = $1""",
            timer.id,
            attempts,
            f"{type(failure).__name__}: {failure}"[:500],
            retry_at,
            gave_up,
        )
        log.warning(
            "timer_failed",
            timer_id=timer.id,
            timer_kind=timer.kind,
            attempts=attempts,
            gave_up=gave_up,
            error=type(failure).__name__,
        )
        return "failed"
