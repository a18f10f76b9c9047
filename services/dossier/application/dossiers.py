"""Command handling for dossiers and beneficiaries: load, authorise, decide, append with the
contract events, and carry out what the new facts require (timers, key shredding) in the same
transaction."""

from __future__ import annotations

import asyncio
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

import asyncpg

from services.dossier.adapters import dossier_index, email_index
from services.dossier.application import aggregates, content_keys, notifications
from services.dossier.domain import beneficiary as b
from services.dossier.domain import dossier as d
from services.dossier.domain import held_time
from services.dossier.domain.errors import CONFLICT, GONE, INVALID, NOT_FOUND, refuse
from services.dossier.domain.events import DomainEvent
from services.dossier.settings import Settings
from shared.aggregate.repository import Loaded, Repository
from shared.blind_index import email_index as blind_index
from shared.clock import Clock
from shared.db import Connection
from shared.eventstore import ConcurrencyError, EventStore
from shared.keystore import KeyStore
from shared.logging import get_logger
from shared.runtime import ServiceRuntime
from shared.timers import schedule
from shared.unit_of_work import after_commit, once_committed

CONVENTION_DEADLINE = "dossier.convention_deadline"
DESTROY_DOCUMENTS = "dossier.destroy_documents"
DATA_REQUEST_DUE = "dossier.data_request_due"

STATE_CACHE_SIZE = 10_000
"""Dossiers whose last committed state this process keeps in memory."""

log = get_logger(__name__)

S = TypeVar("S")
C = TypeVar("C")

Build = Callable[[Connection, S | None], Awaitable[C]]
"""Makes the command from the aggregate's state (and what it reads in the transaction)."""
Check = Callable[[S | None], None]
"""Refuses the caller (raises) unless they may run the command on this state."""
DossierBuild = Build[d.Dossier, d.Command]
DossierCheck = Check[d.Dossier]
BeneficiaryBuild = Build[b.Beneficiary, b.Command]
BeneficiaryCheck = Check[b.Beneficiary]


def _creates(expected_version: int | None, authorize: Callable[..., None] | None) -> bool:
    """A command that creates its stream (an opening, a registration) has nothing to read:
    the stream must not exist yet, which the append checks (version 0)."""
    return expected_version == 0 and authorize is None


class CommittedStates:
    """The last committed state of recently written dossiers, by version (least recently used
    ones dropped). Only states whose transaction committed get here (`after_commit`)."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._states: OrderedDict[str, tuple[int, d.Dossier]] = OrderedDict()

    def at(self, dossier_id: str, version: int) -> d.Dossier | None:
        found = self._states.get(dossier_id)
        if found is None or found[0] != version:
            return None
        self._states.move_to_end(dossier_id)
        return found[1]

    def remember(self, dossier_id: str, version: int, state: d.Dossier) -> None:
        self._states[dossier_id] = (version, state)
        self._states.move_to_end(dossier_id)
        if len(self._states) > self._capacity:
            self._states.popitem(last=False)

    def forget(self, dossier_id: str) -> None:
        self._states.pop(dossier_id, None)


@dataclass(frozen=True, slots=True)
class Outcome(Generic[S]):
    """What a command left behind: the new state, the stream version, the new events."""

    state: S | None
    version: int
    events: list[DomainEvent]


def constant(command: C) -> Build[Any, C]:
    """A build step for a command that needs nothing from the database."""

    async def build(_conn: Connection, _state: object) -> C:
        return command

    return build


class DossierCommands:
    """The write side of the service."""

    def __init__(self, runtime: ServiceRuntime, settings: Settings) -> None:
        self._runtime = runtime
        self.settings = settings
        self._shredded = asyncio.Event()
        self._states = CommittedStates(STATE_CACHE_SIZE)
        self.dossiers = aggregates.dossiers(runtime)
        self.beneficiaries = aggregates.beneficiaries(runtime)
        self.held_times = aggregates.held_times(runtime)
        self.wake_mail: Callable[[], None] = lambda: None
        """Tells the mail loop that a mail was queued (set by the composition root)."""

    # The store and key store exist once the runtime has started; handlers are registered
    # before that, so they are looked up at each use.
    @property
    def store(self) -> EventStore:
        return self._runtime.store

    @property
    def keys(self) -> KeyStore:
        return self._runtime.keys

    @property
    def clock(self) -> Clock:
        return self._runtime.clock

    # --- dossiers -----------------------------------------------------------------------------

    async def execute(
        self,
        conn: Connection,
        dossier_id: str,
        build: DossierBuild,
        *,
        expected_version: int | None,
        authorize: DossierCheck | None = None,
    ) -> Outcome[d.Dossier]:
        """Run one command on a dossier inside the caller's transaction."""
        loaded = await self._load(conn, dossier_id, expected_version, authorize)
        outcome = await self._run(
            self.dossiers, d.decide, conn, dossier_id, loaded, build, expected_version, authorize
        )
        new_state = outcome.state
        if not outcome.events:
            return outcome
        assert new_state is not None
        await self._carry_out(conn, new_state, outcome.events)
        self._states.forget(dossier_id)
        after_commit(lambda: self._states.remember(dossier_id, outcome.version, new_state))
        return outcome

    async def _run(
        self,
        repository: Repository[S, DomainEvent],
        decide: Callable[[S | None, C, datetime], list[DomainEvent]],
        conn: Connection,
        aggregate_id: str,
        loaded: Loaded[S],
        build: Build[S, C],
        expected_version: int | None,
        authorize: Check[S] | None,
    ) -> Outcome[S]:
        """Authorise, check the version, build, decide and append (the events' outbox messages
        and read model with them), in the caller's transaction."""
        if authorize is not None:
            authorize(loaded.state)
        # Not the repository's `load(expected_version=...)`: the version is checked after the
        # authorisation, so a stale If-Match tells a caller who may not act here nothing, and
        # also when the aggregate does not exist (a version of nothing is stale).
        if expected_version is not None and expected_version != loaded.version:
            raise ConcurrencyError(
                repository.stream_id(aggregate_id), expected_version, loaded.version
            )
        command = await build(conn, loaded.state)
        events = decide(loaded.state, command, self.clock.now())
        saved = await repository.append(aggregate_id, loaded, events, conn=conn)
        return Outcome(saved.state, saved.version, events)

    async def _load(
        self,
        conn: Connection,
        dossier_id: str,
        expected_version: int | None,
        authorize: DossierCheck | None,
    ) -> Loaded[d.Dossier]:
        # The state the client read (If-Match) is often the one this process just wrote: no
        # need to read and fold the stream again. Safe because the append checks the version
        # against the database; a command without an expected version reads the stream.
        if expected_version is not None:
            cached = self._states.at(dossier_id, expected_version)
            if cached is not None:
                return Loaded(cached, expected_version)
        if _creates(expected_version, authorize):
            return Loaded(None, 0)
        return await self.dossiers.load(dossier_id, conn=conn)

    async def record_held_session(
        self, conn: Connection, dossier_id: str, command: held_time.RecordHeldSession
    ) -> list[DomainEvent]:
        """Count a held session on the dossier's held-time stream (no contract event)."""
        loaded = await self.held_times.load(dossier_id, conn=conn)
        events = held_time.decide(loaded.state, command)
        await self.held_times.append(dossier_id, loaded, events, conn=conn)
        return events

    async def held_minutes(self, conn: Connection, dossier_id: str) -> int:
        state = (await self.held_times.load(dossier_id, conn=conn)).state
        return (state or held_time.HeldTime()).minutes

    async def _carry_out(
        self, conn: Connection, state: d.Dossier, events: list[DomainEvent]
    ) -> None:
        dossier_id = state.dossier_id
        if await notifications.queue_for(conn, state, events, self.clock.now()):
            once_committed(self.wake_mail)
        for event in events:
            if isinstance(event, d.ConventionSentForSignature):
                await schedule(
                    conn,
                    due_at=event.acceptance_deadline,
                    kind=CONVENTION_DEADLINE,
                    payload={"dossier_id": dossier_id, "convention_id": event.convention_id},
                    key=f"convention-deadline:{event.convention_id}",
                )
            elif isinstance(event, d.DossierCompleted | d.DossierAbandoned | d.WithdrawalExercised):
                assert state.ended_at is not None
                await schedule(
                    conn,
                    due_at=d.destruction_time(
                        state.ended_at, state.ended_at + self.settings.destruction_grace
                    ),
                    kind=DESTROY_DOCUMENTS,
                    payload={"dossier_id": dossier_id},
                    key=f"destroy-after-grace:{dossier_id}",
                )
            elif isinstance(event, d.RetentionAgreed):
                assert state.ended_at is not None
                await schedule(
                    conn,
                    due_at=d.destruction_time(state.ended_at, event.expires_at),
                    kind=DESTROY_DOCUMENTS,
                    payload={"dossier_id": dossier_id},
                    key=f"destroy-at-retention-expiry:{dossier_id}",
                )
            elif isinstance(event, d.WorkingDocumentsDestroyed):
                for document_class in event.document_classes:
                    await self.keys.shred(
                        content_keys.class_key(dossier_id, document_class), conn=conn
                    )
                self._shredded.set()
                log.info(
                    "documents_destroyed",
                    dossier_id=dossier_id,
                    document_classes=list(event.document_classes),
                )

    async def open_dossier(
        self,
        conn: Connection,
        *,
        site_id: str,
        funding_route: str,
        enquiry_received_at: datetime,
        beneficiary_id: str | None,
        identity: tuple[str, str, str | None] | None,
    ) -> tuple[Outcome[d.Dossier], str]:
        """Open a dossier, registering the beneficiary (identity sealed) when new."""
        if beneficiary_id is None:
            if identity is None:
                raise refuse(
                    "identity_required",
                    "a new beneficiary needs a name and an e-mail",
                    kind=INVALID,
                )
            beneficiary_id = str(uuid.uuid4())
            name, email, phone = identity
            fields = [(name, "identity.name"), (email, "identity.email")]
            if phone:
                fields.append((phone, "identity.phone"))
            sealed = await self.keys.encrypt_many(
                beneficiary_id, fields, conn=conn, new_subject=True
            )
            register = b.RegisterBeneficiary(
                beneficiary_id,
                sealed[0].text,
                sealed[1].text,
                sealed[2].text if phone else None,
            )
            await self.execute_beneficiary(
                conn, beneficiary_id, constant(register), expected_version=0
            )
        else:
            existing = (await self.beneficiaries.load(beneficiary_id, conn=conn)).state
            if existing is None:
                raise refuse("beneficiary_not_found", "no such beneficiary", kind=NOT_FOUND)
            if existing.erased_at is not None:
                raise refuse("beneficiary_erased", "this beneficiary's data was erased", kind=GONE)
            if existing.restricted:
                raise refuse(
                    "processing_restricted",
                    "the beneficiary restricted the processing of their data (GDPR art. 18): "
                    "no new dossier until the restriction is lifted",
                    kind=CONFLICT,
                )
        dossier_id = str(uuid.uuid4())
        outcome = await self.execute(
            conn,
            dossier_id,
            constant(
                d.OpenDossier(
                    dossier_id, beneficiary_id, site_id, funding_route, enquiry_received_at
                )
            ),
            expected_version=0,
        )
        return outcome, beneficiary_id

    async def seal_work(self, conn: Connection, dossier_id: str, purpose: str, text: str) -> str:
        """Seal a working document under the dossier's working-documents key."""
        sealed = await self.keys.encrypt(
            content_keys.work_key(dossier_id), text, purpose=purpose, conn=conn
        )
        return sealed.text

    async def seal_synthesis(self, conn: Connection, dossier_id: str, text: str) -> str:
        sealed = await self.keys.encrypt(
            content_keys.synthesis_key(dossier_id), text, purpose="synthesis", conn=conn
        )
        return sealed.text

    # --- beneficiaries ------------------------------------------------------------------------

    async def execute_beneficiary(
        self,
        conn: Connection,
        beneficiary_id: str,
        build: BeneficiaryBuild,
        *,
        expected_version: int | None,
        authorize: BeneficiaryCheck | None = None,
    ) -> Outcome[b.Beneficiary]:
        """Run one command on a beneficiary inside the caller's transaction."""
        loaded: Loaded[b.Beneficiary] = (
            Loaded(None, 0)
            if _creates(expected_version, authorize)
            else await self.beneficiaries.load(beneficiary_id, conn=conn)
        )
        outcome = await self._run(
            self.beneficiaries,
            b.decide,
            conn,
            beneficiary_id,
            loaded,
            build,
            expected_version,
            authorize,
        )
        events = outcome.events
        for event in events:
            if isinstance(event, b.DataSubjectRequestReceived):
                await schedule(
                    conn,
                    due_at=event.due_at,
                    kind=DATA_REQUEST_DUE,
                    payload={"beneficiary_id": beneficiary_id, "request_id": event.request_id},
                    key=f"data-request-due:{event.request_id}",
                )
            elif isinstance(event, b.BeneficiaryErased):
                await self._erase(conn, beneficiary_id)
            elif isinstance(event, b.DataSubjectRequestFulfilled) and event.kind == "restriction":
                await self._restrict(conn, beneficiary_id, True, event.fulfilled_at)
            elif isinstance(event, b.RestrictionLifted):
                await self._restrict(conn, beneficiary_id, False, event.lifted_at)
            elif (
                isinstance(event, b.BeneficiaryRegistered | b.IdentityRectified)
                and event.sealed_email is not None
            ):
                await self.index_email(conn, beneficiary_id, event.sealed_email)
        return outcome

    async def _restrict(
        self, conn: Connection, beneficiary_id: str, restricted: bool, at: datetime
    ) -> None:
        """Every dossier of the person learns that their processing is restricted (or no
        longer), so that each command and read on it can tell without another look-up."""
        for dossier_id, _status in await dossier_index.dossiers_of(conn, beneficiary_id):
            await self.execute(
                conn,
                dossier_id,
                constant(d.RestrictProcessing(restricted, at)),
                expected_version=None,
            )

    async def index_email(self, conn: Connection, beneficiary_id: str, sealed_email: str) -> None:
        """Record the blind index of the address, for the console's sign-in look-up."""
        address = await self.keys.decrypt(
            beneficiary_id, sealed_email, purpose="identity.email", conn=conn
        )
        # An erased address leaves an empty index: nothing finds it, and the back-fill is done.
        index = (
            blind_index(self.settings.blind_index_key_bytes(), address)
            if isinstance(address, str)
            else ""
        )
        await email_index.put(conn, beneficiary_id, index)

    async def backfill_email_index(self, batch: int = 200) -> int:
        """Index the addresses of beneficiaries registered before the index existed."""
        done = 0
        while True:
            async with self._runtime.pool.acquire() as conn, conn.transaction():
                pending = await email_index.unindexed(conn, batch)
                for beneficiary_id in pending:
                    state = (await self.beneficiaries.load(beneficiary_id, conn=conn)).state
                    if state is None or state.erased_at is not None:
                        await email_index.put(conn, beneficiary_id, "")
                    else:
                        await self.index_email(conn, beneficiary_id, state.sealed_email)
                        done += 1
            if len(pending) < batch:
                return done

    async def _erase(self, conn: Connection, beneficiary_id: str) -> None:
        # Erasure takes the bilan content of every dossier with it (retention agreements
        # were the person's own choice, which erasure revokes), then the identity key.
        for dossier_id, _status in await dossier_index.dossiers_of(conn, beneficiary_id):
            await self.execute(
                conn, dossier_id, constant(d.DestroyAllDocuments()), expected_version=None
            )
        await self.keys.shred(beneficiary_id, conn=conn)
        await email_index.forget(conn, beneficiary_id)
        self._shredded.set()
        log.info("beneficiary_erased", beneficiary_id=beneficiary_id)

    async def vacuum_after_shredding(self, settle_s: float = 0.5) -> None:
        """Reclaim shredded keys' row versions (run until cancelled).

        A deleted key stays on disk in a dead row version until VACUUM, and VACUUM cannot run
        inside the shredding transaction: so this waits for a shred, lets it commit, and
        vacuums the key table. Rows an older open transaction can still see survive until the
        next run.
        """
        while True:
            await self._shredded.wait()
            self._shredded.clear()
            await asyncio.sleep(settle_s)
            try:
                await self.keys.vacuum()
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("key_vacuum_failed", error=type(exc).__name__)
                self._shredded.set()
                await asyncio.sleep(5)

    async def dossiers_in_progress(self, conn: Connection, beneficiary_id: str) -> int:
        return sum(
            1
            for _, status in await dossier_index.dossiers_of(conn, beneficiary_id)
            if status == "open"
        )
