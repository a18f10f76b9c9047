"""Event store port with an in-memory fake and the PostgreSQL implementation."""

from shared.eventstore.memory import InMemoryEventStore
from shared.eventstore.model import (
    ConcurrencyError,
    EventStore,
    NewEvent,
    OutboxMessage,
    Position,
    StoredEvent,
)
from shared.eventstore.postgres import PostgresEventStore

__all__ = [
    "ConcurrencyError",
    "EventStore",
    "InMemoryEventStore",
    "NewEvent",
    "OutboxMessage",
    "Position",
    "PostgresEventStore",
    "StoredEvent",
]
