"""PostgreSQL event store: one round trip per append, outbox rows in the same transaction."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import asyncpg

from shared.clock import Clock, SystemClock
from shared.contracts.base import format_utc
from shared.db import Connection
from shared.envelope import serialize_data, validate_site_id
from shared.eventstore.model import (
    ConcurrencyError,
    NewEvent,
    OutboxMessage,
    Position,
    StoredEvent,
)
from shared.metrics import APPEND_CONFLICTS, APPENDS
from shared.unit_of_work import once_committed

# Appending is one statement whose data-modifying CTEs do what `bilan_append` (0001_platform.sql,
# kept for older clients) did in a nested PL/pgSQL loop. It is sent by the client rather than
# wrapped in a function: asyncpg prepares it once per connection and PostgreSQL keeps a generic
# plan, whereas a LANGUAGE sql function would be planned again on every call (PostgreSQL 15).
# Measured against `bilan_append`, it costs the same CPU per append (bench/README.md, "After
# set-based append"); what it changes is that a refused append is no SQL error, so the caller's
# transaction stays usable, and that several subjects' counters are locked in a fixed order.
#
# Every CTE reads from `s`, the stream's version check: when the stream is not at the expected
# version, `s` yields no row, nothing is written and the statement returns NULL (ConcurrencyError).
# Row locks are those of `bilan_append`: the stream's row first (concurrent appends to one stream
# wait for it, then find the version changed), then each subject's counter row, before the outbox
# rows take their ids, so that a subject's rows get increasing ids in sequence order (the relay's
# ordering guarantee) and ce_sequence stays gapless per subject.

_EXISTING_STREAM = """UPDATE streams SET version = $2 + {n}
                      WHERE stream_id = $1 AND version = $2
                      RETURNING version"""
_NEW_STREAM = """INSERT INTO streams (stream_id, version) VALUES ($1, $2 + {n})
                 ON CONFLICT (stream_id) DO NOTHING
                 RETURNING version"""

# One event, at most one outbox message (the usual command): scalar parameters. asyncpg checks
# every array parameter and element against collections.abc (~75 isinstance calls for the 15
# arrays of a single-event append), on every call.
_ONE_EVENT = """INSERT INTO events (stream_id, version, event_id, event_type, data, metadata,
                                   recorded_at)
                SELECT $1, version, $3, $4, $5, $6, $7 FROM s"""
_ONE_MESSAGE = """
c AS (
    INSERT INTO outbox_subjects AS c (subject, last_sequence)
    SELECT $11, 1 FROM s
    ON CONFLICT (subject) DO UPDATE SET last_sequence = c.last_sequence + 1
    RETURNING last_sequence),
o AS (
    INSERT INTO outbox (event_id, topic, partition_key, subject, sequence, ce_type, ce_source,
                        ce_time, site_id, correlation_id, causation_id, value)
    SELECT $8, $9, $10, $11, last_sequence, $12, $13, $14, $15, $16, $17, $18 FROM c)"""

# Any number of events and messages: parallel arrays. A subject's counter is raised once by its
# number of messages (ON CONFLICT cannot update a row twice in one statement), and its messages
# take the sequences below the new value in their order. Counters are locked in subject order,
# so two appends that publish for the same subjects cannot deadlock on them.
_MANY_EVENTS = """INSERT INTO events (stream_id, version, event_id, event_type, data, metadata,
                                     recorded_at)
    SELECT $1, $2 + u.i, u.event_id, u.event_type, u.data, u.metadata, $7
    FROM s, unnest($3::uuid[], $4::text[], $5::jsonb[], $6::jsonb[])
            WITH ORDINALITY AS u(event_id, event_type, data, metadata, i)"""
_MANY_MESSAGES = """
m AS (
    SELECT u.*, row_number() OVER (PARTITION BY u.subject ORDER BY u.i) AS rank,
           count(*) OVER (PARTITION BY u.subject) AS n
    FROM s, unnest($8::uuid[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[],
                   $14::text[], $15::text[], $16::text[], $17::text[], $18::bytea[])
            WITH ORDINALITY AS u(event_id, topic, partition_key, subject, ce_type, ce_source,
                                 ce_time, site_id, correlation_id, causation_id, value, i)),
c AS (
    INSERT INTO outbox_subjects AS c (subject, last_sequence)
    SELECT subject, count(*) FROM m GROUP BY subject ORDER BY subject
    ON CONFLICT (subject) DO UPDATE SET last_sequence = c.last_sequence + excluded.last_sequence
    RETURNING subject, last_sequence),
o AS (
    INSERT INTO outbox (event_id, topic, partition_key, subject, sequence, ce_type, ce_source,
                        ce_time, site_id, correlation_id, causation_id, value)
    SELECT m.event_id, m.topic, m.partition_key, m.subject, c.last_sequence - m.n + m.rank,
           m.ce_type, m.ce_source, m.ce_time, m.site_id, m.correlation_id, m.causation_id,
           m.value
    FROM m JOIN c USING (subject)
    ORDER BY m.i)"""


def _append_sql(*, new_stream: bool, events: str, messages: str) -> str:
    """The append statement for a new or an existing stream and one shape of arguments."""
    n = "cardinality($3::uuid[])" if events is _MANY_EVENTS else "1"
    check = (_NEW_STREAM if new_stream else _EXISTING_STREAM).format(n=n)
    if not messages:
        return f"WITH s AS ({check})\n{events}\nRETURNING version"
    return f"WITH s AS ({check}),\ne AS ({events}),{messages}\nSELECT version FROM s"


# Keyed by (new stream, shape): "one" = 1 event and no message, "one+1" = 1 event and 1 message.
_APPEND = {
    (new_stream, shape): _append_sql(new_stream=new_stream, events=events, messages=messages)
    for new_stream in (True, False)
    for shape, events, messages in (
        ("one", _ONE_EVENT, ""),
        ("one+1", _ONE_EVENT, _ONE_MESSAGE),
        ("many", _MANY_EVENTS, _MANY_MESSAGES),
    )
}

_COLUMNS = "stream_id, version, event_id, event_type, data, metadata, recorded_at, position"
_READ_ALL = f"""SELECT {_COLUMNS}, tx_id::text AS tx FROM events
                WHERE (tx_id, position) > ($1::text::xid8, $2)
                  AND tx_id < bilan_read_horizon()
                ORDER BY tx_id, position
                LIMIT $3"""  # noqa: S608


def outbox_row(m: OutboxMessage) -> tuple[Any, ...]:
    """One outbox message as the values of its outbox row, in the statements' order."""
    event = m.event
    return (
        m.event_id,
        event.topic(),
        event.partition_key(),
        event.subject(),
        event.ce_type(),
        event.ce_source(),
        format_utc(event.occurred_at()),
        validate_site_id(m.site_id),
        m.correlation_id,
        m.causation_id,
        serialize_data(event),
    )


def outbox_arrays(outbox: Sequence[OutboxMessage]) -> list[list[Any]]:
    """The outbox messages as parallel arrays (the append statement, `bilan_outbox_enqueue`)."""
    columns: list[list[Any]] = [[] for _ in range(11)]
    for m in outbox:
        for column, value in zip(columns, outbox_row(m), strict=True):
            column.append(value)
    return columns


class PostgresEventStore:
    """The event store of one service's database.

    `on_outbox_write` is called once an append that wrote outbox rows has committed: right
    after its own statement, or, in the caller's `unit_of_work`, after that commits (woken
    earlier, the relay would find nothing yet and sleep until its next poll). In a transaction
    opened otherwise it is called right after the statement, and the relay's polling catches up.
    """

    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        clock: Clock | None = None,
        on_outbox_write: Callable[[], None] | None = None,
        service: str = "service",
    ) -> None:
        self._pool = pool
        self._appends = APPENDS.labels(service)
        self._conflicts = APPEND_CONFLICTS.labels(service)
        self._clock = clock or SystemClock()
        self._on_outbox_write = on_outbox_write

    async def append(
        self,
        stream_id: str,
        expected_version: int,
        events: Sequence[NewEvent],
        *,
        outbox: Sequence[OutboxMessage] = (),
        conn: Connection | None = None,
    ) -> int:
        if expected_version < 0:
            raise ValueError("expected_version is 0 for a new stream, or the current version")
        if not events:
            return expected_version
        new_stream = expected_version == 0
        args: tuple[Any, ...]
        if len(events) == 1 and len(outbox) <= 1:
            event = events[0]
            args = (
                stream_id,
                expected_version,
                event.event_id,
                event.type,
                event.data,
                event.metadata,
                self._clock.now(),
            )
            if outbox:
                args += outbox_row(outbox[0])
            query = _APPEND[new_stream, "one+1" if outbox else "one"]
        else:
            args = (
                stream_id,
                expected_version,
                [e.event_id for e in events],
                [e.type for e in events],
                [e.data for e in events],
                [e.metadata for e in events],
                self._clock.now(),
                *outbox_arrays(outbox),
            )
            query = _APPEND[new_stream, "many"]
        version: int | None
        if conn is not None:
            version = await conn.fetchval(query, *args)
        else:
            async with self._pool.acquire() as own:
                version = await own.fetchval(query, *args)
        if version is None:
            self._conflicts.inc()
            raise ConcurrencyError(stream_id, expected_version)
        self._appends.inc()
        poke = self._on_outbox_write
        if outbox and poke is not None:
            if conn is None:
                poke()  # its own transaction, committed on return
            else:
                once_committed(poke)
        return version

    async def read_stream(
        self, stream_id: str, from_version: int = 1, *, conn: Connection | None = None
    ) -> list[StoredEvent]:
        query = (
            f"SELECT {_COLUMNS} FROM events WHERE stream_id = $1 AND version >= $2 ORDER BY version"  # noqa: S608 (constant column list)
        )
        if conn is not None:
            rows = await conn.fetch(query, stream_id, from_version)
        else:
            rows = await self._pool.fetch(query, stream_id, from_version)
        return [_stored(r) for r in rows]

    async def read_all(
        self, after: Position | None = None, limit: int = 1000
    ) -> tuple[list[StoredEvent], Position]:
        # Positions are taken at insert time and commit out of order, so "position > last" would
        # skip an event whose transaction commits late. Instead, read only the events of
        # transactions older than every transaction of this database still running (see
        # bilan_read_horizon), in (transaction, position) order: nothing can ever appear
        # behind the returned position.
        after = after or Position()
        rows = await self._pool.fetch(
            _READ_ALL,
            str(after.tx_id),
            after.position,
            limit,
        )
        if not rows:
            return [], after
        last = rows[-1]
        return [_stored(r) for r in rows], Position(int(last["tx"]), int(last["position"]))


def _stored(row: asyncpg.Record) -> StoredEvent:
    recorded_at: datetime = row["recorded_at"]
    return StoredEvent(
        stream_id=row["stream_id"],
        version=row["version"],
        event_id=row["event_id"],
        type=row["event_type"],
        data=row["data"],
        metadata=row["metadata"],
        recorded_at=recorded_at,
        position=row["position"],
    )
