"""What an event store holds and promises, independent of where it keeps events."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID, uuid4

from shared.contracts.base import IntegrationEvent


class ConcurrencyError(Exception):
    """The stream was not at the expected version: someone else appended first (HTTP 409)."""

    def __init__(self, stream_id: str, expected: int, actual: int | None = None) -> None:
        where = f", it is at {actual}" if actual is not None else ""
        super().__init__(f"stream {stream_id} was expected at version {expected}{where}")
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual


@dataclass(frozen=True, slots=True)
class NewEvent:
    """A domain event to append: its type name and JSON-ready data (content already encrypted)."""

    type: str
    data: dict[str, Any]
    metadata: dict[str, Any] = field(default_factory=dict)
    event_id: UUID = field(default_factory=uuid4)


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An event as recorded: its stream, version and global position."""

    stream_id: str
    version: int
    event_id: UUID
    type: str
    data: dict[str, Any]
    metadata: dict[str, Any]
    recorded_at: datetime
    position: int


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """An integration event to publish once the command's transaction commits."""

    event: IntegrationEvent
    site_id: str
    correlation_id: str
    causation_id: str
    event_id: UUID = field(default_factory=uuid4)


@dataclass(frozen=True, slots=True)
class Position:
    """Where `read_all` left off. Opaque to callers; `StoredEvent.position` orders within it."""

    tx_id: int = 0
    position: int = 0


class EventStore(Protocol):
    """The port every service writes its aggregates through."""

    async def append(
        self,
        stream_id: str,
        expected_version: int,
        events: Sequence[NewEvent],
        *,
        outbox: Sequence[OutboxMessage] = (),
        conn: Any = None,
    ) -> int:
        """Append atomically if the stream is at `expected_version` (0: new stream).

        Returns the new version. Raises `ConcurrencyError` otherwise. `outbox` messages are
        written in the same transaction. `conn`, when given, is the caller's open transaction.
        """
        ...

    async def read_stream(
        self, stream_id: str, from_version: int = 1, *, conn: Any = None
    ) -> list[StoredEvent]:
        """The stream's events from `from_version` on, in version order."""
        ...

    async def read_all(
        self, after: Position | None = None, limit: int = 1000
    ) -> tuple[list[StoredEvent], Position]:
        """Events recorded after `after`, and the position to continue from.

        A reader that follows the returned positions sees every committed event exactly once,
        even though transactions commit out of order.
        """
        ...
