"""The session aggregate: one meeting of a dossier's beneficiary with a staff member.

The rules come from the law and from Qualiopi: a bilan-phase session only once the convention
is signed (R6313-8), led by the dossier's referent (ind. 18, 21) or, for an assessment, by
another qualified person (ind. 17), in a confidential room of the dossier's site (ind. 17), never
two sessions at once for one consultant or room, and never more than 24 hours of bilan time per
dossier (L6313-4). Attendance is signed by both sides once the session is held (émargement).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Literal, TypeAlias, assert_never
from uuid import UUID

from services.scheduling.domain.rejection import conflict, forbidden, invalid, not_found
from services.scheduling.domain.stored import StoredCodec
from services.scheduling.domain.values import (
    BILAN_PHASES,
    DURATION_CAP_MINUTES,
    SESSION_LEADER_ROLES,
    AssessmentReason,
    CancellationReason,
    Initiator,
    Modality,
    Phase,
    SignerRole,
    overlaps,
)
from shared.aggregate.events import DomainEvent

Status = Literal["scheduled", "cancelled", "no_show", "held"]

# --- What the application knows when it asks (facts gathered from read models) -------------


@dataclass(frozen=True, slots=True)
class DossierFacts:
    """What this service learnt of a dossier from the dossier service's events."""

    dossier_id: UUID
    site_id: UUID
    beneficiary_id: UUID | None = None
    convention_signed_at: datetime | None = None
    referent_id: UUID | None = None
    completed_at: datetime | None = None
    abandoned_at: datetime | None = None
    withdrawn_at: datetime | None = None
    convention_refused_at: datetime | None = None
    """The last `ConventionDeemedRefused`: no bilan session until a convention is signed again."""

    @property
    def convention_refused(self) -> bool:
        return self.convention_refused_at is not None and (
            self.convention_signed_at is None
            or self.convention_signed_at < self.convention_refused_at
        )


@dataclass(frozen=True, slots=True)
class StaffFacts:
    """A staff member as far as leading a session is concerned."""

    staff_id: UUID
    roles: frozenset[str]
    site_ids: frozenset[UUID]
    habilitations: frozenset[str] = frozenset()
    active: bool = True


@dataclass(frozen=True, slots=True)
class RoomFacts:
    room_id: UUID
    site_id: UUID
    confidential: bool


@dataclass(frozen=True, slots=True)
class Booking:
    """Another live session that holds a consultant or a room for a while."""

    session_id: UUID
    consultant_id: UUID
    room_id: UUID | None
    starts_at: datetime
    minutes: int


@dataclass(frozen=True, slots=True)
class Assessment:
    """A session where someone other than the referent administers a test."""

    reason: AssessmentReason
    habilitation: str | None = None


# --- Commands --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ScheduleSession:
    session_id: UUID
    phase: Phase
    modality: Modality
    consultant_id: UUID
    room_id: UUID | None
    starts_at: datetime
    planned_minutes: int
    dossier: DossierFacts
    consultant: StaffFacts | None
    room: RoomFacts | None
    bookings: tuple[Booking, ...] = ()
    """Live sessions of the same consultant or room around the requested slot."""
    bilan_minutes_used: int = 0
    """Planned minutes of live sessions plus held minutes, in bilan phases, of the dossier."""
    assessment: Assessment | None = None
    join_link: str | None = None


@dataclass(frozen=True, slots=True)
class RescheduleSession:
    starts_at: datetime
    requested_by: Initiator
    bookings: tuple[Booking, ...] = ()


@dataclass(frozen=True, slots=True)
class CancelSession:
    cancelled_by: Initiator
    reason: CancellationReason


@dataclass(frozen=True, slots=True)
class RecordNoShow:
    pass


@dataclass(frozen=True, slots=True)
class RecordSessionHeld:
    started_at: datetime
    duration_minutes: int
    dossier: DossierFacts
    bilan_minutes_used: int = 0
    """As for scheduling, but without this session's own planned minutes."""


@dataclass(frozen=True, slots=True)
class SignAttendance:
    signer_role: SignerRole
    signer_id: UUID
    """The staff id of the consultant, or the beneficiary id, taken from the access token."""
    signed_at: datetime
    dossier: DossierFacts


@dataclass(frozen=True, slots=True)
class MarkReminderSent:
    offset_minutes: int
    sent_at: datetime


Command: TypeAlias = (
    ScheduleSession
    | RescheduleSession
    | CancelSession
    | RecordNoShow
    | RecordSessionHeld
    | SignAttendance
    | MarkReminderSent
)

# --- Events ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SessionScheduled(DomainEvent):
    session_id: UUID
    dossier_id: UUID
    site_id: UUID
    consultant_id: UUID
    room_id: UUID | None
    modality: Modality
    phase: Phase
    starts_at: datetime
    planned_minutes: int
    join_link: str | None
    assessment_reason: AssessmentReason | None
    scheduled_at: datetime


@dataclass(frozen=True, slots=True)
class SessionRescheduled(DomainEvent):
    starts_at: datetime
    previous_starts_at: datetime
    requested_by: Initiator
    rescheduled_at: datetime


@dataclass(frozen=True, slots=True)
class SessionCancelled(DomainEvent):
    cancelled_by: Initiator
    notice_hours: float
    reason: CancellationReason
    cancelled_at: datetime


@dataclass(frozen=True, slots=True)
class NoShowRecorded(DomainEvent):
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class SessionHeld(DomainEvent):
    started_at: datetime
    duration_minutes: int


@dataclass(frozen=True, slots=True)
class AttendanceSigned(DomainEvent):
    signer_role: SignerRole
    signed_at: datetime


@dataclass(frozen=True, slots=True)
class ReminderSent(DomainEvent):
    offset_minutes: int
    sent_at: datetime


Event: TypeAlias = (
    SessionScheduled
    | SessionRescheduled
    | SessionCancelled
    | NoShowRecorded
    | SessionHeld
    | AttendanceSigned
    | ReminderSent
)

EVENTS: tuple[type[Event], ...] = (
    SessionScheduled,
    SessionRescheduled,
    SessionCancelled,
    NoShowRecorded,
    SessionHeld,
    AttendanceSigned,
    ReminderSent,
)
CODEC = StoredCodec[Event](EVENTS)
"""Session events to and from the store, in the shape they were first stored in."""

# --- State -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Session:
    session_id: UUID
    dossier_id: UUID
    site_id: UUID
    consultant_id: UUID
    room_id: UUID | None
    modality: Modality
    phase: Phase
    starts_at: datetime
    planned_minutes: int
    join_link: str | None
    status: Status = "scheduled"
    revision: int = 0
    """How many times it was moved: reminders of an earlier start are told apart by it."""
    held_started_at: datetime | None = None
    held_minutes: int | None = None
    signatures: dict[str, datetime] = field(default_factory=dict)
    reminders_sent: int = 0

    @property
    def counts_towards_cap(self) -> bool:
        return self.phase in BILAN_PHASES

    def cap_minutes(self) -> int:
        """Minutes this session takes from the 24 hours: planned while live, held once held."""
        if not self.counts_towards_cap:
            return 0
        if self.status == "held":
            return self.held_minutes or 0
        if self.status == "scheduled":
            return self.planned_minutes
        return 0


def evolve(state: Session | None, event: Event) -> Session:
    """The session after `event`."""
    if isinstance(event, SessionScheduled):
        return Session(
            session_id=event.session_id,
            dossier_id=event.dossier_id,
            site_id=event.site_id,
            consultant_id=event.consultant_id,
            room_id=event.room_id,
            modality=event.modality,
            phase=event.phase,
            starts_at=event.starts_at,
            planned_minutes=event.planned_minutes,
            join_link=event.join_link,
        )
    assert state is not None, f"{event.type} before SessionScheduled"
    match event:
        case SessionRescheduled():
            return replace(state, starts_at=event.starts_at, revision=state.revision + 1)
        case SessionCancelled():
            return replace(state, status="cancelled")
        case NoShowRecorded():
            return replace(state, status="no_show")
        case SessionHeld():
            return replace(
                state,
                status="held",
                held_started_at=event.started_at,
                held_minutes=event.duration_minutes,
            )
        case AttendanceSigned():
            return replace(
                state, signatures={**state.signatures, event.signer_role: event.signed_at}
            )
        case ReminderSent():
            return replace(state, reminders_sent=state.reminders_sent + 1)
        case _:
            assert_never(event)


def fold(events: list[Event]) -> Session | None:
    state: Session | None = None
    for event in events:
        state = evolve(state, event)
    return state


def decide(state: Session | None, command: Command, now: datetime) -> list[Event]:
    """The events that `command` causes, or `Rejected` with the rule it breaks."""
    match command:
        case ScheduleSession():
            if state is not None:
                raise conflict("session_exists", "a session with this id already exists")
            return [_schedule(command, now)]
        case MarkReminderSent():
            _existing(state)
            return [ReminderSent(offset_minutes=command.offset_minutes, sent_at=command.sent_at)]
        case SignAttendance():
            return [_sign(_existing(state), command, now)]
        case RescheduleSession():
            return [_reschedule(_scheduled(state), command, now)]
        case CancelSession():
            s = _scheduled(state)
            notice = max((s.starts_at - now).total_seconds() / 3600, 0.0)
            return [
                SessionCancelled(
                    cancelled_by=command.cancelled_by,
                    notice_hours=round(notice, 2),
                    reason=command.reason,
                    cancelled_at=now,
                )
            ]
        case RecordNoShow():
            s = _scheduled(state)
            if now < s.starts_at:
                raise conflict(
                    "session_not_started", "a no-show can be recorded only after the start"
                )
            return [NoShowRecorded(recorded_at=now)]
        case RecordSessionHeld():
            return [_held(_scheduled(state), command, now)]
        case _:
            assert_never(command)


def _existing(state: Session | None) -> Session:
    if state is None:
        raise not_found("session_not_found", "no such session")
    return state


def _scheduled(state: Session | None) -> Session:
    """Only a scheduled session can be rescheduled, cancelled, missed or held."""
    s = _existing(state)
    if s.status != "scheduled":
        raise conflict(
            "session_not_scheduled",
            f"the session is {s.status.replace('_', ' ')}; only a scheduled session can change",
            # Not `status`: that name is the problem document's HTTP status.
            session_status=s.status,
        )
    return s


def _schedule(command: ScheduleSession, now: datetime) -> SessionScheduled:
    dossier = command.dossier
    if dossier.abandoned_at is not None:
        raise conflict("dossier_ended", "the dossier was abandoned: no new session")
    if dossier.withdrawn_at is not None:
        raise conflict("dossier_ended", "the beneficiary withdrew from the convention")
    if dossier.convention_refused and command.phase in BILAN_PHASES:
        raise conflict(
            "convention_refused",
            "the convention was deemed refused (R6313-8): no bilan session until one is signed",
        )
    if dossier.completed_at is not None and command.phase != "follow_up":
        raise conflict(
            "dossier_ended", "the dossier is completed: only a follow-up session can be scheduled"
        )
    if command.starts_at <= now:
        raise invalid("start_in_past", "a session is scheduled in the future")
    in_bilan = command.phase in BILAN_PHASES
    if in_bilan and (dossier.convention_signed_at is None or dossier.convention_signed_at > now):
        raise conflict(
            "convention_not_signed",
            "a bilan-phase session needs the dossier's signed convention (R6313-8)",
        )
    _check_leader(command)
    _check_place(command)
    _check_bookings(
        command.bookings,
        command.consultant_id,
        command.room_id,
        command.starts_at,
        command.planned_minutes,
        exclude=command.session_id,
    )
    if in_bilan:
        _check_cap(command.bilan_minutes_used, command.planned_minutes)
    return SessionScheduled(
        session_id=command.session_id,
        dossier_id=dossier.dossier_id,
        site_id=dossier.site_id,
        consultant_id=command.consultant_id,
        room_id=command.room_id if command.modality == "in_person" else None,
        modality=command.modality,
        phase=command.phase,
        starts_at=command.starts_at,
        planned_minutes=command.planned_minutes,
        join_link=command.join_link if command.modality == "remote" else None,
        assessment_reason=command.assessment.reason if command.assessment else None,
        scheduled_at=now,
    )


def _check_leader(command: ScheduleSession) -> None:
    staff = command.consultant
    dossier = command.dossier
    if staff is None or not staff.active:
        raise invalid("consultant_unknown", "the consultant is not an active staff member")
    if staff.roles.isdisjoint(SESSION_LEADER_ROLES):
        raise invalid("not_a_consultant", "only a consultant or a psychologist leads a session")
    if dossier.site_id not in staff.site_ids:
        raise invalid("consultant_other_site", "the consultant does not work at the dossier's site")
    if command.phase == "information":
        return
    if dossier.referent_id is None:
        raise conflict("no_referent", "the dossier has no referent consultant yet")
    if command.consultant_id == dossier.referent_id:
        return
    # Ind. 17: someone else may administer a test, if qualified for it, and with a reason.
    assessment = command.assessment
    if assessment is None:
        raise invalid(
            "not_the_referent",
            "only the dossier's referent leads its sessions; another staff member only for an "
            "assessment, with a reason",
            referent_id=str(dossier.referent_id),
        )
    if assessment.habilitation is not None:
        if assessment.habilitation not in staff.habilitations:
            raise invalid(
                "habilitation_missing",
                f"the staff member does not hold the habilitation {assessment.habilitation}",
            )
    elif not staff.habilitations:
        raise invalid("not_qualified", "the staff member holds no habilitation for assessments")


def _check_place(command: ScheduleSession) -> None:
    if command.modality == "remote":
        if command.room_id is not None:
            raise invalid("room_for_remote", "a remote session takes no room")
        return
    room = command.room
    if command.room_id is None:
        raise invalid("room_required", "an in-person session needs a room of the dossier's site")
    if room is None:
        raise invalid("room_unknown", "no such room")
    if room.site_id != command.dossier.site_id:
        raise invalid("room_other_site", "the room is not at the dossier's site")
    if not room.confidential:
        raise invalid(
            "room_not_confidential",
            "an in-person session needs a room that keeps the exchange confidential (ind. 17)",
        )


def _check_bookings(
    bookings: tuple[Booking, ...],
    consultant_id: UUID,
    room_id: UUID | None,
    starts_at: datetime,
    minutes: int,
    *,
    exclude: UUID,
) -> None:
    for booking in bookings:
        if booking.session_id == exclude:
            continue
        if not overlaps(starts_at, minutes, booking.starts_at, booking.minutes):
            continue
        until = booking.starts_at + timedelta(minutes=booking.minutes)
        if booking.consultant_id == consultant_id:
            raise conflict(
                "consultant_double_booked",
                f"the consultant already has session {booking.session_id} from "
                f"{booking.starts_at.isoformat()} to {until.isoformat()}",
                conflicting_session_id=str(booking.session_id),
            )
        if room_id is not None and booking.room_id == room_id:
            raise conflict(
                "room_double_booked",
                f"the room is taken by session {booking.session_id} from "
                f"{booking.starts_at.isoformat()} to {until.isoformat()}",
                conflicting_session_id=str(booking.session_id),
            )


def _check_cap(used: int, wanted: int) -> None:
    remaining = max(DURATION_CAP_MINUTES - used, 0)
    if wanted > remaining:
        raise invalid(
            "duration_cap_exceeded",
            f"a bilan lasts at most 24 hours (L6313-4): {remaining} minutes are left for this "
            f"dossier, {wanted} were asked",
            remaining_minutes=remaining,
        )


def _reschedule(state: Session, command: RescheduleSession, now: datetime) -> SessionRescheduled:
    if command.starts_at <= now:
        raise invalid("start_in_past", "a session is scheduled in the future")
    if command.starts_at == state.starts_at:
        raise invalid("same_start", "the session already starts then")
    _check_bookings(
        command.bookings,
        state.consultant_id,
        state.room_id,
        command.starts_at,
        state.planned_minutes,
        exclude=state.session_id,
    )
    return SessionRescheduled(
        starts_at=command.starts_at,
        previous_starts_at=state.starts_at,
        requested_by=command.requested_by,
        rescheduled_at=now,
    )


def _held(state: Session, command: RecordSessionHeld, now: datetime) -> SessionHeld:
    if command.started_at > now:
        raise invalid("held_in_future", "a session is recorded as held once it has started")
    if state.phase in BILAN_PHASES:
        signed_at = command.dossier.convention_signed_at
        if signed_at is None or signed_at > command.started_at:
            raise conflict(
                "convention_not_signed",
                "a bilan-phase session cannot be held before the convention was signed",
            )
        _check_cap(command.bilan_minutes_used, command.duration_minutes)
    return SessionHeld(started_at=command.started_at, duration_minutes=command.duration_minutes)


def _sign(state: Session, command: SignAttendance, now: datetime) -> AttendanceSigned:
    # Who signs first: someone who may not learns nothing of the session's state.
    expected = (
        command.dossier.beneficiary_id
        if command.signer_role == "beneficiary"
        else state.consultant_id
    )
    if expected is None or command.signer_id != expected:
        raise forbidden(
            "not_the_signer", f"only the session's {command.signer_role} signs for that role"
        )
    if state.status != "held":
        raise conflict("session_not_held", "attendance is signed for a session that was held")
    if command.signer_role in state.signatures:
        raise conflict("already_signed", f"the {command.signer_role} has already signed")
    assert state.held_started_at is not None
    if command.signed_at < state.held_started_at or command.signed_at > now:
        raise invalid(
            "signature_time_invalid", "a signature is dated between the session's start and now"
        )
    return AttendanceSigned(signer_role=command.signer_role, signed_at=command.signed_at)
