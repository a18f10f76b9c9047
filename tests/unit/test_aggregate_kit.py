"""The shared aggregate kit: the codec's round trip and upcasting, refusals, the repository on
the in-memory event store."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import pytest

from shared.aggregate import (
    DomainEvent,
    EventCodec,
    MissingField,
    RefusalKind,
    Refused,
    UnknownEventType,
    UnknownEventVersion,
    invalid,
)
from shared.aggregate.repository import Loaded, Repository
from shared.eventstore import ConcurrencyError, InMemoryEventStore

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Opened(DomainEvent):
    thing_id: UUID
    at: datetime
    tags: tuple[str, ...]
    seen: frozenset[str]
    counts: dict[str, int]
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Renamed(DomainEvent):
    event_version = 2
    name: str
    """v1 called it `title`."""
    at: datetime


def _v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    data = dict(data)
    data["name"] = data.pop("title")
    return data


CODEC = EventCodec[Opened | Renamed]([Opened, Renamed], upcasters={("Renamed", 1): _v1_to_v2})


def test_events_read_back_with_their_declared_types() -> None:
    event = Opened(uuid4(), T0, ("a", "b"), frozenset({"y", "x"}), {"k": 1})
    encoded = CODEC.encode(event)
    assert encoded.type == "Opened"
    assert encoded.metadata == {}  # version 1 is written as before versioning
    assert encoded.data["seen"] == ["x", "y"]
    assert encoded.data["at"] == T0.isoformat()
    assert CODEC.decode(encoded.type, encoded.data, encoded.metadata) == event


def test_an_older_version_is_upcast_and_a_newer_one_refused() -> None:
    encoded = CODEC.encode(Renamed("Bilan", T0))
    assert encoded.metadata == {"event_version": 2}
    old = {"title": "Bilan", "at": T0.isoformat()}
    assert CODEC.decode("Renamed", old) == Renamed("Bilan", T0)
    with pytest.raises(UnknownEventVersion):
        CODEC.decode("Renamed", encoded.data, {"event_version": 3})
    with pytest.raises(UnknownEventType):
        CODEC.decode("Closed", {})


def test_a_missing_or_unknown_field_is_an_error_not_a_guess() -> None:
    data = CODEC.encode(Opened(uuid4(), T0, (), frozenset(), {})).data
    del data["tags"]
    with pytest.raises(MissingField, match="tags"):
        CODEC.decode("Opened", data)
    without_default = {
        k: v
        for k, v in CODEC.encode(Opened(uuid4(), T0, (), frozenset(), {})).data.items()
        if k != "note"
    }
    decoded = CODEC.decode("Opened", without_default)
    assert isinstance(decoded, Opened)
    assert decoded.note is None  # the class's own default
    with pytest.raises(MissingField, match="colour"):
        CODEC.decode("Opened", {**without_default, "colour": "red"})
    with pytest.raises(ValueError, match="no such older version"):
        EventCodec([Opened], upcasters={("Opened", 1): _v1_to_v2})


def test_a_refusal_carries_its_kind_and_code() -> None:
    refusal = invalid("too_long", "a bilan lasts 24 hours at most", limit=1440)
    assert isinstance(refusal, Refused)
    assert (refusal.kind, refusal.code, refusal.extra) == (
        RefusalKind.INVALID,
        "too_long",
        {"limit": 1440},
    )


@dataclass(frozen=True, slots=True)
class Thing:
    thing_id: UUID
    name: str | None = None


def _evolve(state: Thing | None, event: Opened | Renamed) -> Thing:
    if isinstance(event, Opened):
        return Thing(event.thing_id)
    assert state is not None
    return Thing(state.thing_id, event.name)


async def test_the_repository_folds_and_appends_at_the_version_read() -> None:
    store = InMemoryEventStore()
    repository: Repository[Thing, Opened | Renamed] = Repository(
        prefix="thing", codec=CODEC, evolve=_evolve, store=store
    )
    thing_id = uuid4()
    created = await repository.append(
        thing_id, Loaded(None, 0), [Opened(thing_id, T0, (), frozenset(), {})]
    )
    assert created.version == 1
    loaded = await repository.load(thing_id, expected_version=1)
    renamed = await repository.append(thing_id, loaded, [Renamed("Bilan", T0)])
    assert renamed == Loaded(Thing(thing_id, "Bilan"), 2)
    assert await repository.load(thing_id) == renamed
    with pytest.raises(ConcurrencyError):
        await repository.load(thing_id, expected_version=1)
    with pytest.raises(ConcurrencyError):
        await repository.append(thing_id, loaded, [Renamed("Again", T0)])
    stored = await store.read_stream(f"thing-{thing_id}")
    assert [(e.type, e.metadata) for e in stored] == [
        ("Opened", {}),
        ("Renamed", {"event_version": 2}),
    ]
