"""A pooled connection whose transaction can start with its first statement, or never.

Most commands write one statement: the event store's append, which writes the events, the
stream version and the outbox rows at once. Wrapped in BEGIN and COMMIT it costs three round
trips, and under load each round trip waits its turn on the service's event loop. A unit of
work may therefore defer its BEGIN: the first statement sends it first, as before, unless
that statement is run by `fetchval_alone`, which the caller uses for what is certainly the
unit's last statement. Run alone, a single statement is its own transaction (atomic and, on
return, committed); any statement after it is refused, so a unit can never half-commit.
"""

from __future__ import annotations

from typing import Any

import asyncpg
from asyncpg.transaction import Transaction


class SoleStatementError(RuntimeError):
    """A statement followed the one that committed its unit of work alone (a program error)."""


class DeferredConnection(asyncpg.Connection):
    """`asyncpg.Connection` that can defer its unit of work's BEGIN (see the module)."""

    _deferred: Transaction | None = None
    _begun: bool = False
    _sealed: bool = False

    # --- the unit of work's side ----------------------------------------------------------

    def defer_begin(self) -> None:
        """Open a transaction that starts with the next statement."""
        self._deferred = super().transaction()
        self._begun = False
        self._sealed = False

    async def end_deferred(self, failed: bool) -> None:
        """Commit (or roll back when `failed`) what the deferred transaction began."""
        tx, begun = self._deferred, self._begun
        self._deferred, self._begun, self._sealed = None, False, False
        if tx is None or not begun:
            return  # nothing sent, or one statement that committed alone
        if failed:
            await tx.rollback()
        else:
            await tx.commit()

    # --- the caller's side ----------------------------------------------------------------

    async def fetchval_alone(self, query: str, *args: Any) -> Any:
        """`fetchval`, as a transaction of its own if it is the unit's first statement.

        Only for a unit's certain last statement: nothing may run after it."""
        if self._deferred is not None and not self._begun and not self._sealed:
            self._sealed = True
            return await super().fetchval(query, *args)
        return await self.fetchval(query, *args)

    # --- every statement starts the deferred transaction first ----------------------------

    async def _begin_deferred(self) -> None:
        if self._sealed:
            raise SoleStatementError("a statement after the one that committed its unit alone")
        if self._deferred is not None and not self._begun:
            self._begun = True
            await self._deferred.start()

    async def execute(self, *args: Any, **kwargs: Any) -> Any:
        await self._begin_deferred()
        return await super().execute(*args, **kwargs)

    async def executemany(self, *args: Any, **kwargs: Any) -> Any:
        await self._begin_deferred()
        return await super().executemany(*args, **kwargs)

    async def fetch(self, *args: Any, **kwargs: Any) -> Any:
        await self._begin_deferred()
        return await super().fetch(*args, **kwargs)

    async def fetchval(self, *args: Any, **kwargs: Any) -> Any:
        await self._begin_deferred()
        return await super().fetchval(*args, **kwargs)

    async def fetchrow(self, *args: Any, **kwargs: Any) -> Any:
        await self._begin_deferred()
        return await super().fetchrow(*args, **kwargs)

    async def fetchmany(self, *args: Any, **kwargs: Any) -> Any:
        await self._begin_deferred()
        return await super().fetchmany(*args, **kwargs)

    async def prepare(self, *args: Any, **kwargs: Any) -> Any:
        await self._begin_deferred()
        return await super().prepare(*args, **kwargs)

    async def copy_from_table(self, *args: Any, **kwargs: Any) -> Any:
        await self._begin_deferred()
        return await super().copy_from_table(*args, **kwargs)

    async def copy_from_query(self, *args: Any, **kwargs: Any) -> Any:
        await self._begin_deferred()
        return await super().copy_from_query(*args, **kwargs)

    async def copy_to_table(self, *args: Any, **kwargs: Any) -> Any:
        await self._begin_deferred()
        return await super().copy_to_table(*args, **kwargs)

    async def copy_records_to_table(self, *args: Any, **kwargs: Any) -> Any:
        await self._begin_deferred()
        return await super().copy_records_to_table(*args, **kwargs)

    def transaction(self, **kwargs: Any) -> Any:
        tx = super().transaction(**kwargs)
        if self._deferred is None:
            return tx
        return _AfterDeferredBegin(self, tx)

    def cursor(self, *args: Any, **kwargs: Any) -> Any:
        # A cursor's statement runs lazily, out of reach of the checks above.
        if self._deferred is not None and not self._begun:
            raise SoleStatementError("start the deferred transaction before a cursor")
        return super().cursor(*args, **kwargs)


class _AfterDeferredBegin:
    """A nested `transaction()` block (a savepoint) inside a deferred one: BEGIN goes first."""

    def __init__(self, conn: DeferredConnection, tx: Transaction) -> None:
        self._conn = conn
        self._tx = tx

    async def __aenter__(self) -> Transaction:
        await self._conn._begin_deferred()
        await self._tx.__aenter__()
        return self._tx

    async def __aexit__(self, *exc: Any) -> None:
        await self._tx.__aexit__(*exc)
