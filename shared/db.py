"""PostgreSQL connection pools and versioned SQL migrations."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeAlias

import asyncpg
import orjson
from asyncpg.pool import PoolConnectionProxy

from shared.logging import get_logger

Connection: TypeAlias = "asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]"
"""A connection, whether opened alone or borrowed from a pool."""

PLATFORM_MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_MIGRATION_LOCK = 0x6269_6C61_6E00  # "bilan\0": one migrator at a time per database

log = get_logger(__name__)


async def _init_connection(conn: asyncpg.Connection) -> None:
    # JSON columns are read and written with orjson: faster, and the same bytes everywhere.
    await conn.set_type_codec(
        "jsonb",
        encoder=lambda v: orjson.dumps(v).decode(),
        decoder=orjson.loads,
        schema="pg_catalog",
    )
    await conn.set_type_codec(
        "json",
        encoder=lambda v: orjson.dumps(v).decode(),
        decoder=orjson.loads,
        schema="pg_catalog",
    )


async def _keep_session(_conn: asyncpg.Connection) -> None:
    # asyncpg's default reset (advisory unlock, CLOSE ALL, UNLISTEN, RESET ALL) is a second
    # round trip on every release: up to +59% appends/s once skipped (bench/README.md). It is
    # safe because pooled connections never keep session state: session locks and LISTEN are
    # taken on dedicated connections only (migrations, the relay's leader lock), and asyncpg
    # still rolls back an open transaction before calling this hook.
    return None


async def create_pool(dsn: str, *, min_size: int = 2, max_size: int = 20) -> asyncpg.Pool:
    """A pool whose connections speak JSON through orjson.

    Rule for every user of the pool: leave no session state on a connection (no SET without
    LOCAL, no session advisory lock, no LISTEN, no temporary table).
    """
    pool = await asyncpg.create_pool(
        dsn, min_size=min_size, max_size=max_size, init=_init_connection, reset=_keep_session
    )
    assert pool is not None
    return pool


async def connect(dsn: str) -> asyncpg.Connection:
    """One connection, set up like the pool's."""
    conn = await asyncpg.connect(dsn)
    await _init_connection(conn)
    return conn


@dataclass(frozen=True, slots=True)
class Migration:
    """One SQL file: applied once, in name order, never edited afterwards."""

    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


class MigrationError(RuntimeError):
    """An applied migration was changed after the fact, or one failed."""


def load_migrations(*folders: Path) -> list[Migration]:
    """The `*.sql` files of `folders`, named after the package that owns them
    (`shared/0001_platform.sql`, `dossier/0001_dossiers.sql`) to keep them apart."""
    found = [
        Migration(f"{folder.parent.name}/{path.name}", path.read_text())
        for folder in folders
        for path in sorted(folder.glob("*.sql"))
    ]
    return found


async def migrate(dsn: str, migrations: Sequence[Migration]) -> list[str]:
    """Apply what is missing, each in its own transaction, under an advisory lock.

    Returns the names applied now. Several processes starting together is safe: the lock makes
    them take turns and the second finds nothing to do.
    """
    conn = await asyncpg.connect(dsn)
    applied_now: list[str] = []
    try:
        await conn.execute("SELECT pg_advisory_lock($1)", _MIGRATION_LOCK)
        await conn.execute(
            """CREATE TABLE IF NOT EXISTS schema_migrations (
                   name text PRIMARY KEY,
                   checksum text NOT NULL,
                   applied_at timestamptz NOT NULL DEFAULT clock_timestamp())"""
        )
        done: dict[str, str] = {
            r["name"]: r["checksum"]
            for r in await conn.fetch("SELECT name, checksum FROM schema_migrations")
        }
        for migration in migrations:
            if migration.name in done:
                if done[migration.name] != migration.checksum:
                    raise MigrationError(f"{migration.name} changed after it was applied")
                continue
            async with conn.transaction():
                await conn.execute(migration.sql)
                await conn.execute(
                    "INSERT INTO schema_migrations (name, checksum) VALUES ($1, $2)",
                    migration.name,
                    migration.checksum,
                )
            applied_now.append(migration.name)
            log.info("migration_applied", migration=migration.name)
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _MIGRATION_LOCK)
        await conn.close()
    return applied_now
