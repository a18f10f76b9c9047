"""evolve(state, event): the session after one of its events; fold(events): after all.

A `match` over the `Event` union ending in `assert_never`, so that mypy proves every event is
applied; an event that is not the first cannot come before `SessionScheduled`.
"""

from __future__ import annotations

from dataclasses import replace
from typing import assert_never

from services.scheduling.domain.sessions.events import (
    AttendanceSigned,
    Event,
    NoShowRecorded,
    ReminderSent,
    SessionCancelled,
    SessionHeld,
    SessionRescheduled,
    SessionScheduled,
)
from services.scheduling.domain.sessions.state import Session


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
