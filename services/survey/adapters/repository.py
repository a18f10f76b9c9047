"""Loading and saving event-sourced aggregates, with their outbox messages and read model.

Each aggregate's state is the fold of its stream; saving appends the new domain events, the
integration events they translate to (published by the relay) and the refreshed read-model row,
all in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from services.survey.adapters.codec import EventCodec
from shared.db import Connection
from shared.eventstore import OutboxMessage, PostgresEventStore

S = TypeVar("S")
E = TypeVar("E")


@dataclass(frozen=True, slots=True)
class Loaded(Generic[S]):
    """An aggregate's state (None when it does not exist) and its stream version."""

    state: S | None
    version: int


class Repository(Generic[S, E]):
    """One aggregate type: stream naming, folding, appending, read model."""

    def __init__(
        self,
        *,
        prefix: str,
        codec: EventCodec[E],
        evolve: Callable[[S | None, E], S],
        outbox: Callable[[S, E], Sequence[OutboxMessage]],
        project: Callable[[Connection, S, int], Awaitable[None]],
        store: Callable[[], PostgresEventStore],
    ) -> None:
        self._prefix = prefix
        self._codec = codec
        self._evolve = evolve
        self._outbox = outbox
        self._project = project
        self._store = store

    def stream_id(self, aggregate_id: object) -> str:
        return f"{self._prefix}-{aggregate_id}"

    async def load(self, conn: Connection, aggregate_id: object) -> Loaded[S]:
        stored = await self._store().read_stream(self.stream_id(aggregate_id), conn=conn)
        state: S | None = None
        for record in stored:
            state = self._evolve(state, self._codec.decode(record))
        return Loaded(state, stored[-1].version if stored else 0)

    async def save(
        self,
        conn: Connection,
        aggregate_id: object,
        loaded: Loaded[S],
        events: Sequence[E],
    ) -> Loaded[S]:
        """Append `events` at the loaded version; returns the new state and version."""
        if not events:
            return loaded
        state = loaded.state
        outbox: list[OutboxMessage] = []
        for event in events:
            state = self._evolve(state, event)
            outbox.extend(self._outbox(state, event))
        assert state is not None
        version = await self._store().append(
            self.stream_id(aggregate_id),
            loaded.version,
            [self._codec.encode(e) for e in events],
            outbox=outbox,
            conn=conn,
        )
        await self._project(conn, state, version)
        return Loaded(state, version)
