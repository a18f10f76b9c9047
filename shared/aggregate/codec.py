"""Domain events to and from the JSON an event store keeps, with explicit upcasting.

An event is stored under its type name (`DomainEvent.event_type`) with its fields as JSON:
times in RFC 3339, ids as strings, tuples and sets as lists (sets sorted), enums as values.
Reading it back gives each field the type its annotation declares. A stored event carries the
version of its fields in its metadata (`event_version`, written only above 1 so that the events
recorded before versioning read as version 1): an older one is brought up to date by the
upcasters registered for its type, one version step each.

Nothing is guessed: a field that the stored data lacks is an error unless the dataclass gives it
a default, and so is a field that the class does not declare (an upcaster renames or drops it).

Standard library only: a domain may build its codec.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, Literal, TypeVar
from uuid import UUID, uuid4

E = TypeVar("E")

VERSION_KEY = "event_version"
"""Where a stored event's metadata holds the version of its fields (absent: version 1)."""

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]
"""Turns the data of one stored version of an event type into the data of the next version."""


class CodecError(Exception):
    """A stored event this code cannot read as it is."""


class UnknownEventType(CodecError, KeyError):
    def __init__(self, type_name: str) -> None:
        super().__init__(f"no domain event is stored as {type_name!r}")
        self.type_name = type_name


class UnknownEventVersion(CodecError):
    def __init__(self, type_name: str, version: int, current: int) -> None:
        super().__init__(
            f"{type_name} v{version} is stored but this code reads v{current}: "
            f"register an upcaster for ({type_name!r}, {version})"
        )


class MissingField(CodecError):
    def __init__(self, type_name: str, fields: Iterable[str], *, unknown: bool = False) -> None:
        names = ", ".join(sorted(fields))
        what = "fields this code does not declare" if unknown else "no value for"
        super().__init__(f"stored {type_name} has {what}: {names} (an upcaster is missing)")


@dataclass(frozen=True, slots=True)
class Encoded:
    """An event as stored: its type name, its JSON data, its metadata (the version)."""

    type: str
    data: dict[str, Any]
    metadata: dict[str, Any]
    event_id: UUID = field(default_factory=uuid4)


@dataclass(frozen=True, slots=True)
class _Shape:
    cls: type[Any]
    version: int
    fields: tuple[tuple[str, Callable[[Any], Any]], ...]
    required: frozenset[str]


class EventCodec(Generic[E]):
    """Encodes and decodes one aggregate's (or one service's) event classes.

    `upcasters` maps (type name, stored version) to the function giving the next version's
    data; a type at version n needs one for each of 1 … n-1 that may still be stored.
    """

    def __init__(
        self,
        event_types: Iterable[type[E]],
        *,
        upcasters: Mapping[tuple[str, int], Upcaster] | None = None,
    ) -> None:
        self._shapes: dict[str, _Shape] = {}
        for cls in event_types:
            name = _type_name(cls)
            if name in self._shapes:
                raise ValueError(f"two event classes are stored as {name!r}")
            self._shapes[name] = _shape_of(cls)
        self._upcasters = dict(upcasters or {})
        for name, version in self._upcasters:
            shape = self._shapes.get(name)
            if shape is None or not 1 <= version < shape.version:
                raise ValueError(f"upcaster for {name} v{version}: no such older version")

    @property
    def types(self) -> list[type[E]]:
        return [shape.cls for shape in self._shapes.values()]

    def encode(self, event: E) -> Encoded:
        name = _type_name(type(event))
        shape = self._shapes.get(name)
        if shape is None:
            raise UnknownEventType(name)
        data = {f: _dump(getattr(event, f)) for f, _ in shape.fields}
        metadata = {VERSION_KEY: shape.version} if shape.version != 1 else {}
        return Encoded(name, data, metadata)

    def decode(
        self,
        stored: str | Any,
        data: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> E:
        """Rebuild a stored event, upcast to the version this code reads: from a stored record
        (anything with `type`, `data` and `metadata`, e.g. a `StoredEvent`), or from its type
        name, data and metadata."""
        if isinstance(stored, str):
            type_name = stored
        else:
            type_name, data, metadata = stored.type, stored.data, stored.metadata
        shape = self._shapes.get(type_name)
        if shape is None:
            raise UnknownEventType(type_name)
        version = int((metadata or {}).get(VERSION_KEY, 1))
        values = dict(data or {})
        while version < shape.version:
            upcast = self._upcasters.get((type_name, version))
            if upcast is None:
                raise UnknownEventVersion(type_name, version, shape.version)
            values = upcast(values)
            version += 1
        if version > shape.version:
            raise UnknownEventVersion(type_name, version, shape.version)
        missing = shape.required - values.keys()
        if missing:
            raise MissingField(type_name, missing)
        if len(values) > len(shape.fields) or not values.keys() <= {f for f, _ in shape.fields}:
            raise MissingField(
                type_name, values.keys() - {f for f, _ in shape.fields}, unknown=True
            )
        result: E = shape.cls(**{f: load(values[f]) for f, load in shape.fields if f in values})
        return result


def _type_name(cls: type[Any]) -> str:
    name = getattr(cls, "event_type", None)
    return name if isinstance(name, str) else cls.__name__


def _shape_of(cls: type[Any]) -> _Shape:
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls.__name__} is not a dataclass")
    hints = typing.get_type_hints(cls)
    fields = dataclasses.fields(cls)
    required = frozenset(
        f.name
        for f in fields
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    )
    return _Shape(
        cls=cls,
        version=int(getattr(cls, "event_version", 1)),
        fields=tuple((f.name, _loader(hints[f.name])) for f in fields),
        required=required,
    )


def _identity(value: Any) -> Any:
    return value


def _loader(hint: Any) -> Callable[[Any], Any]:
    """How to read a JSON value back as `hint` declares it."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if hint is datetime:
        return datetime.fromisoformat
    if hint is UUID:
        return UUID
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return hint
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        nested = _shape_of(hint)
        return lambda value: nested.cls(**{f: load(value[f]) for f, load in nested.fields})
    if origin in (typing.Union, types.UnionType):
        options = [a for a in args if a is not type(None)]
        inner = _loader(options[0]) if len(options) == 1 else _union_loader(options)
        return lambda value: None if value is None else inner(value)
    if origin is Literal or hint is Any:
        return _identity
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            item = _loader(args[0])
            return lambda value: tuple(item(v) for v in value)
        if args:
            items = [_loader(a) for a in args]
            return lambda value: tuple(load(v) for load, v in zip(items, value, strict=True))
        return tuple
    if origin in (frozenset, set):
        item = _loader(args[0]) if args else _identity
        return lambda value: frozenset(item(v) for v in value)
    if origin is list:
        item = _loader(args[0]) if args else _identity
        return lambda value: [item(v) for v in value]
    if origin is dict:
        item = _loader(args[1]) if len(args) == 2 else _identity
        return lambda value: {k: item(v) for k, v in value.items()}
    return _identity


def _union_loader(options: list[Any]) -> Callable[[Any], Any]:
    """A union of several types: times and ids read as such, anything else as stored."""
    if datetime in options:
        return lambda value: datetime.fromisoformat(value) if isinstance(value, str) else value
    if UUID in options:
        return lambda value: UUID(value) if isinstance(value, str) else value
    return _identity


def _dump(value: Any) -> Any:
    """A field's value as JSON."""
    if value is None or isinstance(value, str | int | float | bool):
        return value.value if isinstance(value, enum.Enum) else value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, tuple | list):
        return [_dump(v) for v in value]
    if isinstance(value, frozenset | set):
        return sorted(_dump(v) for v in value)
    if isinstance(value, dict):
        return {k: _dump(v) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _dump(getattr(value, f.name)) for f in dataclasses.fields(value)}
    return value
