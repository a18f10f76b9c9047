"""How the scheduling domain's events are stored: the kit's codec, in the shape they were first
written in.

This service recorded events before the aggregate kit existed, as pydantic models dumped to
JSON. Those records stay as they are, and the events written now must look the same (one shape
per type in the store, byte for byte), so `StoredCodec` is the kit's `EventCodec` with the
three habits of that dump:

- the data also names the event's type: `{"type": "SessionScheduled", ...}`;
- a time at UTC ends in `Z` (`2026-03-10T09:00:00Z`), not `+00:00`; other offsets as RFC 3339;
- a field declared `float` is written as a float (`7.0`) even when it was given an int.

Reading gives each field its declared type (the kit's rules); the `type` key is checked
against the stored type and dropped.

Standard library and the kit only: the domain builds its codecs with it.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any, TypeVar

from shared.aggregate.codec import CodecError, Encoded, EventCodec, Upcaster

E = TypeVar("E")

TYPE_KEY = "type"
"""Where the stored data repeats its event's type name."""


class StoredCodec(EventCodec[E]):
    """The kit's codec writing this service's stored shape (see the module docstring)."""

    def __init__(
        self,
        event_types: Iterable[type[E]],
        *,
        upcasters: Mapping[tuple[str, int], Upcaster] | None = None,
    ) -> None:
        classes = list(event_types)
        super().__init__(classes, upcasters=upcasters)
        self._floats = {
            getattr(cls, "event_type", cls.__name__): _float_fields(cls) for cls in classes
        }

    def encode(self, event: E) -> Encoded:
        encoded = super().encode(event)
        floats = self._floats[encoded.type]
        data: dict[str, Any] = {TYPE_KEY: encoded.type}
        for name, value in encoded.data.items():
            original = getattr(event, name)
            if isinstance(original, datetime):
                value = stored_time(original)
            elif name in floats and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            data[name] = value
        return dataclasses.replace(encoded, data=data)

    def decode(
        self,
        stored: str | Any,
        data: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> E:
        if not isinstance(stored, str):  # a stored record: its parts, as the kit reads them
            return self.decode(stored.type, stored.data, stored.metadata)
        values = dict(data or {})
        named = values.pop(TYPE_KEY, stored)
        if named != stored:
            raise CodecError(f"an event stored as {stored} names itself {named!r}")
        return super().decode(stored, values, metadata)


def stored_time(value: datetime) -> str:
    """RFC 3339 as the first events were written: `Z` for UTC."""
    text = value.isoformat()
    if value.utcoffset() == timedelta(0):
        return text.removesuffix("+00:00") + "Z"
    return text


def _float_fields(cls: type[Any]) -> frozenset[str]:
    hints = typing.get_type_hints(cls)
    return frozenset(f.name for f in dataclasses.fields(cls) if hints[f.name] is float)
