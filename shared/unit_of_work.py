"""One transaction per command, with work that may only happen once it has committed.

In-memory caches of aggregate state must learn a new state only after its events are durable:
a state remembered before a rollback would be a version that never existed. Likewise a relay
woken before the commit finds nothing and goes back to sleep until its next poll. Code running
inside `unit_of_work` (or `transaction`) registers such work with `after_commit`; it runs once
the transaction has committed, and never if it rolled back.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar

import asyncpg

from shared.db import Connection
from shared.idempotency import claim_in

_OPEN: ContextVar[tuple[Connection, list[Callable[[], None]]] | None] = ContextVar(
    "bilan_unit_of_work", default=None
)
"""The innermost open transaction of this task and the work waiting for its commit."""


@asynccontextmanager
async def transaction(conn: Connection) -> AsyncIterator[Connection]:
    """A transaction on `conn`; `after_commit` work runs once it committed.

    Nested on the same connection it is a savepoint: its work then waits for the outer
    transaction's commit, since releasing a savepoint makes nothing durable.
    """
    callbacks: list[Callable[[], None]] = []
    outer = _OPEN.get()
    _OPEN.set((conn, callbacks))
    try:
        async with conn.transaction():
            yield conn
    finally:
        # Not ContextVar.reset: a framework may leave the block from another context copy.
        _OPEN.set(outer)
    if outer is not None and outer[0] is conn:
        outer[1].extend(callbacks)
        return
    for callback in callbacks:
        callback()


@asynccontextmanager
async def unit_of_work(pool: asyncpg.Pool) -> AsyncIterator[Connection]:
    """A pooled connection in a transaction; `after_commit` work runs once it committed.

    The first one of a request carrying an `Idempotency-Key` also claims the key, in the same
    transaction as the command (`shared.idempotency`).
    """
    async with pool.acquire() as conn, transaction(conn):
        await claim_in(conn)
        yield conn


def after_commit(callback: Callable[[], None]) -> bool:
    """Run `callback` once the current transaction commits; False (and nothing registered)
    outside one opened by `transaction` or `unit_of_work`."""
    current = _OPEN.get()
    if current is None:
        return False
    current[1].append(callback)
    return True


def once_committed(callback: Callable[[], None]) -> None:
    """Run `callback` once the current transaction commits, or now when none is open (the
    caller's statement was its own transaction, committed on return)."""
    if not after_commit(callback):
        callback()
