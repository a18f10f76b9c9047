"""Command handlers of sessions: each runs in one transaction that locks what it checks,
appends the session's events with their contract events, updates the read model and queues
or cancels reminders."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeAlias, assert_never
from uuid import UUID, uuid4

import asyncpg

from services.scheduling.adapters import read_models as rm
from services.scheduling.application import aggregates, notifications
from services.scheduling.application.access import (
    LEADERS,
    MANAGERS,
    principal_id,
    require_session_actor,
    require_site_visible,
)
from services.scheduling.application.beneficiary_notices import NoticeKind, queue_notice
from services.scheduling.application.reminders import cancel_reminders, queue_reminders
from services.scheduling.domain import sessions as s
from services.scheduling.domain.availability import WorkingHours, within_hours
from services.scheduling.domain.errors import conflict, forbidden, invalid, not_found
from services.scheduling.domain.values import (
    BILAN_PHASES,
    AssessmentReason,
    CancellationReason,
    Initiator,
    Modality,
    Phase,
    SignerRole,
)
from services.scheduling.settings import Settings
from shared.aggregate.repository import Loaded
from shared.auth import Principal, Role
from shared.clock import Clock
from shared.db import Connection
from shared.eventstore import EventStore
from shared.keystore import KeyStore
from shared.unit_of_work import once_committed, unit_of_work


@dataclass(frozen=True, slots=True)
class ScheduleRequest:
    phase: Phase
    modality: Modality
    consultant_id: UUID
    room_id: UUID | None
    starts_at: datetime
    planned_minutes: int
    assessment_reason: AssessmentReason | None = None
    assessment_habilitation: str | None = None


# --- What a route asks of an existing session (the application gathers the facts) -----------


@dataclass(frozen=True, slots=True)
class Reschedule:
    """Move a session; its pending reminders are replaced by ones for the new start."""

    starts_at: datetime
    requested_by: Initiator


@dataclass(frozen=True, slots=True)
class Cancel:
    """Cancel a session; the notice is counted from now, its reminders are cancelled."""

    cancelled_by: Initiator
    reason: CancellationReason


@dataclass(frozen=True, slots=True)
class NoShow:
    """The beneficiary did not come (only once the session has started)."""


@dataclass(frozen=True, slots=True)
class Held:
    """The session took place: its actual start and duration count towards the 24 hours."""

    started_at: datetime
    duration_minutes: int


@dataclass(frozen=True, slots=True)
class Sign:
    """The caller signs the attendance: as the beneficiary or as the consultant."""

    signed_at: datetime | None
    """When the signature was made; now if None."""


@dataclass(frozen=True, slots=True)
class MoveAsBeneficiary:
    """The beneficiary moves their own session to a free slot of its consultant, within
    working hours; the consultant is told by mail, with the beneficiary's words."""

    starts_at: datetime
    message: str


@dataclass(frozen=True, slots=True)
class NoticeOfAbsence:
    """The beneficiary warns that they will not come: the session is cancelled by them, and
    the consultant is told by mail, with the beneficiary's words."""

    reason: CancellationReason
    message: str


SessionRequest: TypeAlias = (
    Reschedule | Cancel | NoShow | Held | Sign | MoveAsBeneficiary | NoticeOfAbsence
)


class SessionService:
    """Schedules sessions and records what happens to them."""

    def __init__(
        self,
        *,
        pool: Callable[[], asyncpg.Pool],
        store: Callable[[], EventStore],
        clock: Clock,
        settings: Settings,
        keys: Callable[[], KeyStore] | None = None,
    ) -> None:
        self._pool = pool
        self.repository = aggregates.sessions(store)
        self._clock = clock
        self._settings = settings
        self._keys = keys
        self.wake_mail: Callable[[], None] = lambda: None
        """Tells the mail loop that reminders were queued (set by the composition root)."""

    # --- commands ----------------------------------------------------------------------------

    async def schedule(
        self, principal: Principal, dossier_id: UUID, request: ScheduleRequest
    ) -> tuple[s.Session, int]:
        """Book a session of a dossier, checked against every rule, with its reminders."""
        names = [f"dossier:{dossier_id}", f"staff:{request.consultant_id}"]
        if request.room_id is not None:
            names.append(f"room:{request.room_id}")
        async with unit_of_work(self._pool()) as conn:
            await rm.lock(conn, *names)
            dossier = await rm.dossier_facts(conn, dossier_id)
            if dossier is None:
                raise not_found(
                    "dossier_not_found", "no such dossier (not opened, or not yet known)"
                )
            require_site_visible(principal, dossier.site_id, "dossier")
            me = principal_id(principal)
            if not principal.has_any_role(MANAGERS) and me not in (
                request.consultant_id,
                dossier.referent_id,
            ):
                raise forbidden(
                    "not_your_dossier",
                    "a consultant schedules their own sessions or those of dossiers they refer",
                )
            assessment = (
                s.Assessment(request.assessment_reason, request.assessment_habilitation)
                if request.assessment_reason is not None
                else None
            )
            command = s.ScheduleSession(
                session_id=uuid4(),
                phase=request.phase,
                modality=request.modality,
                consultant_id=request.consultant_id,
                room_id=request.room_id,
                starts_at=request.starts_at,
                planned_minutes=request.planned_minutes,
                dossier=dossier,
                consultant=await rm.staff_facts(conn, request.consultant_id),
                room=await rm.room_facts(conn, request.room_id),
                bookings=await rm.bookings_around(
                    conn,
                    request.consultant_id,
                    request.room_id,
                    request.starts_at,
                    request.planned_minutes,
                ),
                bilan_minutes_used=await rm.bilan_minutes_used(conn, dossier_id),
                assessment=assessment,
                join_link=self._settings.join_link_base + secrets.token_urlsafe(18),
            )
            now = self._clock.now()
            events = s.decide(None, command, now)
            state, version = await self._record(conn, command.session_id, None, 0, events)
            place = await self._place(conn, state)
            queued = await queue_reminders(
                conn,
                state,
                offsets_minutes=self._settings.reminder_offsets_minutes,
                place=place,
                now=now,
            )
            if await notifications.session_booked(conn, state, place=place, now=now) or queued:
                once_committed(self.wake_mail)
            return state, version

    async def execute(
        self,
        conn: Connection,
        principal: Principal,
        session_id: UUID,
        expected_version: int,
        request: SessionRequest,
    ) -> tuple[s.Session, int]:
        """Run `request` on an existing session in the caller's transaction (a route's): the
        session is locked, who may act is checked before the version read, then the rules."""
        match request:
            case Reschedule():
                state, version = await self._authorised(
                    conn, principal, session_id, expected_version
                )
                # Asked of the centre (even for the beneficiary, on the phone): mailed to them.
                return await self._move(
                    conn, state, version, request.starts_at, request.requested_by, tell=True
                )
            case Cancel():
                command = s.CancelSession(request.cancelled_by, request.reason)
                return await self._simple(
                    conn, principal, session_id, expected_version, command, tell=True
                )
            case NoShow():
                return await self._simple(
                    conn, principal, session_id, expected_version, s.RecordNoShow()
                )
            case Held():
                return await self._held(conn, principal, session_id, expected_version, request)
            case Sign():
                return await self._sign(conn, principal, session_id, expected_version, request)
            case MoveAsBeneficiary():
                return await self._move_as_beneficiary(
                    conn, principal, session_id, expected_version, request
                )
            case NoticeOfAbsence():
                return await self._absence(conn, principal, session_id, expected_version, request)
            case _:
                assert_never(request)

    async def reschedule(
        self,
        principal: Principal,
        session_id: UUID,
        expected_version: int,
        starts_at: datetime,
        requested_by: Initiator,
    ) -> tuple[s.Session, int]:
        """`Reschedule` in a transaction of its own (the routes run in theirs: `execute`)."""
        request = Reschedule(starts_at, requested_by)
        return await self._in_own_transaction(principal, session_id, expected_version, request)

    async def cancel(
        self,
        principal: Principal,
        session_id: UUID,
        expected_version: int,
        cancelled_by: Initiator,
        reason: CancellationReason,
    ) -> tuple[s.Session, int]:
        """`Cancel` in a transaction of its own (the routes run in theirs: `execute`)."""
        request = Cancel(cancelled_by, reason)
        return await self._in_own_transaction(principal, session_id, expected_version, request)

    async def _in_own_transaction(
        self,
        principal: Principal,
        session_id: UUID,
        expected_version: int,
        request: SessionRequest,
    ) -> tuple[s.Session, int]:
        async with unit_of_work(self._pool()) as conn:
            return await self.execute(conn, principal, session_id, expected_version, request)

    async def _move(
        self,
        conn: Connection,
        state: s.Session,
        version: int,
        starts_at: datetime,
        requested_by: Initiator,
        *,
        tell: bool,
    ) -> tuple[s.Session, int]:
        """Move the session; `tell`: the beneficiary is mailed the new time (they did not
        move it themselves in the console)."""
        names = [f"staff:{state.consultant_id}"]
        if state.room_id is not None:
            names.append(f"room:{state.room_id}")
        await rm.lock(conn, *names)
        bookings = await rm.bookings_around(
            conn, state.consultant_id, state.room_id, starts_at, state.planned_minutes
        )
        now = self._clock.now()
        events = s.decide(state, s.RescheduleSession(starts_at, requested_by, bookings), now)
        offsets = self._settings.reminder_offsets_minutes
        await cancel_reminders(conn, state, offsets_minutes=offsets)
        after, version = await self._record(conn, state.session_id, state, version, events)
        place = await self._place(conn, after)
        queued = await queue_reminders(conn, after, offsets_minutes=offsets, place=place, now=now)
        if tell:
            queued = (
                await notifications.session_moved(conn, state, after, place=place, now=now)
                or queued
            )
        else:
            await notifications.withdraw(conn, state)
        if queued:
            once_committed(self.wake_mail)
        return after, version

    async def _held(
        self,
        conn: Connection,
        principal: Principal,
        session_id: UUID,
        expected_version: int,
        request: Held,
    ) -> tuple[s.Session, int]:
        state, version = await self._authorised(conn, principal, session_id, expected_version)
        await rm.lock(conn, f"dossier:{state.dossier_id}")
        dossier = await rm.dossier_facts(conn, state.dossier_id)
        assert dossier is not None, "a session exists only for a known dossier"
        command = s.RecordSessionHeld(
            started_at=request.started_at,
            duration_minutes=request.duration_minutes,
            dossier=dossier,
            bilan_minutes_used=await rm.bilan_minutes_used(
                conn, state.dossier_id, excluding=session_id
            ),
        )
        events = s.decide(state, command, self._clock.now())
        await cancel_reminders(conn, state, offsets_minutes=self._settings.reminder_offsets_minutes)
        await notifications.withdraw(conn, state)
        return await self._record(conn, state.session_id, state, version, events)

    async def _sign(
        self,
        conn: Connection,
        principal: Principal,
        session_id: UUID,
        expected_version: int,
        request: Sign,
    ) -> tuple[s.Session, int]:
        state, version = await self._locked(conn, session_id)
        dossier = await rm.dossier_facts(conn, state.dossier_id)
        assert dossier is not None
        role: SignerRole
        if principal.has_any_role({Role.BENEFICIARY}):
            if principal_id(principal) != dossier.beneficiary_id:
                raise not_found("session_not_found", "no such session")
            role = "beneficiary"
        elif principal.has_any_role(LEADERS):
            require_site_visible(principal, state.site_id, "session")
            role = "consultant"
        else:
            raise forbidden("not_a_signer", "the beneficiary or the consultant signs")
        signer = principal_id(principal)
        if signer is None:
            raise forbidden("not_the_signer", "the token does not name a person")
        if role == "consultant" and signer != state.consultant_id:
            # Who may act before the version (the domain says it again).
            raise forbidden("not_the_signer", "only the session's consultant signs for that role")
        self._require_version(session_id, expected_version, state, version)
        now = self._clock.now()
        command = s.SignAttendance(
            signer_role=role,
            signer_id=signer,
            signed_at=request.signed_at or now,
            dossier=dossier,
        )
        events = s.decide(state, command, now)
        return await self._record(conn, state.session_id, state, version, events)

    # --- the beneficiary's own requests ------------------------------------------------------

    async def _move_as_beneficiary(
        self,
        conn: Connection,
        principal: Principal,
        session_id: UUID,
        expected_version: int,
        request: MoveAsBeneficiary,
    ) -> tuple[s.Session, int]:
        state, version = await self._own_upcoming(conn, principal, session_id, expected_version)
        if not within_hours(self._working_hours(), request.starts_at, state.planned_minutes):
            raise invalid(
                "outside_working_hours", "choose a time among the consultant's free slots"
            )
        after, new_version = await self._move(
            conn, state, version, request.starts_at, "beneficiary", tell=False
        )
        await self._notify(
            conn, state, new_version, "move", request.message, new_starts_at=after.starts_at
        )
        return after, new_version

    async def _absence(
        self,
        conn: Connection,
        principal: Principal,
        session_id: UUID,
        expected_version: int,
        request: NoticeOfAbsence,
    ) -> tuple[s.Session, int]:
        state, version = await self._own_upcoming(conn, principal, session_id, expected_version)
        command = s.CancelSession("beneficiary", request.reason)
        events = s.decide(state, command, self._clock.now())
        await cancel_reminders(conn, state, offsets_minutes=self._settings.reminder_offsets_minutes)
        await notifications.withdraw(conn, state)
        after, new_version = await self._record(conn, state.session_id, state, version, events)
        await self._notify(
            conn, state, new_version, "absence", request.message, reason=request.reason
        )
        return after, new_version

    async def free_slots_for(
        self, principal: Principal, session_id: UUID
    ) -> tuple[s.Session, s.DossierFacts]:
        """A session whose free slots the caller may read: its beneficiary, or its actors."""
        async with self._pool().acquire() as conn:
            state, _version = await self._load(conn, session_id)
            if state is None:
                raise not_found("session_not_found", "no such session")
            dossier = await rm.dossier_facts(conn, state.dossier_id)
            assert dossier is not None, "a session exists only for a known dossier"
            if principal.has_any_role({Role.BENEFICIARY}):
                if principal_id(principal) != dossier.beneficiary_id:
                    raise not_found("session_not_found", "no such session")
            else:
                require_session_actor(
                    principal, state.site_id, state.consultant_id, dossier.referent_id
                )
            return state, dossier

    async def _own_upcoming(
        self, conn: Connection, principal: Principal, session_id: UUID, expected_version: int
    ) -> tuple[s.Session, int]:
        """The caller's own session (another's is not found), not started yet."""
        state, version = await self._locked(conn, session_id)
        dossier = await rm.dossier_facts(conn, state.dossier_id)
        me = principal_id(principal)
        if dossier is None or me is None or me != dossier.beneficiary_id:
            raise not_found("session_not_found", "no such session")
        self._require_version(session_id, expected_version, state, version)
        if state.status != rm.LIVE:
            raise conflict(
                "session_not_scheduled", "this session is not planned", session_status=state.status
            )
        if self._clock.now() >= state.starts_at:
            raise conflict("session_started", "the session has started: tell your consultant")
        return state, version

    async def _notify(
        self,
        conn: Connection,
        before: s.Session,
        version: int,
        kind: NoticeKind,
        message: str,
        *,
        new_starts_at: datetime | None = None,
        reason: CancellationReason | None = None,
    ) -> None:
        assert self._keys is not None, "the composition root gives the key store"
        if await queue_notice(
            conn,
            self._keys(),
            before=before,
            version=version,
            kind=kind,
            message=message,
            now=self._clock.now(),
            new_starts_at=new_starts_at,
            reason=reason,
        ):
            once_committed(self.wake_mail)

    def _working_hours(self) -> WorkingHours:
        st = self._settings
        return WorkingHours(
            st.working_day_start,
            st.working_day_end,
            frozenset(st.working_weekdays),
            st.display_timezone,
        )

    async def mark_reminder_sent(
        self, conn: Connection, session_id: UUID, offset_minutes: int, sent_at: datetime
    ) -> None:
        """Record a reminder the mail loop sent (runs in the loop's transaction)."""
        version = await rm.session_version(conn, session_id)
        if version is None:
            return
        state, version = await self._load(conn, session_id)
        events = s.decide(state, s.MarkReminderSent(offset_minutes, sent_at), sent_at)
        await self._record(conn, session_id, state, version, events)

    async def cancel_future_sessions(
        self, conn: Connection, dossier_id: UUID, after: datetime, *, bilan_only: bool
    ) -> int:
        """Cancel the dossier's sessions still to come after `after` (a reaction to the end of
        its convention, in the consumer's transaction); returns how many were cancelled."""
        cancelled = 0
        for row in await rm.sessions_of_dossier(conn, dossier_id):
            if row["status"] != rm.LIVE or row["starts_at"] < after:
                continue
            if bilan_only and row["phase"] not in BILAN_PHASES:
                continue
            await rm.session_version(conn, row["session_id"])  # locks the row
            state, version = await self._load(conn, row["session_id"])
            assert state is not None
            # The beneficiary's choice (a withdrawal, or silence that is refusal) ends them.
            events = s.decide(state, s.CancelSession("beneficiary", "other"), self._clock.now())
            await cancel_reminders(
                conn, state, offsets_minutes=self._settings.reminder_offsets_minutes
            )
            # The dossier service mails the convention's end, which says it ends these too.
            await notifications.withdraw(conn, state)
            await self._record(conn, state.session_id, state, version, events)
            cancelled += 1
        return cancelled

    # --- queries -----------------------------------------------------------------------------

    async def session_for(self, principal: Principal, session_id: UUID) -> tuple[s.Session, int]:
        """A session the caller may see (its site's staff, or its own beneficiary)."""
        async with self._pool().acquire() as conn:
            state, version = await self._load(conn, session_id)
            if state is None:
                raise not_found("session_not_found", "no such session")
            if principal.has_any_role({Role.BENEFICIARY}):
                dossier = await rm.dossier_facts(conn, state.dossier_id)
                if dossier is None or principal_id(principal) != dossier.beneficiary_id:
                    raise not_found("session_not_found", "no such session")
            else:
                require_site_visible(principal, state.site_id, "session")
            return state, version

    async def sessions_of(
        self, principal: Principal, dossier_id: UUID
    ) -> list[tuple[s.Session, int]]:
        """Every session of a dossier the caller may see."""
        await self.dossier_for(principal, dossier_id)
        found = []
        async with self._pool().acquire() as conn:
            for row in await rm.sessions_of_dossier(conn, dossier_id):
                state, version = await self._load(conn, row["session_id"])
                assert state is not None
                found.append((state, version))
        return found

    async def dossier_for(self, principal: Principal, dossier_id: UUID) -> s.DossierFacts:
        """A dossier the caller may see, as far as sessions go."""
        dossier = await rm.dossier_facts(self._pool(), dossier_id)
        if dossier is None:
            raise not_found("dossier_not_found", "no such dossier")
        if principal.has_any_role({Role.BENEFICIARY}):
            if principal_id(principal) != dossier.beneficiary_id:
                raise not_found("dossier_not_found", "no such dossier")
        else:
            require_site_visible(principal, dossier.site_id, "dossier")
        return dossier

    # --- plumbing ----------------------------------------------------------------------------

    async def _simple(
        self,
        conn: Connection,
        principal: Principal,
        session_id: UUID,
        expected_version: int,
        command: s.Command,
        *,
        tell: bool = False,
    ) -> tuple[s.Session, int]:
        """A command on a session one of its actors may give, that ends its reminders (and
        its notices not sent yet); `tell`: the beneficiary is mailed the cancellation."""
        state, version = await self._authorised(conn, principal, session_id, expected_version)
        now = self._clock.now()
        events = s.decide(state, command, now)
        await cancel_reminders(conn, state, offsets_minutes=self._settings.reminder_offsets_minutes)
        if tell:
            if await notifications.session_cancelled(conn, state, now=now):
                once_committed(self.wake_mail)
        else:
            await notifications.withdraw(conn, state)
        return await self._record(conn, state.session_id, state, version, events)

    async def _locked(self, conn: Connection, session_id: UUID) -> tuple[s.Session, int]:
        current = await rm.session_version(conn, session_id)
        if current is None:
            raise not_found("session_not_found", "no such session")
        state, version = await self._load(conn, session_id)
        assert state is not None
        return state, version

    async def _authorised(
        self, conn: Connection, principal: Principal, session_id: UUID, expected_version: int
    ) -> tuple[s.Session, int]:
        state, version = await self._locked(conn, session_id)
        dossier = await rm.dossier_facts(conn, state.dossier_id)
        referent = dossier.referent_id if dossier else None
        require_session_actor(principal, state.site_id, state.consultant_id, referent)
        self._require_version(session_id, expected_version, state, version)
        return state, version

    async def _load(self, conn: Connection, session_id: UUID) -> tuple[s.Session | None, int]:
        loaded = await self.repository.load(session_id, conn=conn)
        return loaded.state, loaded.version

    async def _record(
        self,
        conn: Connection,
        session_id: UUID,
        state: s.Session | None,
        version: int,
        events: list[s.Event],
    ) -> tuple[s.Session, int]:
        """Append with the contract events and the read model, in the command's transaction."""
        after = await self.repository.append(session_id, Loaded(state, version), events, conn=conn)
        assert after.state is not None
        return after.state, after.version

    def _require_version(
        self, session_id: UUID, expected: int, state: s.Session, current: int
    ) -> None:
        """Checked only once the caller may act: a stale version answered to someone who may
        not would tell them the session exists."""
        self.repository.check_version(session_id, Loaded(state, current), expected)

    async def _place(self, conn: Connection, state: s.Session) -> str | None:
        if state.room_id is None:
            return None
        return await rm.place_of(conn, state.room_id)
