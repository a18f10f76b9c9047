"""Where each aggregate's events live in the event store, and how they are read back."""

from __future__ import annotations

from typing import Any, TypeVar
from uuid import UUID

from services.scheduling.domain import sessions, sites, staff
from shared.aggregate.codec import EventCodec
from shared.db import Connection
from shared.eventstore import EventStore, NewEvent

E = TypeVar("E")


def session_stream(session_id: UUID) -> str:
    return f"session-{session_id}"


def staff_stream(staff_id: UUID) -> str:
    return f"staff-{staff_id}"


def site_stream(site_id: UUID) -> str:
    return f"site-{site_id}"


def room_stream(room_id: UUID) -> str:
    return f"room-{room_id}"


_CODECS: tuple[EventCodec[Any], ...] = (
    sessions.CODEC,
    staff.CODEC,
    sites.SITE_CODEC,
    sites.ROOM_CODEC,
)


def new_events(events: list[Any]) -> list[NewEvent]:
    """Domain events as the store keeps them: their type and their JSON fields."""
    converted = []
    for event in events:
        codec = next(c for c in _CODECS if type(event) in c.types)
        encoded = codec.encode(event)
        converted.append(NewEvent(encoded.type, encoded.data, encoded.metadata, encoded.event_id))
    return converted


async def load_session(
    store: EventStore, conn: Connection, session_id: UUID
) -> tuple[sessions.Session | None, int]:
    stored = await store.read_stream(session_stream(session_id), conn=conn)
    events = [sessions.CODEC.decode(e) for e in stored]
    return sessions.fold(events), len(stored)


async def load_staff(
    store: EventStore, conn: Connection, staff_id: UUID
) -> tuple[staff.StaffMember | None, int]:
    stored = await store.read_stream(staff_stream(staff_id), conn=conn)
    events = [staff.CODEC.decode(e) for e in stored]
    return staff.fold(events), len(stored)
