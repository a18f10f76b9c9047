"""What application handlers need besides the event store, faked for unit tests: a runtime
holding the in-memory event store and a fake clock, a key store that seals reversibly, and a
connection that answers every read model with nothing (and remembers what was written)."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from shared.clock import FakeClock
from shared.eventstore import InMemoryEventStore, StoredEvent
from shared.keystore import ERASED, Sealed

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday


class FakeKeys:
    """Seals text reversibly (base64, marked), under a subject; shredding makes it `ERASED`."""

    def __init__(self) -> None:
        self.shredded: set[str] = set()
        self.sealed: list[tuple[str, str]] = []
        """(subject, purpose) of every value sealed, in order."""

    async def encrypt(
        self, subject_id: str, plaintext: str, *, purpose: str, conn: Any = None, **_: Any
    ) -> Sealed:
        self.sealed.append((subject_id, purpose))
        return Sealed("enc:v1:" + base64.b64encode(f"{subject_id}|{plaintext}".encode()).decode())

    async def encrypt_many(
        self, subject_id: str, values: Sequence[tuple[str, str]], *, conn: Any = None, **_: Any
    ) -> list[Sealed]:
        return [await self.encrypt(subject_id, text, purpose=purpose) for text, purpose in values]

    async def decrypt(
        self, subject_id: str, sealed: Sealed | str, *, purpose: str, conn: Any = None
    ) -> Any:
        if subject_id in self.shredded:
            return ERASED
        text = sealed.text if isinstance(sealed, Sealed) else sealed
        subject, _, plain = base64.b64decode(text.removeprefix("enc:v1:")).decode().partition("|")
        assert subject == subject_id, "sealed under another subject"
        return plain

    async def shred(self, subject_id: str, *, conn: Any = None) -> bool:
        self.shredded.add(subject_id)
        return True


@dataclass
class FakeConnection:
    """A connection whose reads find nothing; it records every statement sent through it."""

    statements: list[str] = field(default_factory=list)

    async def execute(self, query: str, *args: Any) -> str:
        self.statements.append(" ".join(query.split()))
        return "OK"

    async def executemany(self, query: str, args: Any) -> None:
        self.statements.append(" ".join(query.split()))

    async def fetch(self, query: str, *args: Any) -> list[Any]:
        self.statements.append(" ".join(query.split()))
        return []

    async def fetchrow(self, query: str, *args: Any) -> Any:
        self.statements.append(" ".join(query.split()))
        return None

    async def fetchval(self, query: str, *args: Any) -> Any:
        self.statements.append(" ".join(query.split()))
        return None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        yield

    def wrote(self, table: str) -> bool:
        """Whether a statement inserted into or updated `table`."""
        return any(
            s.startswith((f"INSERT INTO {table} ", f"UPDATE {table} ")) for s in self.statements
        )


@dataclass
class FakeRuntime:
    """The parts of `ServiceRuntime` that application handlers use."""

    clock: FakeClock = field(default_factory=lambda: FakeClock(T0))
    keys: FakeKeys = field(default_factory=FakeKeys)
    store: InMemoryEventStore = field(init=False)

    def __post_init__(self) -> None:
        self.store = InMemoryEventStore(self.clock)

    async def stream(self, stream_id: str) -> list[StoredEvent]:
        return await self.store.read_stream(stream_id)

    async def types(self, stream_id: str) -> list[str]:
        return [e.type for e in await self.store.read_stream(stream_id)]

    def published(self) -> list[str]:
        """The contract event types written to the outbox, in order."""
        return [type(m.event).__name__ for _, m in self.store.outbox]


@dataclass
class FakePool:
    """A pool whose one connection is a `FakeConnection` (for handlers that open their own
    `unit_of_work`)."""

    conn: FakeConnection = field(default_factory=FakeConnection)

    @asynccontextmanager
    async def acquire(self) -> AsyncIterator[FakeConnection]:
        yield self.conn

    async def fetchval(self, query: str, *args: Any) -> Any:
        return await self.conn.fetchval(query, *args)

    async def fetchrow(self, query: str, *args: Any) -> Any:
        return await self.conn.fetchrow(query, *args)

    async def fetch(self, query: str, *args: Any) -> list[Any]:
        return await self.conn.fetch(query, *args)

    async def execute(self, query: str, *args: Any) -> str:
        return await self.conn.execute(query, *args)
