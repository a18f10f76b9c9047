"""One behavioural suite for the event store, run against the in-memory fake and PostgreSQL,
so that the fake used by unit tests keeps the real store's promises."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from shared.eventstore import (
    ConcurrencyError,
    EventStore,
    InMemoryEventStore,
    NewEvent,
    PostgresEventStore,
)


@pytest.fixture(params=["memory", "postgres"])
def store(request: pytest.FixtureRequest) -> EventStore:
    if request.param == "memory":
        return InMemoryEventStore()
    return PostgresEventStore(request.getfixturevalue("pool"))


def _events(n: int, label: str = "Happened") -> list[NewEvent]:
    return [NewEvent(type=label, data={"n": i, "text": "é"}, metadata={"m": i}) for i in range(n)]


async def test_append_then_read_in_version_order(store: EventStore) -> None:
    stream = f"dossier-{uuid.uuid4()}"
    assert await store.append(stream, 0, _events(2)) == 2
    assert await store.append(stream, 2, _events(1, "Later")) == 3
    read = await store.read_stream(stream)
    assert [(e.version, e.type, e.data["n"]) for e in read] == [
        (1, "Happened", 0),
        (2, "Happened", 1),
        (3, "Later", 0),
    ]
    assert read[0].data["text"] == "é"
    assert read[0].metadata == {"m": 0}
    assert [e.version for e in await store.read_stream(stream, from_version=3)] == [3]


async def test_unknown_stream_reads_empty(store: EventStore) -> None:
    assert await store.read_stream(f"nothing-{uuid.uuid4()}") == []


async def test_wrong_expected_version_is_refused_and_changes_nothing(store: EventStore) -> None:
    stream = f"s-{uuid.uuid4()}"
    await store.append(stream, 0, _events(1))
    for wrong in (0, 2, 5):
        with pytest.raises(ConcurrencyError) as caught:
            await store.append(stream, wrong, _events(3))
        assert caught.value.stream_id == stream
        assert caught.value.expected == wrong
    assert [e.version for e in await store.read_stream(stream)] == [1]


async def test_batch_append_is_atomic(store: EventStore) -> None:
    stream = f"s-{uuid.uuid4()}"
    await store.append(stream, 0, _events(1))
    with pytest.raises(ConcurrencyError):
        await store.append(stream, 0, _events(10))
    assert len(await store.read_stream(stream)) == 1


async def test_empty_append_is_a_no_op(store: EventStore) -> None:
    stream = f"s-{uuid.uuid4()}"
    assert await store.append(stream, 0, []) == 0
    assert await store.read_stream(stream) == []


async def test_read_all_returns_every_event_once_in_commit_safe_order(store: EventStore) -> None:
    streams = [f"s-{uuid.uuid4()}" for _ in range(5)]
    for i, stream in enumerate(streams):
        await store.append(stream, 0, _events(i + 1))
    seen = []
    position = None
    while True:
        batch, position = await store.read_all(position, limit=4)
        if not batch:
            break
        seen.extend(batch)
    mine = [e for e in seen if e.stream_id in streams]
    assert len(mine) == sum(range(1, 6))
    assert len({(e.stream_id, e.version) for e in mine}) == len(mine)
    # Within a stream, read_all keeps version order.
    for stream in streams:
        versions = [e.version for e in mine if e.stream_id == stream]
        assert versions == sorted(versions)
    batch, _ = await store.read_all(position, limit=10)
    assert batch == []


async def test_fifty_concurrent_writers_on_one_stream(store: EventStore) -> None:
    """Each version is won exactly once; everyone else gets ConcurrencyError; no gap."""
    stream = f"hot-{uuid.uuid4()}"
    winners: list[int] = []
    conflicts = 0

    async def writer(w: int) -> None:
        nonlocal conflicts
        for _ in range(10):
            current = len(await store.read_stream(stream))
            await asyncio.sleep(0)  # let the other writers read the same version
            try:
                version = await store.append(
                    stream, current, [NewEvent("Wrote", {"writer": w, "at": current + 1})]
                )
                winners.append(version)
            except ConcurrencyError:
                conflicts += 1

    await asyncio.gather(*(writer(w) for w in range(50)))
    events = await store.read_stream(stream)
    assert [e.version for e in events] == list(range(1, len(events) + 1))
    assert sorted(winners) == [e.version for e in events]
    assert len(set(winners)) == len(winners)
    assert len(winners) + conflicts == 500
    assert conflicts > 0
    assert all(e.data["at"] == e.version for e in events)
