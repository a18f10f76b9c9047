"""Units of work with a deferred BEGIN: a sole last statement commits alone, anything else is
one transaction as before, and nothing can run after a statement that committed alone."""

from __future__ import annotations

import uuid

import asyncpg
import pytest

from shared.deferred_connection import SoleStatementError
from shared.unit_of_work import after_commit, last_statement, unit_of_work

INSERT = "INSERT INTO t (id) VALUES ($1) RETURNING id"


@pytest.fixture
async def table(pool: asyncpg.Pool) -> asyncpg.Pool:
    await pool.execute("CREATE TABLE t (id uuid PRIMARY KEY)")
    return pool


async def _visible(pool: asyncpg.Pool, row: uuid.UUID) -> bool:
    # Another pooled connection: it sees only what has committed.
    return bool(await pool.fetchval("SELECT count(*) FROM t WHERE id = $1", row))


async def test_a_sole_last_statement_commits_alone_and_nothing_may_follow_it(
    table: asyncpg.Pool,
) -> None:
    row = uuid.uuid4()
    ran: list[str] = []
    async with unit_of_work(table, defer_begin=True) as conn:
        assert await last_statement(conn, INSERT, row) == row
        assert await _visible(table, row)  # committed before the unit even ends
        after_commit(lambda: ran.append("after"))
        assert ran == []
        with pytest.raises(SoleStatementError):
            await conn.execute("DELETE FROM t")
        with pytest.raises(SoleStatementError):
            await conn.fetchval("SELECT 1")
    assert ran == ["after"]
    assert await _visible(table, row)
    async with table.acquire() as again:  # the connection went back clean
        assert not again.is_in_transaction()
        assert await again.fetchval("SELECT 1") == 1


async def test_statements_before_the_last_make_one_transaction_as_before(
    table: asyncpg.Pool,
) -> None:
    first, second = uuid.uuid4(), uuid.uuid4()
    async with unit_of_work(table, defer_begin=True) as conn:
        await conn.execute("INSERT INTO t (id) VALUES ($1)", first)
        assert conn.is_in_transaction()
        await last_statement(conn, INSERT, second)
        assert not await _visible(table, second)  # not alone: waits for the unit's commit
        await conn.fetchval("SELECT 1")  # and more may follow
    assert await _visible(table, first)
    assert await _visible(table, second)


async def test_a_failing_unit_leaves_nothing_behind(table: asyncpg.Pool) -> None:
    first, second = uuid.uuid4(), uuid.uuid4()
    ran: list[str] = []

    async def failing_command() -> None:
        async with unit_of_work(table, defer_begin=True) as conn:
            await conn.execute("INSERT INTO t (id) VALUES ($1)", first)
            async with conn.transaction():  # a savepoint inside the deferred transaction
                await conn.execute("INSERT INTO t (id) VALUES ($1)", second)
            after_commit(lambda: ran.append("after"))
            raise LookupError

    with pytest.raises(LookupError):
        await failing_command()
    assert not await _visible(table, first)
    assert not await _visible(table, second)
    assert ran == []
    async with table.acquire() as again:
        assert not again.is_in_transaction()


async def test_a_nested_transaction_block_first_begins_the_deferred_one(
    table: asyncpg.Pool,
) -> None:
    row = uuid.uuid4()
    async with unit_of_work(table, defer_begin=True) as conn:
        async with conn.transaction():  # the unit's BEGIN goes first: this is a savepoint
            await conn.execute("INSERT INTO t (id) VALUES ($1)", row)
        assert conn.is_in_transaction()
        assert not await _visible(table, row)
    assert await _visible(table, row)


async def test_a_unit_that_sends_nothing_and_one_without_deferral(table: asyncpg.Pool) -> None:
    async with unit_of_work(table, defer_begin=True) as conn:
        pass
    async with table.acquire() as again:
        assert not again.is_in_transaction()
    row = uuid.uuid4()
    async with unit_of_work(table) as conn:  # BEGIN at once: last_statement is a plain fetchval
        assert conn.is_in_transaction()
        await last_statement(conn, INSERT, row)
        assert not await _visible(table, row)
    assert await _visible(table, row)
