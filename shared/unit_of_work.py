"""One transaction per command, with work that may only happen once it has committed.

In-memory caches of aggregate state must learn a new state only after its events are durable:
a state remembered before a rollback would be a version that never existed. Code running
inside `unit_of_work` registers such work with `after_commit`; it runs once the transaction
has committed, and never if it rolled back.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar

import asyncpg

from shared.db import Connection

_AFTER_COMMIT: ContextVar[list[Callable[[], None]] | None] = ContextVar(
    "bilan_after_commit", default=None
)


@asynccontextmanager
async def unit_of_work(pool: asyncpg.Pool) -> AsyncIterator[Connection]:
    """A pooled connection in a transaction; `after_commit` work runs once it committed."""
    callbacks: list[Callable[[], None]] = []
    _AFTER_COMMIT.set(callbacks)
    try:
        async with pool.acquire() as conn, conn.transaction():
            yield conn
    finally:
        # Not ContextVar.reset: a framework may leave the block from another context copy.
        _AFTER_COMMIT.set(None)
    for callback in callbacks:
        callback()


def after_commit(callback: Callable[[], None]) -> bool:
    """Run `callback` once the current unit of work commits; False (and nothing registered)
    outside one, e.g. in a consumer's or a timer's own transaction."""
    callbacks = _AFTER_COMMIT.get()
    if callbacks is None:
        return False
    callbacks.append(callback)
    return True
