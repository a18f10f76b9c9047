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

CONFLICT_SQLSTATE = "BL409"

_APPEND = """SELECT bilan_append($1, $2, $3, $4, $5, $6, $7,
                              $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)"""

_COLUMNS = "stream_id, version, event_id, event_type, data, metadata, recorded_at, position"
_READ_STREAM = (
    f"SELECT {_COLUMNS} FROM events WHERE stream_id = $1 AND version >= $2 ORDER BY version"  # noqa: S608
)
_READ_ALL = f"""SELECT {_COLUMNS}, tx_id::text AS tx FROM events
                WHERE (tx_id, position) > ($1::text::xid8, $2)
                  AND tx_id < bilan_read_horizon()
                ORDER BY tx_id, position
                LIMIT $3"""  # noqa: S608


def outbox_arrays(outbox: Sequence[OutboxMessage]) -> list[list[Any]]:
    """The outbox messages as the parallel arrays that `bilan_append` takes."""
    columns: list[list[Any]] = [[] for _ in range(11)]
    for m in outbox:
        event = m.event
        row = (
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
        for column, value in zip(columns, row, strict=True):
            column.append(value)
    return columns


class PostgresEventStore:
    """The event store of one service's database.

    `on_outbox_write` is called after an append that wrote outbox rows has committed (or, when
    the caller passed its own transaction, right after the statement: the relay then simply
    finds nothing yet, and its polling fallback or the next wake-up catches up).
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
        try:
            if conn is not None:
                version: int = await conn.fetchval(_APPEND, *args)
            else:
                async with self._pool.acquire() as own:
                    version = await own.fetchval(_APPEND, *args)
        except asyncpg.PostgresError as exc:
            if getattr(exc, "sqlstate", None) == CONFLICT_SQLSTATE:
                self._conflicts.inc()
                raise ConcurrencyError(stream_id, expected_version) from None
            raise
        self._appends.inc()
        if outbox and self._on_outbox_write is not None:
            self._on_outbox_write()
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
