"""Event store benchmark: our appends against the `eventsourcing` library and a plain INSERT.

Run with `.venv/bin/python -m bench.eventstore [--seconds N] [--quick] [--pause S]` against the
local stack (`./bilan stack up`). It creates its own databases (`bench_ours_<run>`,
`bench_reference_<run>`) and Kafka topic (`bench.<run>.events`), measures, and drops them again:
nothing it writes reaches the development system's databases or topics. The report goes to
stdout, progress to stderr. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import math
import os
import sys
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from importlib import metadata
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import orjson
import structlog
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from eventsourcing.persistence import StoredEvent as RefStoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore

import shared.db
import shared.relay
from shared.contracts.base import format_utc
from shared.contracts.dossier import FieldInquiryCompleted
from shared.db import PLATFORM_MIGRATIONS, create_pool, load_migrations, migrate
from shared.eventstore.model import NewEvent, OutboxMessage
from shared.eventstore.postgres import PostgresEventStore, outbox_arrays
from shared.relay import OutboxRelay, OutboxSignal, ProducerFactory, kafka_producer_factory

PG_HOST = os.environ.get("BENCH_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("BENCH_PG_PORT", "5432"))
PG_USER = os.environ.get("BENCH_PG_USER", "bilan")
PG_PASSWORD = os.environ.get("BENCH_PG_PASSWORD", "bilan")
KAFKA = os.environ.get("BENCH_KAFKA", "127.0.0.1:9092")
RUN = uuid4().hex[:8]
"""Names this run's databases and topic, so that runs (and other sessions) never share them."""
OURS_DB = f"bench_ours_{RUN}"
REFERENCE_DB = f"bench_reference_{RUN}"
TOPIC = f"bench.{RUN}.events"
"""Where the relay publishes: the outbox rows name `bilan.dossier.events` (they are built as
the dossier service builds them), and the relay's producer is redirected here, so that the
~80,000 records of a run do not land in the shared topic that the services consume."""
TOPIC_PARTITIONS = 6
"""As `bilan.dossier.events` (deploy/local/topics.py)."""
REPO = Path(__file__).resolve().parent.parent

WRITERS = (1, 8, 32)
BATCH_WRITERS = (8, 32)
BATCH = 10
STREAMS_PER_WRITER = 20
"""Each writer appends to its own streams, round robin, version n → n+1."""
EVENT_TYPE = "FieldInquiryCompleted"
REFERENCE_TOPIC = "bench.dossier:FieldInquiryCompleted"
SITE_ID = "7a0c5a7e-51d3-4d1b-9a57-1f3c2f0f7b11"
RELAY_WRITERS = 8
PACED_FRACTION = 0.8
"""The latency run paces its appends at this fraction of the measured 8-writer outbox rate."""
QUIET = 0.2
"""A cell starts once other processes use less than this share of one CPU (or after 1.5 s)."""
NOISY = 0.35
"""A cell during which other processes used more than this share of one CPU, though the machine
was quiet when it started, is measured again (once; at most MAX_RETRIES in a run): the quieter
of the two is kept."""
MAX_RETRIES = 6

FLOOR_TABLE = """CREATE TABLE floor_events (
    stream_id   text        NOT NULL,
    version     integer     NOT NULL,
    event_id    uuid        NOT NULL,
    event_type  text        NOT NULL,
    data        jsonb       NOT NULL,
    metadata    jsonb       NOT NULL,
    recorded_at timestamptz NOT NULL,
    UNIQUE (stream_id, version)
)"""
FLOOR_INSERT = """INSERT INTO floor_events
    (stream_id, version, event_id, event_type, data, metadata, recorded_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7)"""
FLOOR_INSERT_MANY = """INSERT INTO floor_events
    (stream_id, version, event_id, event_type, data, metadata, recorded_at)
    SELECT $1, v, e, t, d, m, $7
    FROM unnest($2::int[], $3::uuid[], $4::text[], $5::jsonb[], $6::jsonb[]) AS u(v, e, t, d, m)"""
ENQUEUE = "SELECT bilan_outbox_enqueue($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"

AsyncOp = Callable[[], Awaitable[int]]
SyncOp = Callable[[], int]
AsyncWriters = Callable[[int], contextlib.AbstractAsyncContextManager[AsyncOp]]
SyncWriters = Callable[[int], contextlib.AbstractContextManager[SyncOp]]


def dsn(database: str) -> str:
    return f"postgresql://{PG_USER}:{PG_PASSWORD}@{PG_HOST}:{PG_PORT}/{database}"


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# --- Payloads ------------------------------------------------------------------------------


def event_data(dossier: UUID, at: str) -> dict[str, Any]:
    """About 150 bytes of JSON: the shape of a small domain event."""
    return {
        "dossier_id": str(dossier),
        "contact_type": "company_visit",
        "completed_at": at,
        "sector_code": "M7022",
    }


def event_metadata() -> dict[str, Any]:
    return {"correlation_id": str(uuid4()), "causation_id": str(uuid4()), "site_id": SITE_ID}


def outbox_message(dossier: UUID, at: datetime) -> OutboxMessage:
    return OutboxMessage(
        event=FieldInquiryCompleted(
            dossier_id=dossier, contact_type="company_visit", completed_at=at
        ),
        site_id=SITE_ID,
        correlation_id=str(uuid4()),
        causation_id=str(uuid4()),
    )


# --- CPU accounting ------------------------------------------------------------------------

_TICK = os.sysconf("SC_CLK_TCK")


def _proc_cpu(pid: int | str) -> float:
    """utime + stime of a process (all its threads), in seconds; 0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK


def _our_processes() -> tuple[dict[int, float], dict[int, float]]:
    """CPU seconds of the PostgreSQL backends serving the bench databases, and of Kafka.

    Backends are recognised by their process title, which names the database: other sessions
    may use the same server, and pool connections may come and go during a measurement.
    """
    titles = [f" {name} ".encode() for name in (OURS_DB, REFERENCE_DB)]
    backends: dict[int, float] = {}
    kafka: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            cmdline = (entry / "cmdline").read_bytes()
            if cmdline.startswith(b"postgres: ") and any(t in cmdline for t in titles):
                backends[int(entry.name)] = _proc_cpu(entry.name)
            elif b"kafka.Kafka" in cmdline:
                kafka[int(entry.name)] = _proc_cpu(entry.name)
    return backends, kafka


def _busy() -> float:
    """CPU seconds the whole machine has been busy (all but idle and iowait)."""
    cpu = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    # user nice system idle iowait irq softirq steal
    return sum(int(v) for i, v in enumerate(cpu[:8]) if i not in (3, 4)) / _TICK


@dataclass(frozen=True, slots=True)
class CpuUse:
    """CPU seconds spent during a measurement, and its wall time.

    `other` is everything but this process, its PostgreSQL backends and Kafka: other sessions
    on the machine, PostgreSQL's WAL writer and checkpointer, the kernel.
    """

    wall: float
    client: float
    postgres: float
    kafka: float
    other: float

    def share(self, seconds: float) -> str:
        return f"{100 * seconds / self.wall:.0f}%"

    @property
    def other_share(self) -> float:
        return self.other / self.wall


class CpuMeter:
    """Measures CPU use from `start` to `stop`.

    A sampling thread follows the backends, which come and go: asyncpg replaces a pooled
    connection after 50,000 queries, and a backend's CPU would be lost with it. At most one
    sampling interval of an ending backend's CPU is missed. A scan of /proc costs ~2 ms of this
    process's CPU, under 0.5% of a CPU at this interval.
    """

    def __init__(self, interval: float = 0.5) -> None:
        self._interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._seen: dict[tuple[str, int], list[float]] = {}
        self._started = False
        self._t0 = self._client0 = self._busy0 = 0.0

    def _sample(self) -> None:
        backends, kafka = _our_processes()
        for kind, found in (("pg", backends), ("kafka", kafka)):
            for pid, cpu in found.items():
                # A process first seen after the start began meanwhile: all its CPU counts.
                first = cpu if not self._started else 0.0
                self._seen.setdefault((kind, pid), [first, cpu])[1] = cpu

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self._sample()

    def start(self) -> None:
        self._sample()
        self._started = True
        self._t0, self._client0, self._busy0 = time.perf_counter(), _proc_cpu("self"), _busy()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def stop(self) -> CpuUse:
        wall, client, busy = time.perf_counter(), _proc_cpu("self"), _busy()
        self._stop.set()
        assert self._thread is not None
        self._thread.join()
        self._sample()
        spent = {"pg": 0.0, "kafka": 0.0}
        for (kind, _pid), (first, last) in self._seen.items():
            spent[kind] += last - first
        client -= self._client0
        other = max(0.0, (busy - self._busy0) - client - spent["pg"] - spent["kafka"])
        return CpuUse(wall - self._t0, client, spent["pg"], spent["kafka"], other)


async def wait_quiet(threshold: float, limit_s: float) -> float:
    """Wait (at most `limit_s`) until processes other than ours use < `threshold` of a CPU."""
    deadline = time.perf_counter() + limit_s
    while True:
        meter = CpuMeter()
        meter.start()
        await asyncio.sleep(0.5)
        load = meter.stop().other_share
        if load < threshold or time.perf_counter() > deadline:
            return load


# --- Measurement harness -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Timing:
    warmup: float
    seconds: float


@dataclass(slots=True)
class Cell:
    """One measured workload: events committed in the window, per-call latencies, CPU."""

    events: int
    calls: int
    seconds: float
    latencies: list[float]
    cpu: CpuUse

    @property
    def rate(self) -> float:
        return self.events / self.seconds

    def ms(self, q: float) -> float:
        return percentile(self.latencies, q) * 1000

    def cpu_per_event(self) -> str:
        """Client and PostgreSQL CPU microseconds per event."""
        n = max(1, self.events)
        return f"{self.cpu.client * 1e6 / n:.0f}+{self.cpu.postgres * 1e6 / n:.0f}"

    @property
    def cpu_us(self) -> float:
        """Client + PostgreSQL CPU microseconds per event."""
        return (self.cpu.client + self.cpu.postgres) * 1e6 / max(1, self.events)


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@dataclass(slots=True)
class _Phase:
    measuring: bool = False
    stop: bool = False


async def drive_async(writers: int, factory: AsyncWriters, timing: Timing) -> Cell:
    """`writers` asyncio tasks, each calling its op in a loop: warm up, then measure."""
    phase = _Phase()
    events = [0] * writers
    calls = [0] * writers
    latencies: list[float] = []

    async def loop(w: int, op: AsyncOp) -> None:
        while not phase.stop:
            start = time.perf_counter()
            n = await op()
            if phase.measuring:
                latencies.append(time.perf_counter() - start)
                events[w] += n
                calls[w] += 1

    async with contextlib.AsyncExitStack() as stack:
        ops = [await stack.enter_async_context(factory(w)) for w in range(writers)]
        tasks = [asyncio.create_task(loop(w, op)) for w, op in enumerate(ops)]
        try:
            await asyncio.sleep(timing.warmup)
            meter = CpuMeter()
            meter.start()
            phase.measuring = True
            t0 = time.perf_counter()
            await asyncio.sleep(timing.seconds)
            phase.measuring = False
            t1 = time.perf_counter()
            use = meter.stop()
            phase.stop = True
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
    return Cell(sum(events), sum(calls), t1 - t0, latencies, use)


def drive_threads(writers: int, factory: SyncWriters, timing: Timing) -> Cell:
    """The same as `drive_async` with OS threads, for the synchronous reference library."""
    phase = _Phase()
    events = [0] * writers
    calls = [0] * writers
    latencies: list[list[float]] = [[] for _ in range(writers)]

    def loop(w: int, op: SyncOp) -> None:
        mine = latencies[w]
        while not phase.stop:
            start = time.perf_counter()
            n = op()
            if phase.measuring:
                mine.append(time.perf_counter() - start)
                events[w] += n
                calls[w] += 1

    with contextlib.ExitStack() as stack, ThreadPoolExecutor(max_workers=writers) as pool:
        ops = [stack.enter_context(factory(w)) for w in range(writers)]
        futures = [pool.submit(loop, w, op) for w, op in enumerate(ops)]
        try:
            time.sleep(timing.warmup)
            meter = CpuMeter()
            meter.start()
            phase.measuring = True
            t0 = time.perf_counter()
            time.sleep(timing.seconds)
            phase.measuring = False
            t1 = time.perf_counter()
            use = meter.stop()
        finally:
            phase.stop = True
        for future in futures:
            future.result()
    flat = [x for lat in latencies for x in lat]
    return Cell(sum(events), sum(calls), t1 - t0, flat, use)


class _Streams:
    """A writer's own streams: a fresh one per call, or round robin over a few (n → n+1)."""

    def __init__(self, *, new_streams: bool) -> None:
        self.new_streams = new_streams
        self.ids = [uuid4() for _ in range(STREAMS_PER_WRITER)]
        self.versions = [0] * STREAMS_PER_WRITER
        self.turn = 0

    def next(self) -> tuple[int, UUID, int]:
        if self.new_streams:
            return -1, uuid4(), 0
        slot = self.turn % STREAMS_PER_WRITER
        self.turn += 1
        return slot, self.ids[slot], self.versions[slot]

    def advanced(self, slot: int, version: int) -> None:
        if slot >= 0:
            self.versions[slot] = version


# --- Our event store -----------------------------------------------------------------------


def ours_writers(
    store: PostgresEventStore,
    pool: asyncpg.Pool,
    *,
    new_streams: bool,
    batch: int,
    outbox: bool,
    held: bool = False,
    on_commit: Callable[[list[OutboxMessage], float], None] | None = None,
) -> AsyncWriters:
    """Appends through `PostgresEventStore.append`, always with `conn=` as the services call it.

    `held=False`: each append borrows a pooled connection and passes it, as a command does that
    only appends (a real command shares its borrow with its reads and projection writes, inside
    its transaction). `held=True` keeps one pooled connection per writer: the append's own cost.
    `on_commit`, when given, is told the outbox messages and the time their append returned.
    """

    @contextlib.asynccontextmanager
    async def factory(_w: int) -> AsyncIterator[AsyncOp]:
        streams = _Streams(new_streams=new_streams)
        async with contextlib.AsyncExitStack() as stack:
            conn = await stack.enter_async_context(pool.acquire()) if held else None

            async def op() -> int:
                slot, dossier, version = streams.next()
                now = datetime.now(UTC)
                at = format_utc(now)
                events = [
                    NewEvent(EVENT_TYPE, event_data(dossier, at), event_metadata())
                    for _ in range(batch)
                ]
                messages = [outbox_message(dossier, now) for _ in range(batch)] if outbox else []
                if conn is not None:
                    new_version = await store.append(
                        str(dossier), version, events, outbox=messages, conn=conn
                    )
                else:
                    async with pool.acquire() as borrowed:
                        new_version = await store.append(
                            str(dossier), version, events, outbox=messages, conn=borrowed
                        )
                if on_commit is not None:
                    on_commit(messages, time.perf_counter())
                streams.advanced(slot, new_version)
                return batch

            yield op

    return factory


async def reset_ours(pool: asyncpg.Pool) -> None:
    await pool.execute("TRUNCATE events, streams, outbox, outbox_subjects, floor_events")


# --- The floor: a plain INSERT -------------------------------------------------------------


def floor_writers(pool: asyncpg.Pool, *, batch: int) -> AsyncWriters:
    """Autocommit INSERTs of the same row shape, one held connection per writer."""

    @contextlib.asynccontextmanager
    async def factory(_w: int) -> AsyncIterator[AsyncOp]:
        streams = _Streams(new_streams=False)
        async with pool.acquire() as conn:

            async def op() -> int:
                slot, dossier, version = streams.next()
                now = datetime.now(UTC)
                at = format_utc(now)
                if batch == 1:
                    await conn.execute(
                        FLOOR_INSERT,
                        str(dossier),
                        version + 1,
                        uuid4(),
                        EVENT_TYPE,
                        event_data(dossier, at),
                        event_metadata(),
                        now,
                    )
                else:
                    await conn.execute(
                        FLOOR_INSERT_MANY,
                        str(dossier),
                        [version + k + 1 for k in range(batch)],
                        [uuid4() for _ in range(batch)],
                        [EVENT_TYPE] * batch,
                        [event_data(dossier, at) for _ in range(batch)],
                        [event_metadata() for _ in range(batch)],
                        now,
                    )
                streams.advanced(slot, version + batch)
                return batch

            yield op

    return factory


# --- The reference: eventsourcing's PostgreSQL application recorder ------------------------


def reference_writers(
    recorder: PostgresApplicationRecorder, *, new_streams: bool, batch: int
) -> SyncWriters:
    """One `insert_events` call per append, as an eventsourcing Application makes it."""

    @contextlib.contextmanager
    def factory(_w: int) -> Iterator[SyncOp]:
        streams = _Streams(new_streams=new_streams)

        def op() -> int:
            slot, originator, version = streams.next()
            at = format_utc(datetime.now(UTC))
            recorder.insert_events(
                [
                    RefStoredEvent(
                        originator_id=originator,
                        originator_version=version + k + 1,
                        topic=REFERENCE_TOPIC,
                        state=orjson.dumps(event_data(originator, at)),
                    )
                    for k in range(batch)
                ]
            )
            streams.advanced(slot, version + batch)
            return batch

        yield op

    return factory


def open_reference(pool_size: int) -> tuple[PostgresDatastore, PostgresApplicationRecorder]:
    datastore = PostgresDatastore(
        dbname=REFERENCE_DB,
        host=PG_HOST,
        port=PG_PORT,
        user=PG_USER,
        password=PG_PASSWORD,
        pool_size=pool_size,
        max_overflow=0,
    )
    recorder = PostgresApplicationRecorder(datastore, events_table_name="stored_events")
    recorder.create_table()
    datastore.pool.open(wait=True)
    return datastore, recorder


def reset_reference(datastore: PostgresDatastore) -> None:
    with datastore.transaction(commit=True) as curs:
        curs.execute("TRUNCATE stored_events")


def reference_setting(datastore: PostgresDatastore, name: str) -> str:
    with datastore.transaction() as curs:
        curs.execute(f"SHOW {name}")
        row = curs.fetchone()
        assert row is not None
        return str(row[name])


# --- Relay ---------------------------------------------------------------------------------


class AckTimingProducer:
    """Wraps the relay's producer: sends to the run's own topic instead of the row's, and
    records, per `ce_id`, when the broker acknowledged it."""

    def __init__(self, inner: Any, acks: dict[str, float]) -> None:
        self._inner = inner
        self._acks = acks
        self.first_send: float | None = None

    async def send(self, _topic: str, **kwargs: Any) -> asyncio.Future[Any]:
        if self.first_send is None:
            self.first_send = time.perf_counter()
        future: asyncio.Future[Any] = await self._inner.send(TOPIC, **kwargs)
        ce_id = next(v for k, v in kwargs["headers"] if k == "ce_id").decode()
        future.add_done_callback(partial(self._acked, ce_id))
        return future

    def _acked(self, ce_id: str, future: asyncio.Future[Any]) -> None:
        if not future.cancelled() and future.exception() is None:
            self._acks[ce_id] = time.perf_counter()

    async def stop(self) -> None:
        await self._inner.stop()


def timing_factory(
    inner: ProducerFactory, acks: dict[str, float], made: list[AckTimingProducer]
) -> ProducerFactory:
    async def start() -> AckTimingProducer:
        producer = AckTimingProducer(await inner(), acks)
        made.append(producer)
        return producer

    return start


async def fill_outbox(pool: asyncpg.Pool, n: int) -> None:
    """`n` FieldInquiryCompleted messages over n/10 dossiers, interleaved, as commands make them."""
    dossiers = [uuid4() for _ in range(max(1, n // 10))]
    now = datetime.now(UTC)
    chunk = 1000
    for start in range(0, n, chunk):
        messages = [
            outbox_message(dossiers[i % len(dossiers)], now)
            for i in range(start, min(n, start + chunk))
        ]
        await pool.execute(ENQUEUE, *outbox_arrays(messages))


async def wait_empty(pool: asyncpg.Pool, limit_s: float) -> float:
    """Poll until the outbox is empty; returns when it was seen empty."""
    deadline = time.perf_counter() + limit_s
    while await pool.fetchval("SELECT EXISTS (SELECT 1 FROM outbox)"):
        if time.perf_counter() > deadline:
            raise RuntimeError(f"the outbox did not empty within {limit_s:.0f} s")
        await asyncio.sleep(0.02)
    return time.perf_counter()


@dataclass(slots=True)
class LoadResult:
    """Appends with outbox under a running relay: rate, commit → ack latency, backlog, CPU."""

    target_rate: float | None
    rate: float = 0.0
    seconds: float = 0.0
    messages: int = 0
    latencies: list[float] = field(default_factory=list)
    unacked: int = 0
    max_backlog: int = 0
    backlog_at_stop: int = 0
    empty_after_stop: float = 0.0
    cpu: CpuUse | None = None

    def kept_up(self) -> bool:
        """The relay kept up: every message acknowledged, the backlog never above ~1 s of load."""
        return self.unacked == 0 and self.max_backlog <= max(self.rate, 100)

    def rate_held(self) -> bool:
        return self.target_rate is None or self.rate >= 0.95 * self.target_rate

    def describe(self) -> str:
        lat = self.latencies
        target = (
            f"paced at {self.target_rate:,.0f}/s, achieved"
            if self.target_rate is not None
            else "unpaced (as fast as they can),"
        )
        cpu = self.cpu
        cpu_text = (
            f"; CPU: this process {cpu.share(cpu.client)}, PostgreSQL {cpu.share(cpu.postgres)}, "
            f"Kafka {cpu.share(cpu.kafka)}, other processes {cpu.share(cpu.other)}"
            if cpu
            else ""
        )
        return (
            f"{RELAY_WRITERS} writers {target} {self.rate:,.0f} appends/s over "
            f"{self.seconds:.1f} s ({self.messages:,} messages); commit → broker ack "
            f"p50 {percentile(lat, 0.5) * 1000:.1f} ms, p99 {percentile(lat, 0.99) * 1000:.1f} ms, "
            f"max {max(lat, default=0) * 1000:.1f} ms, {self.unacked} unacknowledged; outbox "
            f"backlog (sampled every 100 ms) max {self.max_backlog:,}, {self.backlog_at_stop:,} "
            f"when the load stopped, empty {self.empty_after_stop:.2f} s later{cpu_text}"
        )


@dataclass(slots=True)
class RelayResult:
    drained: int
    drain_seconds: float
    unpaced: LoadResult
    paced: LoadResult

    @property
    def drain_rate(self) -> float:
        return self.drained / self.drain_seconds


async def load_with_relay(
    pool: asyncpg.Pool,
    signal: OutboxSignal,
    acks: dict[str, float],
    *,
    target_rate: float | None,
    timing: Timing,
) -> LoadResult:
    """8 writers appending 1 event + 1 outbox message, the relay publishing meanwhile."""
    result = LoadResult(target_rate)
    await wait_quiet(QUIET, limit_s=1.5)
    acks.clear()
    commits: dict[str, float] = {}
    phase = _Phase()
    window: set[str] = set()
    samples: list[int] = []

    def on_commit(messages: list[OutboxMessage], at: float) -> None:
        for m in messages:
            commits[str(m.event_id)] = at
            if phase.measuring:
                window.add(str(m.event_id))

    store = PostgresEventStore(pool, on_outbox_write=signal.poke)
    factory = ours_writers(
        store, pool, new_streams=False, batch=1, outbox=True, on_commit=on_commit
    )

    async def writer(w: int) -> None:
        async with factory(w) as op:
            if target_rate is None:
                while not phase.stop:
                    await op()
                return
            interval = RELAY_WRITERS / target_rate
            due = time.perf_counter() + w * interval / RELAY_WRITERS
            while not phase.stop:
                delay = due - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                due += interval
                await op()

    async def sampler() -> None:
        while True:
            backlog = await pool.fetchval("SELECT count(*) FROM outbox")
            if phase.measuring:
                samples.append(int(backlog))
            await asyncio.sleep(0.1)

    sampling = asyncio.create_task(sampler())
    writers = [asyncio.create_task(writer(w)) for w in range(RELAY_WRITERS)]
    try:
        await asyncio.sleep(timing.warmup)
        meter = CpuMeter()
        meter.start()
        phase.measuring = True
        t0 = time.perf_counter()
        await asyncio.sleep(timing.seconds)
        phase.measuring = False
        t1 = time.perf_counter()
        cpu_use = meter.stop()
        phase.stop = True
        await asyncio.gather(*writers)
        stopped = time.perf_counter()
        result.backlog_at_stop = int(await pool.fetchval("SELECT count(*) FROM outbox"))
        result.empty_after_stop = await wait_empty(pool, limit_s=120) - stopped
        await asyncio.sleep(0.2)  # the last acknowledgements' callbacks
    finally:
        sampling.cancel()
        for task in writers:
            task.cancel()
    result.seconds = t1 - t0
    result.messages = len(window)
    result.rate = len(window) / result.seconds
    result.latencies = [acks[i] - commits[i] for i in window if i in acks]
    result.unacked = sum(1 for i in window if i not in acks)
    result.max_backlog = max(samples, default=0)
    result.cpu = cpu_use
    return result


async def bench_relay(
    pool: asyncpg.Pool, *, fill: int, target_rate: float, timing: Timing
) -> RelayResult:
    """Drain a full outbox, then run appends with the relay in-process: unpaced, then paced."""
    await reset_ours(pool)
    await fill_outbox(pool, fill)
    signal = OutboxSignal()
    acks: dict[str, float] = {}
    producers: list[AckTimingProducer] = []
    relay = OutboxRelay(
        service="bench",
        dsn=dsn(OURS_DB),
        pool=pool,
        producer_factory=timing_factory(
            kafka_producer_factory(KAFKA, "bilan-bench-relay"), acks, producers
        ),
        signal=signal,
    )
    # As the service runs it: the relay, and the forwarder that turns pokes into NOTIFYs.
    background = [
        asyncio.create_task(relay.run()),
        asyncio.create_task(signal.forward_notifications(pool)),
    ]
    try:
        empty_at = await wait_empty(pool, limit_s=300)
        first_send = producers[0].first_send
        assert first_send is not None
        drain_seconds = empty_at - first_send
        say(f"  drained {fill:,} messages in {drain_seconds:.2f} s")
        unpaced = await load_with_relay(pool, signal, acks, target_rate=None, timing=timing)
        say(f"  unpaced: {unpaced.rate:,.0f} appends/s")
        paced = await load_with_relay(pool, signal, acks, target_rate=target_rate, timing=timing)
        say(f"  paced: {paced.rate:,.0f} appends/s")
    finally:
        for task in background:
            task.cancel()
        for task in background:
            with contextlib.suppress(asyncio.CancelledError):
                await task
    return RelayResult(fill, drain_seconds, unpaced, paced)


# --- Setup, machine, report ----------------------------------------------------------------


async def create_topic() -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(TOPIC, TOPIC_PARTITIONS, 1)])
    finally:
        await admin.close()


async def delete_topic() -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
    await admin.start()
    try:
        await admin.delete_topics([TOPIC])
    finally:
        await admin.close()


async def recreate_databases() -> None:
    admin = await asyncpg.connect(dsn("postgres"))
    try:
        for name in (OURS_DB, REFERENCE_DB):
            await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            await admin.execute(f"CREATE DATABASE {name}")
    finally:
        await admin.close()
    await migrate(dsn(OURS_DB), load_migrations(PLATFORM_MIGRATIONS))
    conn = await asyncpg.connect(dsn(OURS_DB))
    try:
        await conn.execute(FLOOR_TABLE)
    finally:
        await conn.close()


async def checkpoint() -> None:
    """Start measuring from a checkpoint, not in the middle of the one CREATE DATABASE causes."""
    conn = await asyncpg.connect(dsn(OURS_DB))
    try:
        await conn.execute("CHECKPOINT")
    finally:
        await conn.close()


async def drop_databases() -> None:
    admin = await asyncpg.connect(dsn("postgres"))
    try:
        for name in (OURS_DB, REFERENCE_DB):
            await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        await admin.close()


def _kafka_libs() -> Path:
    """The running broker's libraries: from its class path (the broker may have been started
    from another work tree), else this checkout's."""
    for entry in Path("/proc").iterdir():
        with contextlib.suppress(OSError):
            args = (entry / "cmdline").read_bytes().split(b"\0")
            if b"kafka.Kafka" in args and b"-cp" in args:
                first = args[args.index(b"-cp") + 1].decode().split(":")[0]
                return Path(first).parent
    return REPO / ".data" / "kafka" / "libs"


def machine() -> dict[str, str]:
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    model = next((ln.split(":", 1)[1].strip() for ln in cpuinfo if "model name" in ln), "?")
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    mem_kb = next((int(ln.split()[1]) for ln in meminfo if ln.startswith("MemTotal")), 0)
    jars = sorted(_kafka_libs().glob("kafka_*.jar"))
    kafka = jars[0].stem.split("-", 1)[1] if jars else "unknown"
    libraries = ("asyncpg", "aiokafka", "eventsourcing", "psycopg")
    return {
        "nproc": str(len(os.sched_getaffinity(0))),
        "cpu": model,
        "memory": f"{mem_kb / 1024 / 1024:.1f} GiB",
        "kafka": kafka,
        "python": sys.version.split()[0],
        "libraries": ", ".join(f"{p} {metadata.version(p)}" for p in libraries),
    }


def table(header: list[str], rows: list[list[str]]) -> str:
    """A Markdown table, numbers right-aligned."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        parts = [
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "| " + " | ".join(parts) + " |"

    rule = ["-" * (w + 2) if i == 0 else "-" * (w + 1) + ":" for i, w in enumerate(widths)]
    return "\n".join([line(header), "|" + "|".join(rule) + "|", *(line(r) for r in rows)])


def rate(cell: Cell | None) -> str:
    return "—" if cell is None else f"{cell.rate:,.0f}"


def ratio(a: Cell | None, b: Cell | None) -> str:
    return "—" if a is None or b is None or not b.rate else f"{a.rate / b.rate:.2f}×"


def latency(cell: Cell) -> str:
    return f"{cell.ms(0.5):.1f} / {cell.ms(0.99):.1f}"


def cpu_ratio(a: Cell | None, b: Cell | None) -> str:
    """a's throughput relative to b's if both were CPU-bound: b's CPU per event over a's."""
    if a is None or b is None or not math.isfinite(a.cpu_us + b.cpu_us) or not a.cpu_us:
        return "—"
    return f"{b.cpu_us / a.cpu_us:.2f}×"


def outside(cells: Sequence[Cell | None]) -> str:
    return f"{100 * max(c.cpu.other_share for c in cells if c is not None):.0f}%"


def cpu(cell: Cell | None) -> str:
    return "—" if cell is None else cell.cpu_per_event()


@dataclass(frozen=True, slots=True)
class Workload:
    label: str
    writers: int
    ours: str
    held: str | None
    reference: str
    floor: str


def workloads() -> list[Workload]:
    rows: list[Workload] = []
    for s, tag in (("", ""), ("+outbox", " + outbox")):
        rows += [
            Workload(f"append n→n+1, 1 event{tag}", w, f"ours{s}", f"held{s}", "ref", "floor")
            for w in WRITERS
        ]
        rows += [
            Workload(f"new stream (v0), 1 event{tag}", w, f"new{s}", None, "ref-new", "floor")
            for w in WRITERS
        ]
        rows += [
            Workload(
                f"append n→n+10, batch of 10{tag}", w, f"batch{s}", None, "ref-batch", "floor-batch"
            )
            for w in BATCH_WRITERS
        ]
    return rows


async def run(timing: Timing, *, quick: bool, pause: float) -> None:
    started = time.perf_counter()
    say(f"bench: creating {OURS_DB}, {REFERENCE_DB} and the topic {TOPIC}")
    try:
        await recreate_databases()
        await create_topic()
        await measure_all(timing, quick=quick, pause=pause)
    finally:
        await drop_databases()
        with contextlib.suppress(Exception):
            await delete_topic()
    say(f"bench: done in {time.perf_counter() - started:.0f} s")


async def measure_all(timing: Timing, *, quick: bool, pause: float) -> None:
    pool = await create_pool(dsn(OURS_DB), min_size=max(WRITERS) + 4, max_size=max(WRITERS) + 8)
    datastore, recorder = await asyncio.to_thread(open_reference, max(WRITERS) + 2)
    cells: dict[tuple[str, int], Cell] = {}
    try:
        names = ("server_version", "synchronous_commit", "fsync", "wal_sync_method")
        settings = {n: str(await pool.fetchval(f"SHOW {n}")) for n in names}
        reference_sync = await asyncio.to_thread(reference_setting, datastore, "synchronous_commit")
        if settings["synchronous_commit"] != "on" or reference_sync != "on":
            raise SystemExit("synchronous_commit must be on for both clients")
        await checkpoint()
        store = PostgresEventStore(pool)

        retries = [MAX_RETRIES]

        async def measure(key: str, writers: int, once: Callable[[], Awaitable[Cell]]) -> None:
            """Measure when the machine is quiet; again once if others got busy meanwhile."""
            best: Cell | None = None
            for attempt in range(2):
                # Leaves the shared machine to others now and then (--pause).
                await asyncio.sleep(pause)
                quiet = await wait_quiet(QUIET, limit_s=1.5) < QUIET
                cell = await once()
                say(
                    f"  {key:<14} {writers:>2} writers {cell.rate:>8,.0f} events/s  cpu/event "
                    f"{cell.cpu_per_event():>9} µs  other load {cell.cpu.share(cell.cpu.other)}"
                    + ("  (again)" if attempt else "")
                )
                if best is None or cell.cpu.other_share < best.cpu.other_share:
                    best = cell
                # Under steady outside load a second try would be as noisy: retry bursts only.
                if cell.cpu.other_share < NOISY or not quiet or retries[0] == 0:
                    break
                retries[0] -= 1
            assert best is not None
            cells[key, writers] = best

        async def ours(key: str, writers: int, factory: AsyncWriters) -> None:
            async def once() -> Cell:
                await reset_ours(pool)
                return await drive_async(writers, factory, timing)

            await measure(key, writers, once)

        async def reference(key: str, writers: int, *, new_streams: bool, batch: int) -> None:
            factory = reference_writers(recorder, new_streams=new_streams, batch=batch)

            async def once() -> Cell:
                await asyncio.to_thread(reset_reference, datastore)
                return await asyncio.to_thread(drive_threads, writers, factory, timing)

            await measure(key, writers, once)

        # Grouped by writer count, so that the figures compared in a row are measured together.
        for w in WRITERS:
            say(f"bench: {w} writers")
            await ours("floor", w, floor_writers(pool, batch=1))
            await reference("ref", w, new_streams=False, batch=1)
            await reference("ref-new", w, new_streams=True, batch=1)
            for outbox, s in ((False, ""), (True, "+outbox")):
                kw: dict[str, Any] = {"batch": 1, "outbox": outbox}
                await ours(f"ours{s}", w, ours_writers(store, pool, new_streams=False, **kw))
                await ours(
                    f"held{s}", w, ours_writers(store, pool, new_streams=False, held=True, **kw)
                )
                await ours(f"new{s}", w, ours_writers(store, pool, new_streams=True, **kw))
        for w in BATCH_WRITERS:
            say(f"bench: {w} writers, batches of {BATCH}")
            await ours("floor-batch", w, floor_writers(pool, batch=BATCH))
            await reference("ref-batch", w, new_streams=False, batch=BATCH)
            for outbox, s in ((False, ""), (True, "+outbox")):
                factory = ours_writers(store, pool, new_streams=False, batch=BATCH, outbox=outbox)
                await ours(f"batch{s}", w, factory)

        target = PACED_FRACTION * cells["ours+outbox", RELAY_WRITERS].rate
        fill = 20_000 if quick else 50_000
        say(f"bench: relay (drain {fill:,} messages, then appends unpaced and at {target:,.0f}/s)")
        relay_timing = Timing(timing.warmup, 5.0 if quick else 10.0)
        await asyncio.sleep(pause)
        relay = await bench_relay(pool, fill=fill, target_rate=target, timing=relay_timing)
    finally:
        await pool.close()
        await asyncio.to_thread(datastore.close)

    report(cells, relay, settings, reference_sync, timing)


def report(
    cells: dict[tuple[str, int], Cell],
    relay: RelayResult,
    settings: dict[str, str],
    reference_sync: str,
    timing: Timing,
) -> None:
    info = machine()
    print(f"# Event store benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print()
    print(
        f"machine: {info['nproc']} CPUs ({info['cpu']}), {info['memory']} RAM; PostgreSQL "
        f"{settings['server_version']}, Kafka {info['kafka']}, all on this machine; "
        f"Python {info['python']}; {info['libraries']}"
    )
    print(
        f"durability: synchronous_commit={settings['synchronous_commit']} (reference's psycopg "
        f"session: {reference_sync}), fsync={settings['fsync']}, "
        f"wal_sync_method={settings['wal_sync_method']}"
    )
    print(
        f"each cell: {timing.warmup:g} s warm-up, then {timing.seconds:g} s measured; events of "
        f"~150 B of JSON; writers are asyncio tasks in one process (ours, floor) or OS threads "
        f"(reference)"
    )
    loads = [c.cpu.other_share for c in cells.values()]
    mean = 100 * sum(loads) / len(loads)
    print(
        f"outside load: other processes on this shared machine used {mean:.0f}% of one CPU on "
        f"average during the measured windows ({100 * max(loads):.0f}% at most); see the CPU table"
    )
    print()
    g = cells.get
    rows = workloads()
    print(
        table(
            [
                "workload (events/s)",
                "writers",
                "ours",
                "ours, held conn",
                "reference",
                "floor",
                "ours÷ref",
                "ours÷floor",
                "ours p50 / p99 ms",
            ],
            [
                [
                    r.label,
                    str(r.writers),
                    rate(g((r.ours, r.writers))),
                    rate(g((r.held, r.writers))) if r.held else "—",
                    rate(g((r.reference, r.writers))),
                    rate(g((r.floor, r.writers))),
                    ratio(g((r.ours, r.writers)), g((r.reference, r.writers))),
                    ratio(g((r.ours, r.writers)), g((r.floor, r.writers))),
                    latency(cells[r.ours, r.writers]),
                ]
                for r in rows
            ],
        )
    )
    print()
    print(
        "CPU per event, µs, this process + its PostgreSQL backends; the throughput ratio to the "
        "floor that these imply when the CPUs are the bottleneck (floor's CPU per event over "
        "ours); and the CPU that other processes used meanwhile (max over the row's cells, % of "
        "one CPU):"
    )
    print()
    cpu_header = ["workload", "writers", "ours", "ours, held conn", "reference", "floor"]
    print(
        table(
            [*cpu_header, "ours÷floor by CPU", "held÷floor by CPU", "other load"],
            [
                [
                    r.label,
                    str(r.writers),
                    cpu(ours),
                    cpu(held),
                    cpu(ref),
                    cpu(floor),
                    cpu_ratio(ours, floor),
                    cpu_ratio(held, floor),
                    outside([ours, held, ref, floor]),
                ]
                for r in rows
                for ours, held, ref, floor in [
                    (
                        g((r.ours, r.writers)),
                        g((r.held, r.writers)) if r.held else None,
                        g((r.reference, r.writers)),
                        g((r.floor, r.writers)),
                    )
                ]
            ],
        )
    )
    print()
    top = max(c.rate for (k, _), c in cells.items() if k.endswith("+outbox"))
    print("Relay (OutboxRelay in the writers' process, batch 500, acks=all, idempotent producer):")
    print(
        f"- drain: {relay.drained:,} messages in {relay.drain_seconds:.2f} s = "
        f"{relay.drain_rate:,.0f} messages/s, first send to empty outbox (our top outbox append "
        f"rate above: {top:,.0f} events/s)"
    )
    print(f"- unpaced load: {relay.unpaced.describe()}")
    print(
        f"- paced load ({PACED_FRACTION:.0%} of the 8-writer 'append n→n+1, 1 event + outbox' "
        f"rate): {relay.paced.describe()}"
    )
    print()
    print(
        "Goals (append n→n+1, 1 event; 'ours' borrows a connection per append, 'held conn' in "
        "brackets):"
    )
    for s, name in (("", "events only"), ("+outbox", "events + outbox")):
        for w in (8, 32):
            ours, held = cells[f"ours{s}", w].rate, cells[f"held{s}", w].rate
            ref, floor = cells["ref", w].rate, cells["floor", w].rate
            by_cpu = cpu_ratio(cells[f"ours{s}", w], cells["floor", w])
            print(
                f"- {name}, {w} writers: ÷ref {ours / ref:.2f}× [{held / ref:.2f}×] "
                f"({'met' if ours >= 5 * ref else 'MISSED'}, goal ≥ 5×); "
                f"÷floor {ours / floor:.2f}× [{held / floor:.2f}×] "
                f"({'met' if ours >= 0.5 * floor else 'MISSED'}, goal ≥ 0.5×; by CPU {by_cpu})"
            )
    paced, unpaced = relay.paced, relay.unpaced
    print(
        f"- relay keeps up: drain {relay.drain_rate / top:.2f}× our top outbox append rate; "
        f"under the unpaced load: {'yes' if unpaced.kept_up() else 'NO'}; under the paced load: "
        f"{'yes' if paced.kept_up() else 'NO'} (kept up = every message acknowledged, backlog "
        f"never above ~1 s of appends); the paced writers "
        f"{'held' if paced.rate_held() else 'did NOT hold'} their target "
        f"({paced.rate:,.0f} of {paced.target_rate or 0:,.0f}/s)"
    )


def quiet_logs() -> None:
    """Warnings only, on stderr: stdout is the report."""
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
    )
    # These module loggers were bound at import time, under the default configuration.
    for module in (shared.db, shared.relay):
        setattr(module, "log", structlog.get_logger().bind(logger=module.__name__))  # noqa: B010


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=None, help="measured seconds per cell")
    parser.add_argument("--quick", action="store_true", help="2 s per cell: a smoke run")
    parser.add_argument(
        "--pause", type=float, default=0.0, help="idle seconds before each cell (shared machine)"
    )
    args = parser.parse_args()
    seconds = args.seconds if args.seconds is not None else (2.0 if args.quick else 5.0)
    quiet_logs()
    asyncio.run(run(Timing(warmup=1.0, seconds=seconds), quick=args.quick, pause=args.pause))


if __name__ == "__main__":
    main()
