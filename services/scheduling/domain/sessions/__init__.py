"""The session aggregate: one meeting of a dossier's beneficiary with a staff member.

The rules come from the law and from Qualiopi: a bilan-phase session only once the convention
is signed (R6313-8), led by the dossier's referent (ind. 18, 21) or, for an assessment, by
another qualified person (ind. 17), in a confidential room of the dossier's site (ind. 17), never
two sessions at once for one consultant or room, and never more than 24 hours of bilan time per
dossier (L6313-4). Attendance is signed by both sides once the session is held (émargement).

Layout: `events` (the domain events, the `Event` union and their codec), `state`, `commands`
(the facts the application gathers, the commands and the `Command` union), `decide` and
`evolve` (a `match` each, ending in `assert_never`), and the rules by topic: `guards` (exists,
still scheduled), `planning` (booking and moving), `convention` (R6313-8, the dossier's end),
`leader` (ind. 17, 18, 21), `place` (ind. 17), `bookings` (one session at a time), `duration`
(L6313-4), `outcome` (cancelled, missed, held) and `attendance` (émargement). This module
exports the public API.
"""

from services.scheduling.domain.sessions.commands import (
    Assessment,
    Booking,
    CancelSession,
    Command,
    DossierFacts,
    MarkReminderSent,
    RecordNoShow,
    RecordSessionHeld,
    RescheduleSession,
    RoomFacts,
    ScheduleSession,
    SignAttendance,
    StaffFacts,
)
from services.scheduling.domain.sessions.decide import decide
from services.scheduling.domain.sessions.events import (
    CODEC,
    EVENTS,
    AttendanceSigned,
    Event,
    NoShowRecorded,
    ReminderSent,
    SessionCancelled,
    SessionHeld,
    SessionRescheduled,
    SessionScheduled,
)
from services.scheduling.domain.sessions.evolve import evolve, fold
from services.scheduling.domain.sessions.state import Session, Status

__all__ = [
    "CODEC",
    "EVENTS",
    "Assessment",
    "AttendanceSigned",
    "Booking",
    "CancelSession",
    "Command",
    "DossierFacts",
    "Event",
    "MarkReminderSent",
    "NoShowRecorded",
    "RecordNoShow",
    "RecordSessionHeld",
    "ReminderSent",
    "RescheduleSession",
    "RoomFacts",
    "ScheduleSession",
    "Session",
    "SessionCancelled",
    "SessionHeld",
    "SessionRescheduled",
    "SessionScheduled",
    "SignAttendance",
    "StaffFacts",
    "Status",
    "decide",
    "evolve",
    "fold",
]
