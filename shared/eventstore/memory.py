"""In-memory event store: the fake used by unit tests of application code."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from shared.clock import Clock, SystemClock
from shared.eventstore.model import (
    ConcurrencyError,
    NewEvent,
    OutboxMessage,
    Position,
    StoredEvent,
)


class InMemoryEventStore:
    """Keeps the same promises as the PostgreSQL store, in one process."""

    def __init__(self, clock: Clock | None = None) -> None:
        self._clock = clock or SystemClock()
        self._streams: dict[str, list[StoredEvent]] = {}
        self._all: list[StoredEvent] = []
        self.outbox: list[tuple[int, OutboxMessage]] = []
        """Messages with their per-subject sequence, in the order they were written."""
        self._subject_sequences: dict[str, int] = {}

    async def append(
        self,
        stream_id: str,
        expected_version: int,
        events: Sequence[NewEvent],
        *,
        outbox: Sequence[OutboxMessage] = (),
        conn: Any = None,
    ) -> int:
        stream = self._streams.get(stream_id, [])
        if len(stream) != expected_version:
            raise ConcurrencyError(stream_id, expected_version, len(stream))
        if not events:
            return expected_version
        recorded_at: datetime = self._clock.now()
        stored = [
            StoredEvent(
                stream_id=stream_id,
                version=expected_version + i,
                event_id=event.event_id,
                type=event.type,
                data=copy.deepcopy(event.data),
                metadata=copy.deepcopy(event.metadata),
                recorded_at=recorded_at,
                position=len(self._all) + i,
            )
            for i, event in enumerate(events, start=1)
        ]
        self._streams[stream_id] = [*stream, *stored]
        self._all.extend(stored)
        for message in outbox:
            subject = message.event.subject()
            sequence = self._subject_sequences.get(subject, 0) + 1
            self._subject_sequences[subject] = sequence
            self.outbox.append((sequence, message))
        return expected_version + len(events)

    async def read_stream(
        self, stream_id: str, from_version: int = 1, *, conn: Any = None
    ) -> list[StoredEvent]:
        return [e for e in self._streams.get(stream_id, []) if e.version >= from_version]

    async def read_all(
        self, after: Position | None = None, limit: int = 1000
    ) -> tuple[list[StoredEvent], Position]:
        start = after.position if after else 0
        batch = self._all[start : start + limit]
        end = Position(0, start + len(batch))
        return batch, end
