"""Loading and appending one kind of event-sourced aggregate, on any `EventStore`.

An aggregate's state is the fold of its stream with the domain's `evolve`; appending writes
the new domain events at the version that was read (a concurrent write is a
`ConcurrencyError`, 409), with the integration events they translate to in the outbox and,
when the repository has one, the refreshed read-model row, all in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from shared.aggregate.codec import EventCodec
from shared.eventstore.model import ConcurrencyError, EventStore, NewEvent, OutboxMessage

S = TypeVar("S")
E = TypeVar("E")

Evolve = Callable[[S | None, E], S]
"""The domain's `evolve(state, event) -> state` (None before the first event)."""
OutboxOf = Callable[[S, E], Sequence[OutboxMessage]]
"""The integration events one new domain event publishes, given the state it led to."""
Project = Callable[[Any, S | None, S, int], Awaitable[None]]
"""Refresh a read model: (conn, state before, state after, new version)."""


@dataclass(frozen=True, slots=True)
class Loaded(Generic[S]):
    """An aggregate's state (None when it does not exist) and its stream version."""

    state: S | None
    version: int


def fold(evolve: Evolve[S, E], events: Sequence[E], state: S | None = None) -> S | None:
    """The state `events` lead to from `state`."""
    for event in events:
        state = evolve(state, event)
    return state


class Repository(Generic[S, E]):
    """One aggregate type: its streams (`<prefix>-<id>`), codec, fold, outbox, read model.

    `store` is the event store or a function giving it (a runtime's store exists only once it
    started). `outbox` and `project` are optional: a stream that publishes nothing and has no
    read model (e.g. a counter) needs neither.
    """

    def __init__(
        self,
        *,
        prefix: str,
        codec: EventCodec[E],
        evolve: Evolve[S, E],
        store: EventStore | Callable[[], EventStore],
        outbox: OutboxOf[S, E] | None = None,
        project: Project[S] | None = None,
    ) -> None:
        self.prefix = prefix
        self.codec = codec
        self._evolve = evolve
        self._store = store
        self._outbox = outbox
        self._project = project

    @property
    def store(self) -> EventStore:
        store = self._store
        return store() if callable(store) else store

    def stream_id(self, aggregate_id: object) -> str:
        return f"{self.prefix}-{aggregate_id}"

    async def history(self, aggregate_id: object, *, conn: Any = None) -> tuple[list[E], int]:
        """The stream's domain events and its version (0 when it does not exist)."""
        stored = await self.store.read_stream(self.stream_id(aggregate_id), conn=conn)
        decode = self.codec.decode
        return [decode(e) for e in stored], (stored[-1].version if stored else 0)

    async def load(
        self, aggregate_id: object, *, conn: Any = None, expected_version: int | None = None
    ) -> Loaded[S]:
        """The aggregate's current state; with `expected_version`, a `ConcurrencyError` when
        it exists at another version (the client's `If-Match` is stale)."""
        events, version = await self.history(aggregate_id, conn=conn)
        loaded = Loaded(fold(self._evolve, events), version)
        if expected_version is not None:
            self.check_version(aggregate_id, loaded, expected_version)
        return loaded

    def check_version(self, aggregate_id: object, loaded: Loaded[S], expected: int) -> None:
        """Refuse (409) a write based on a version the aggregate is no longer at."""
        if loaded.state is not None and loaded.version != expected:
            raise ConcurrencyError(self.stream_id(aggregate_id), expected, loaded.version)

    async def append(
        self,
        aggregate_id: object,
        loaded: Loaded[S],
        events: Sequence[E],
        *,
        conn: Any = None,
        outbox: Sequence[OutboxMessage] = (),
    ) -> Loaded[S]:
        """Append `events` at the loaded version, with their outbox messages (those of the
        repository's `outbox` and any given) and the read model, in the caller's transaction;
        returns the new state and version (`loaded` itself when there is nothing to append).
        """
        state = loaded.state
        if not events:
            return loaded
        messages: list[OutboxMessage] = []
        for event in events:
            state = self._evolve(state, event)
            if self._outbox is not None:
                messages.extend(self._outbox(state, event))
        assert state is not None
        messages.extend(outbox)
        encoded = [self.codec.encode(e) for e in events]
        version = await self.store.append(
            self.stream_id(aggregate_id),
            loaded.version,
            [NewEvent(e.type, e.data, e.metadata, e.event_id) for e in encoded],
            outbox=messages,
            conn=conn,
        )
        if self._project is not None:
            await self._project(conn, loaded.state, state, version)
        return Loaded(state, version)
