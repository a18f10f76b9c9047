"""What the application asks of a session, and the facts it gathered from its read models
for the rules to judge (a dossier, its consultant, its room, the bookings around a slot).

Facts are plain values the application read in the command's transaction, under the locks that
keep them true until it commits: the rules never read anything themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TypeAlias
from uuid import UUID

from services.scheduling.domain.values import (
    AssessmentReason,
    CancellationReason,
    Initiator,
    Modality,
    Phase,
    SignerRole,
)

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
