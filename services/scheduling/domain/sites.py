"""Sites and their rooms. A room says whether it keeps an interview confidential (ind. 17)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from services.scheduling.domain.errors import conflict, not_found
from services.scheduling.domain.stored import StoredCodec
from shared.aggregate.events import DomainEvent


@dataclass(frozen=True, slots=True)
class OpenSite:
    site_id: UUID
    name: str
    region: str
    address: str | None = None


@dataclass(frozen=True, slots=True)
class RegisterRoom:
    room_id: UUID
    site_id: UUID
    name: str
    confidential: bool
    site_exists: bool


@dataclass(frozen=True, slots=True)
class SiteOpened(DomainEvent):
    site_id: UUID
    name: str
    region: str
    opened_at: datetime
    address: str | None = None
    """The postal address; kept in the stream, not published (events.md has none and a
    consumer needs none)."""


@dataclass(frozen=True, slots=True)
class RoomRegistered(DomainEvent):
    room_id: UUID
    site_id: UUID
    name: str
    confidential: bool
    registered_at: datetime


SITE_CODEC = StoredCodec[SiteOpened]([SiteOpened])
ROOM_CODEC = StoredCodec[RoomRegistered]([RoomRegistered])
"""Each a stream of its own (`site-<id>`, `room-<id>`), in the shape first stored."""


def decide_site(exists: bool, command: OpenSite, now: datetime) -> list[SiteOpened]:
    """Open a site once."""
    if exists:
        raise conflict("site_exists", "this site is already open")
    return [
        SiteOpened(
            site_id=command.site_id,
            name=command.name,
            region=command.region,
            opened_at=now,
            address=command.address,
        )
    ]


def decide_room(exists: bool, command: RegisterRoom, now: datetime) -> list[RoomRegistered]:
    """Register a room of an open site once."""
    if not command.site_exists:
        raise not_found("site_not_found", "no such site")
    if exists:
        raise conflict("room_exists", "this room is already registered")
    return [
        RoomRegistered(
            room_id=command.room_id,
            site_id=command.site_id,
            name=command.name,
            confidential=command.confidential,
            registered_at=now,
        )
    ]
