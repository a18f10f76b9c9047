"""Booking a session and moving it: in the future, within its dossier's convention, led by
whom may lead it, where it may take place, clashing with no other session of its consultant or
room, within the dossier's 24 hours (each rule in its module)."""

from __future__ import annotations

from datetime import datetime

from services.scheduling.domain.errors import invalid
from services.scheduling.domain.sessions import convention
from services.scheduling.domain.sessions.bookings import check_bookings
from services.scheduling.domain.sessions.commands import RescheduleSession, ScheduleSession
from services.scheduling.domain.sessions.duration import check_cap
from services.scheduling.domain.sessions.events import SessionRescheduled, SessionScheduled
from services.scheduling.domain.sessions.leader import check_leader
from services.scheduling.domain.sessions.place import check_place
from services.scheduling.domain.sessions.state import Session
from services.scheduling.domain.values import BILAN_PHASES


def schedule(command: ScheduleSession, now: datetime) -> SessionScheduled:
    dossier = command.dossier
    convention.still_open(dossier, command.phase)
    _in_future(command.starts_at, now)
    in_bilan = command.phase in BILAN_PHASES
    if in_bilan:
        convention.signed_for_scheduling(dossier, now)
    check_leader(command)
    check_place(command)
    check_bookings(
        command.bookings,
        command.consultant_id,
        command.room_id,
        command.starts_at,
        command.planned_minutes,
        exclude=command.session_id,
    )
    if in_bilan:
        check_cap(command.bilan_minutes_used, command.planned_minutes)
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


def reschedule(state: Session, command: RescheduleSession, now: datetime) -> SessionRescheduled:
    _in_future(command.starts_at, now)
    if command.starts_at == state.starts_at:
        raise invalid("same_start", "the session already starts then")
    check_bookings(
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


def _in_future(starts_at: datetime, now: datetime) -> None:
    if starts_at <= now:
        raise invalid("start_in_past", "a session is scheduled in the future")
