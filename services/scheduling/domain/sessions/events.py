"""The session's domain events: the kit's `DomainEvent` dataclasses, and the codec that
stores them in the shape they were first stored in (`domain.stored`).

Only ids, closed-list values, times, durations and the join link: nothing personal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TypeAlias
from uuid import UUID

from services.scheduling.domain.stored import StoredCodec
from services.scheduling.domain.values import (
    AssessmentReason,
    CancellationReason,
    Initiator,
    Modality,
    Phase,
    SignerRole,
)
from shared.aggregate.events import DomainEvent


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
