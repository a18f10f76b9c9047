"""Domain events to and from the JSON stored in the event store.

The domain's events are frozen dataclasses of plain values; this codec writes them as JSON
(times in RFC 3339, ids as strings) under their class name, and reads them back with the types
their annotations declare.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import datetime
from typing import Any, Generic, TypeVar
from uuid import UUID

from shared.eventstore import NewEvent, StoredEvent

E = TypeVar("E")


class EventCodec(Generic[E]):
    """Encodes and decodes one aggregate's event classes."""

    def __init__(self, *event_types: type[E]) -> None:
        self._types = {t.__name__: t for t in event_types}
        self._hints = {t.__name__: typing.get_type_hints(t) for t in event_types}

    def encode(self, event: E) -> NewEvent:
        data = {
            f.name: _to_json(getattr(event, f.name))
            for f in dataclasses.fields(event)  # type: ignore[arg-type]
        }
        return NewEvent(type(event).__name__, data)

    def decode(self, stored: StoredEvent) -> E:
        cls = self._types[stored.type]
        hints = self._hints[stored.type]
        values = {name: _from_json(hints[name], value) for name, value in stored.data.items()}
        return cls(**values)


def _to_json(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, frozenset | set):
        return sorted(value)
    return value


def _from_json(hint: Any, value: Any) -> Any:
    if value is None:
        return None
    candidates = typing.get_args(hint) if _is_union(hint) else (hint,)
    if datetime in candidates:
        return datetime.fromisoformat(value)
    if UUID in candidates:
        return UUID(value)
    return value


def _is_union(hint: Any) -> bool:
    return typing.get_origin(hint) in (typing.Union, types.UnionType)
