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
from typing import Any, cast

import asyncpg

from shared.db import Connection
from shared.deferred_connection import DeferredConnection

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
async def unit_of_work(
    pool: asyncpg.Pool, *, defer_begin: bool = False
) -> AsyncIterator[Connection]:
    """A pooled connection in a transaction; `after_commit` work runs once it committed.

    With `defer_begin`, BEGIN waits for the first statement, and a unit whose only statement
    is run by `last_statement` commits it alone: one round trip instead of three
    (`shared.deferred_connection`)."""
    async with pool.acquire() as conn:
        if not defer_begin or not isinstance(_raw(conn), DeferredConnection):
            async with transaction(conn):
                yield conn
            return
        deferred = cast(DeferredConnection, _raw(conn))
        callbacks: list[Callable[[], None]] = []
        outer = _OPEN.get()
        _OPEN.set((conn, callbacks))
        deferred.defer_begin()
        failed = True
        try:
            yield conn
            failed = False
        finally:
            _OPEN.set(outer)
            await deferred.end_deferred(failed)
        for callback in callbacks:
            callback()


async def last_statement(conn: Connection, query: str, *args: Any) -> Any:
    """`conn.fetchval` for the certain last statement of a unit of work: in a unit with a
    deferred BEGIN that has sent nothing yet, it runs (and commits) alone."""
    raw = _raw(conn)
    if isinstance(raw, DeferredConnection):
        return await raw.fetchval_alone(query, *args)
    return await conn.fetchval(query, *args)


def _raw(conn: Connection) -> object:
    # A pooled connection is a proxy (asyncpg's PoolConnectionProxy) of the connection its
    # pool made, kept in `_con`; asyncpg's own helpers unwrap it the same way.
    return getattr(conn, "_con", conn)


def after_commit(callback: Callable[[], None]) -> bool:
    """Run `callback` once the current transaction commits; False (and nothing registered)
    outside one opened by `transaction` or `unit_of_work`."""
    current = _OPEN.get()
    if current is None:
        return False
    current[1].append(callback)
    return True
