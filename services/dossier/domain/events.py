"""Domain events as frozen dataclasses, with a registry to store and reload them as JSON.

Only JSON-ready values live in events: str, int, bool, None, tuples of str, dicts of str, and
timezone-aware datetimes (stored as RFC 3339). Content fields hold already-sealed ciphertext.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import datetime
from typing import Any, ClassVar

_REGISTRY: dict[str, type[DomainEvent]] = {}


class DomainEvent:
    """Base of every domain event (subclasses are frozen dataclasses), registered by name."""

    __slots__ = ()

    published: ClassVar[bool] = True
    """False for internal facts that have no contract event (e.g. a held session's minutes)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _REGISTRY[cls.__name__] = cls

    @property
    def type(self) -> str:
        return type(self).__name__

    def to_data(self) -> dict[str, Any]:
        """JSON-ready data of the event."""
        return {f.name: _dump(getattr(self, f.name)) for f in dataclasses.fields(self)}  # type: ignore[arg-type]


def _dump(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple):
        return [_dump(v) for v in value]
    return value


def _is_datetime(hint: Any) -> bool:
    if hint is datetime:
        return True
    return typing.get_origin(hint) in (
        typing.Union,
        types.UnionType,
    ) and datetime in typing.get_args(hint)


def registered_events() -> list[type[DomainEvent]]:
    """Every domain event type this code knows."""
    return list(_REGISTRY.values())


_FIELDS: dict[str, tuple[tuple[str, bool], ...]] = {}


def _fields_of(cls: type[DomainEvent]) -> tuple[tuple[str, bool], ...]:
    """(name, is a datetime) of each field: resolving type hints is slow, so once per type."""
    found = _FIELDS.get(cls.__name__)
    if found is None:
        hints = typing.get_type_hints(cls)
        fields = dataclasses.fields(cls)  # type: ignore[arg-type]
        found = _FIELDS[cls.__name__] = tuple((f.name, _is_datetime(hints[f.name])) for f in fields)
    return found


def load_event(type_name: str, data: dict[str, Any]) -> DomainEvent:
    """Rebuild a stored event; raises KeyError for a type this code does not know."""
    cls = _REGISTRY[type_name]
    values: dict[str, Any] = {}
    for name, is_datetime in _fields_of(cls):
        raw = data.get(name)
        if raw is not None and is_datetime:
            values[name] = datetime.fromisoformat(raw)
        elif isinstance(raw, list):
            values[name] = tuple(raw)
        else:
            values[name] = raw
    return cls(**values)
