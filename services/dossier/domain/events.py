"""Domain events of the dossier service: the platform's `DomainEvent` dataclasses, registered
by name, and the one codec that stores and reloads them as JSON (`shared.aggregate.codec`).

Only JSON-ready values live in events: str, int, bool, None, tuples of str, dicts of str, and
timezone-aware datetimes (stored as RFC 3339). Content fields hold already-sealed ciphertext.
A stored event that lacks a field is refused unless an upcaster (`UPCASTERS`) brings it to
the version this code reads, or the class gives the field a default.
"""

from __future__ import annotations

from typing import Any

from shared.aggregate.codec import EventCodec, Upcaster
from shared.aggregate.events import DomainEvent as _PlatformEvent

_REGISTRY: dict[str, type[DomainEvent]] = {}

UPCASTERS: dict[tuple[str, int], Upcaster] = {}
"""(event type, stored version) -> the data of the next version; none yet."""


class DomainEvent(_PlatformEvent):
    """Base of every domain event of this service (subclasses are frozen dataclasses)."""

    __slots__ = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _REGISTRY[cls.event_type] = cls

    def to_data(self) -> dict[str, Any]:
        """JSON-ready data of the event."""
        return codec().encode(self).data


def registered_events() -> list[type[DomainEvent]]:
    """Every domain event type this code knows."""
    return list(_REGISTRY.values())


_CODEC: dict[int, EventCodec[DomainEvent]] = {}
"""The codec, by the number of event types it was made for."""


def codec() -> EventCodec[DomainEvent]:
    """The codec of every registered event (made again if a module registered more since)."""
    found = _CODEC.get(len(_REGISTRY))
    if found is None:
        _CODEC.clear()
        found = _CODEC[len(_REGISTRY)] = EventCodec(_REGISTRY.values(), upcasters=UPCASTERS)
    return found


def load_event(
    type_name: str, data: dict[str, Any], metadata: dict[str, Any] | None = None
) -> DomainEvent:
    """Rebuild a stored event; raises `UnknownEventType` (a KeyError) for an unknown type."""
    return codec().decode(type_name, data, metadata)
