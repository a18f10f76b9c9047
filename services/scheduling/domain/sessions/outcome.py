"""What became of a scheduled session: cancelled (by whom, why, with the notice given, which
the funders' reports count), missed by the beneficiary once it started, or held (its actual
start and duration, which count towards the 24 hours of L6313-4, after the convention's
signature of R6313-8)."""

from __future__ import annotations

from datetime import datetime

from services.scheduling.domain.errors import conflict, invalid
from services.scheduling.domain.sessions import convention
from services.scheduling.domain.sessions.commands import CancelSession, RecordSessionHeld
from services.scheduling.domain.sessions.duration import check_cap
from services.scheduling.domain.sessions.events import (
    NoShowRecorded,
    SessionCancelled,
    SessionHeld,
)
from services.scheduling.domain.sessions.state import Session
from services.scheduling.domain.values import BILAN_PHASES


def cancel(state: Session, command: CancelSession, now: datetime) -> SessionCancelled:
    notice = max((state.starts_at - now).total_seconds() / 3600, 0.0)
    return SessionCancelled(
        cancelled_by=command.cancelled_by,
        notice_hours=round(notice, 2),
        reason=command.reason,
        cancelled_at=now,
    )


def no_show(state: Session, now: datetime) -> NoShowRecorded:
    if now < state.starts_at:
        raise conflict("session_not_started", "a no-show can be recorded only after the start")
    return NoShowRecorded(recorded_at=now)


def held(state: Session, command: RecordSessionHeld, now: datetime) -> SessionHeld:
    if command.started_at > now:
        raise invalid("held_in_future", "a session is recorded as held once it has started")
    if state.phase in BILAN_PHASES:
        convention.signed_before(command.dossier, command.started_at)
        check_cap(command.bilan_minutes_used, command.duration_minutes)
    return SessionHeld(started_at=command.started_at, duration_minutes=command.duration_minutes)
