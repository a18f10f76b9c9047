"""One behavioural suite for the event store, run against the in-memory fake and PostgreSQL,
so that the fake used by unit tests keeps the real store's promises."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import asyncpg
import pytest

from shared.contracts.dossier import FieldInquiryCompleted
from shared.eventstore import (
    ConcurrencyError,
    EventStore,
    InMemoryEventStore,
    NewEvent,
    OutboxMessage,
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


async def test_read_all_waits_for_a_late_commit_and_loses_nothing(pool: asyncpg.Pool) -> None:
    """An event whose transaction commits after a later one is still read, once, in turn."""
    store = PostgresEventStore(pool)
    early, late = f"early-{uuid.uuid4()}", f"late-{uuid.uuid4()}"
    _, start = await store.read_all(None, limit=100_000)
    async with pool.acquire() as slow, slow.transaction():
        await store.append(early, 0, _events(1), conn=slow)  # takes its position first
        await store.append(late, 0, _events(1))  # commits first
        batch, held = await store.read_all(start, limit=100)
        assert batch == [], "nothing is read past a transaction still running"
    batch, _ = await store.read_all(held, limit=100)
    assert [e.stream_id for e in batch] == [early, late]


async def test_read_all_is_not_stalled_by_a_transaction_in_another_database(
    pool: asyncpg.Pool, template_db: str
) -> None:
    store = PostgresEventStore(pool)
    _, start = await store.read_all(None, limit=100_000)
    other = await asyncpg.connect(f"postgresql://bilan:bilan@127.0.0.1:5432/{template_db}")
    try:
        async with other.transaction():
            await other.fetchval("SELECT pg_current_xact_id()")  # a long writer next door
            stream = f"s-{uuid.uuid4()}"
            await store.append(stream, 0, _events(2))
            batch, _ = await store.read_all(start, limit=100)
            assert [e.stream_id for e in batch] == [stream, stream]
    finally:
        await other.close()


def _message(subject: uuid.UUID) -> OutboxMessage:
    event = FieldInquiryCompleted(
        dossier_id=subject, contact_type="company_visit", completed_at=datetime.now(UTC)
    )
    return OutboxMessage(event, site_id=str(uuid.uuid4()), correlation_id="c", causation_id="c")


async def _outbox(pool: asyncpg.Pool, *subjects: uuid.UUID) -> list[tuple[str, int, uuid.UUID]]:
    rows = await pool.fetch(
        "SELECT subject, sequence, event_id FROM outbox WHERE subject = ANY($1) ORDER BY id",
        [str(s) for s in subjects],
    )
    return [(r["subject"], r["sequence"], r["event_id"]) for r in rows]


@pytest.mark.parametrize("events", [1, 3])
async def test_outbox_sequences_are_gapless_per_subject_in_id_order(
    pool: asyncpg.Pool, events: int
) -> None:
    """One or several events, one or several messages, one or several subjects per append: a
    subject's messages get 1, 2, 3 … in the order they were given, and ids in that order."""
    store = PostgresEventStore(pool)
    a, b = uuid.uuid4(), uuid.uuid4()
    stream = str(a)
    plan = [[a], [a, b, a], [b], [], [a, a], [b, a]]
    sent: list[OutboxMessage] = []
    version = 0
    for subjects in plan:
        messages = [_message(s) for s in subjects]
        version = await store.append(stream, version, _events(events), outbox=messages)
        sent.extend(messages)
    assert version == events * len(plan)
    rows = await _outbox(pool, a, b)
    assert [r[2] for r in rows] == [m.event_id for m in sent], "ids follow the order given"
    for subject in (a, b):
        mine = [seq for s, seq, _ in rows if s == str(subject)]
        assert mine == list(range(1, len(mine) + 1))
    counters = {
        r["subject"]: r["last_sequence"]
        for r in await pool.fetch("SELECT subject, last_sequence FROM outbox_subjects")
    }
    assert counters == {str(a): 6, str(b): 3}


@pytest.mark.parametrize("events", [1, 3])
async def test_a_refused_append_writes_no_outbox_row_and_no_counter(
    pool: asyncpg.Pool, events: int
) -> None:
    store = PostgresEventStore(pool)
    a = uuid.uuid4()
    await store.append(str(a), 0, _events(1), outbox=[_message(a)])
    for wrong, messages in ((0, 1), (2, 1), (0, 2), (5, 2)):
        with pytest.raises(ConcurrencyError):
            await store.append(
                str(a), wrong, _events(events), outbox=[_message(a) for _ in range(messages)]
            )
    with pytest.raises(ConcurrencyError):  # a stream that does not exist is at version 0
        await store.append(f"none-{uuid.uuid4()}", 1, _events(events), outbox=[_message(a)])
    assert [seq for _, seq, _ in await _outbox(pool, a)] == [1]
    assert await pool.fetchval("SELECT last_sequence FROM outbox_subjects") == 1
    assert [e.version for e in await store.read_stream(str(a))] == [1]


async def test_a_refused_append_leaves_the_callers_transaction_usable(pool: asyncpg.Pool) -> None:
    """A conflict is reported without an SQL error: the caller decides what its transaction does."""
    store = PostgresEventStore(pool)
    stream = f"s-{uuid.uuid4()}"
    await store.append(stream, 0, _events(1))
    async with pool.acquire() as conn, conn.transaction():
        with pytest.raises(ConcurrencyError):
            await store.append(stream, 0, _events(1), conn=conn)
        assert await store.append(stream, 1, _events(1), conn=conn) == 2
    assert [e.version for e in await store.read_stream(stream)] == [1, 2]
