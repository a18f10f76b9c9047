"""decide(state, command, now): the events a command produces, or the refusal saying why not.

Dispatches each command of the `Command` union to its topic (planning, outcome, attendance);
`assert_never` lets mypy prove every command is handled.
"""

from __future__ import annotations

from datetime import datetime
from typing import assert_never

from services.scheduling.domain.errors import conflict
from services.scheduling.domain.sessions import attendance, outcome, planning
from services.scheduling.domain.sessions.commands import (
    CancelSession,
    Command,
    MarkReminderSent,
    RecordNoShow,
    RecordSessionHeld,
    RescheduleSession,
    ScheduleSession,
    SignAttendance,
)
from services.scheduling.domain.sessions.events import Event, ReminderSent
from services.scheduling.domain.sessions.guards import existing, scheduled
from services.scheduling.domain.sessions.state import Session


def decide(state: Session | None, command: Command, now: datetime) -> list[Event]:
    """The events that `command` causes, or `Rejected` with the rule it breaks."""
    match command:
        case ScheduleSession():
            if state is not None:
                raise conflict("session_exists", "a session with this id already exists")
            return [planning.schedule(command, now)]
        case MarkReminderSent():
            existing(state)
            return [ReminderSent(offset_minutes=command.offset_minutes, sent_at=command.sent_at)]
        case SignAttendance():
            return [attendance.sign(existing(state), command, now)]
        case RescheduleSession():
            return [planning.reschedule(scheduled(state), command, now)]
        case CancelSession():
            return [outcome.cancel(scheduled(state), command, now)]
        case RecordNoShow():
            return [outcome.no_show(scheduled(state), now)]
        case RecordSessionHeld():
            return [outcome.held(scheduled(state), command, now)]
        case _:
            assert_never(command)
