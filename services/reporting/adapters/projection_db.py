"""PostgreSQL persistence of the fact store: one schema per projection generation.

A generation schema holds `facts (kind, id, doc)` -- each entity's facts as JSON -- and
`positions (topic, partition, next_offset)`. The pointer row of `projection_pointer` names the
generation in use; writers hold it `FOR SHARE` while they write, a rebuild takes it `FOR UPDATE`
to switch, so a switch never interleaves with a batch.

Schema names are interpolated into SQL (identifiers cannot be parameters); `_schema` admits
only `proj_` followed by letters and digits, hence the `noqa: S608` below.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path

import orjson

from shared.db import Connection, load_migrations, migrate

from ..facts.model import KINDS
from ..facts.state import FactStore

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
_CHUNK = 5_000

Positions = dict[tuple[str, int], int]
"""`(topic, partition) -> next offset to read`."""


async def migrate_reporting(dsn: str) -> None:
    """Apply the reporting migrations (the pointer and dead-letter tables)."""
    await migrate(dsn, load_migrations(MIGRATIONS))


def _schema(generation: str) -> str:
    if not generation.startswith("proj_") or not generation[5:].isalnum():
        raise ValueError(f"not a generation name: {generation!r}")
    return generation


async def create_generation(conn: Connection) -> str:
    """A new, empty generation schema; returns its name."""
    generation = f"proj_{uuid.uuid4().hex[:12]}"
    await conn.execute(
        f"""CREATE SCHEMA {generation};
            CREATE TABLE {generation}.facts (
                kind text NOT NULL, id text NOT NULL, doc jsonb NOT NULL,
                PRIMARY KEY (kind, id));
            CREATE TABLE {generation}.positions (
                topic text NOT NULL, "partition" integer NOT NULL, next_offset bigint NOT NULL,
                PRIMARY KEY (topic, "partition"));
            CREATE TABLE {generation}.meta (key text PRIMARY KEY, value jsonb NOT NULL);"""
    )
    return generation


async def current_generation(conn: Connection, *, lock: str = "") -> str | None:
    """The generation queries use; `lock` is "" or "FOR SHARE" / "FOR UPDATE"."""
    assert lock in ("", "FOR SHARE", "FOR UPDATE")
    found: str | None = await conn.fetchval(f"SELECT generation FROM projection_pointer {lock}")  # noqa: S608
    return found


async def ensure_generation(conn: Connection) -> str:
    """The current generation, made (empty) on first start."""
    async with conn.transaction():
        await conn.execute("LOCK TABLE projection_pointer IN EXCLUSIVE MODE")
        found = await current_generation(conn)
        if found is not None:
            return found
        generation = await create_generation(conn)
        await conn.execute("INSERT INTO projection_pointer (generation) VALUES ($1)", generation)
        return generation


async def switch_generation(conn: Connection, generation: str, *, drop: str | None) -> None:
    """Point queries at `generation` and drop the old one (call inside the locking transaction)."""
    await conn.execute(
        "UPDATE projection_pointer SET generation = $1, switched_at = now()", _schema(generation)
    )
    if drop is not None and drop != generation:
        await conn.execute(f"DROP SCHEMA IF EXISTS {_schema(drop)} CASCADE")


async def load(conn: Connection, generation: str) -> tuple[FactStore, Positions]:
    """The facts and positions of a generation."""
    schema = _schema(generation)
    store = FactStore()
    for record in await conn.fetch(f"SELECT kind, id, doc FROM {schema}.facts"):  # noqa: S608
        cls = KINDS[record["kind"]]
        store.table(record["kind"])[record["id"]] = cls(**record["doc"])
    store.changed_dossiers.update(store.dossiers)
    positions: Positions = {
        (r["topic"], r["partition"]): r["next_offset"]
        for r in await conn.fetch(f'SELECT topic, "partition", next_offset FROM {schema}.positions')  # noqa: S608
    }
    last = await conn.fetchval(f"SELECT value FROM {schema}.meta WHERE key = 'last_event_at'")  # noqa: S608
    store.last_event_at = None if last is None else float(last)
    store.version = 1
    return store, positions


async def save(
    conn: Connection,
    generation: str,
    store: FactStore,
    positions: Mapping[tuple[str, int], int],
    *,
    everything: bool = False,
) -> None:
    """Write the entities changed since the last save (or all of them) and the positions."""
    schema = _schema(generation)
    keys: Iterable[tuple[str, str]] = (
        [(kind, eid) for kind in KINDS for eid in store.table(kind)] if everything else store.dirty
    )
    rows = [(kind, eid, orjson.dumps(store.table(kind)[eid]).decode()) for kind, eid in keys]
    for start in range(0, len(rows), _CHUNK):
        chunk = rows[start : start + _CHUNK]
        await conn.execute(
            f"""INSERT INTO {schema}.facts (kind, id, doc)
                SELECT k, i, d::jsonb FROM unnest($1::text[], $2::text[], $3::text[]) AS t(k, i, d)
                ON CONFLICT (kind, id) DO UPDATE SET doc = EXCLUDED.doc""",  # noqa: S608
            [r[0] for r in chunk],
            [r[1] for r in chunk],
            [r[2] for r in chunk],
        )
    if positions:
        await conn.execute(
            f"""INSERT INTO {schema}.positions (topic, "partition", next_offset)
                SELECT * FROM unnest($1::text[], $2::int[], $3::bigint[])
                ON CONFLICT (topic, "partition") DO UPDATE
                SET next_offset = GREATEST({schema}.positions.next_offset, EXCLUDED.next_offset)""",  # noqa: S608
            [tp[0] for tp in positions],
            [tp[1] for tp in positions],
            list(positions.values()),
        )
    if store.last_event_at is not None:
        await conn.execute(
            f"""INSERT INTO {schema}.meta (key, value) VALUES ('last_event_at', $1::jsonb)
                ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value""",  # noqa: S608
            store.last_event_at,
        )
    store.dirty.clear()


async def record_dead_letter(
    conn: Connection, topic: str, partition: int, offset: int, reason: str
) -> None:
    """Count an undecodable record once, whatever the redeliveries."""
    await conn.execute(
        """INSERT INTO dead_letters (topic, "partition", "offset", reason) VALUES ($1, $2, $3, $4)
           ON CONFLICT DO NOTHING""",
        topic,
        partition,
        offset,
        reason,
    )


async def dead_letter_counts(conn: Connection) -> dict[str, int]:
    """Dead-lettered records per source topic."""
    return {
        r["topic"]: r["n"]
        for r in await conn.fetch("SELECT topic, count(*) AS n FROM dead_letters GROUP BY topic")
    }
