"""Events of topic `bilan.scheduling.events`, published by the scheduling service (contract v1.1).

The scheduling service keeps the sites, rooms and staff (with the qualifications, continuous
training and evaluations a Qualiopi audit asks for), and the sessions of every dossier. Site,
room and staff events are keyed by their own id. Session events are keyed by `dossier_id`, so
that they stay in order with one another per dossier, and have `session_id` as subject.
"""

from __future__ import annotations

from typing import Literal, Self

from pydantic import model_validator

from shared.contracts.base import Id, IntegrationEvent, UtcDatetime
from shared.contracts.dossier import Phase
from shared.contracts.values import (
    BilanMinutes,
    Code,
    Flag,
    Hours,
    NonEmptyUniqueList,
    OrganisationLabel,
    UniqueList,
)

__all__ = [
    "EVENTS",
    "AttendanceSigned",
    "AttendanceSignerRole",
    "CancellationReason",
    "CompetenceEvaluated",
    "CompetenceOutcome",
    "ContinuousTrainingCompleted",
    "NoShowRecorded",
    "QualificationRecorded",
    "ReminderChannel",
    "RoomRegistered",
    "SessionCancelled",
    "SessionHeld",
    "SessionInitiator",
    "SessionModality",
    "SessionPhase",
    "SessionReminderSent",
    "SessionRescheduled",
    "SessionScheduled",
    "SiteOpened",
    "StaffContract",
    "StaffMemberLeft",
    "StaffMemberOnboarded",
    "StaffRole",
]

# --- Closed lists -------------------------------------------------------------------------

StaffRole = Literal[
    "consultant", "psychologist", "site_manager", "quality_lead", "disability_referent", "admin"
]
"""A role a staff member holds in the organisation."""

StaffContract = Literal["employee", "subcontractor"]
"""How a staff member works for the organisation."""

CompetenceOutcome = Literal["meets", "partially_meets", "does_not_meet"]
"""The result of a periodic evaluation of a staff member's competence."""

SessionModality = Literal["in_person", "remote"]
"""How one session takes place (a programme may mix both, a session cannot)."""

SessionPhase = Literal["information", Phase, "follow_up"]
"""What a session is for: the information meeting before the bilan, one of the three bilan
phases, or the follow-up after it. Only the three bilan phases count towards the 24 hours."""

SessionInitiator = Literal["beneficiary", "provider"]
"""Which side asked to move or cancel a session."""

CancellationReason = Literal["force_majeure", "illness", "scheduling_conflict", "other"]
"""Category of the reason a session was cancelled."""

AttendanceSignerRole = Literal["beneficiary", "consultant"]
"""Who signed an attendance sheet."""

ReminderChannel = Literal["email", "sms"]
"""How a session reminder was sent."""


# --- Sites, rooms and staff -----------------------------------------------------------------


class SiteOpened(IntegrationEvent):
    """The organisation opened a site in a region."""

    service = "scheduling"
    event_name = "SiteOpened"
    key_field = "site_id"
    subject_field = "site_id"
    time_field = "opened_at"

    site_id: Id
    name: OrganisationLabel
    region: OrganisationLabel
    opened_at: UtcDatetime


class RoomRegistered(IntegrationEvent):
    """A room of a site was registered, saying whether it allows confidential interviews."""

    service = "scheduling"
    event_name = "RoomRegistered"
    key_field = "room_id"
    subject_field = "room_id"
    time_field = "registered_at"

    room_id: Id
    site_id: Id
    confidential: Flag
    registered_at: UtcDatetime


class StaffMemberOnboarded(IntegrationEvent):
    """A staff member joined, with roles, the sites they work at and their kind of contract."""

    service = "scheduling"
    event_name = "StaffMemberOnboarded"
    key_field = "staff_id"
    subject_field = "staff_id"
    time_field = "onboarded_at"

    staff_id: Id
    roles: NonEmptyUniqueList[StaffRole]
    site_ids: NonEmptyUniqueList[Id]
    contract: StaffContract
    onboarded_at: UtcDatetime


class StaffMemberLeft(IntegrationEvent):
    """A staff member left the organisation."""

    service = "scheduling"
    event_name = "StaffMemberLeft"
    key_field = "staff_id"
    subject_field = "staff_id"
    time_field = "left_at"

    staff_id: Id
    left_at: UtcDatetime


class QualificationRecorded(IntegrationEvent):
    """A staff member's qualification and the habilitations it confers were recorded."""

    service = "scheduling"
    event_name = "QualificationRecorded"
    key_field = "staff_id"
    subject_field = "staff_id"
    time_field = "recorded_at"

    staff_id: Id
    qualification: Code
    habilitations: UniqueList[Code]
    recorded_at: UtcDatetime


class ContinuousTrainingCompleted(IntegrationEvent):
    """A staff member completed so many hours of a continuous training course."""

    service = "scheduling"
    event_name = "ContinuousTrainingCompleted"
    key_field = "staff_id"
    subject_field = "staff_id"
    time_field = "completed_at"

    staff_id: Id
    title_code: Code
    hours: Hours
    completed_at: UtcDatetime


class CompetenceEvaluated(IntegrationEvent):
    """A staff member's competence was evaluated."""

    service = "scheduling"
    event_name = "CompetenceEvaluated"
    key_field = "staff_id"
    subject_field = "staff_id"
    time_field = "evaluated_at"

    staff_id: Id
    outcome: CompetenceOutcome
    evaluated_at: UtcDatetime


# --- Sessions (keyed by dossier, subject: the session) --------------------------------------


class SessionScheduled(IntegrationEvent):
    """A session of a dossier was booked with a consultant, at a site and time."""

    service = "scheduling"
    event_name = "SessionScheduled"
    key_field = "dossier_id"
    subject_field = "session_id"
    time_field = "scheduled_at"

    session_id: Id
    dossier_id: Id
    consultant_id: Id
    site_id: Id
    room_id: Id | None
    modality: SessionModality
    phase: SessionPhase
    starts_at: UtcDatetime
    planned_minutes: BilanMinutes
    scheduled_at: UtcDatetime

    @model_validator(mode="after")
    def _room_iff_not_remote(self) -> Self:
        if (self.room_id is None) != (self.modality == "remote"):
            raise ValueError("room_id must be null exactly when modality is 'remote'")
        return self


class SessionRescheduled(IntegrationEvent):
    """A session was moved to another start time."""

    service = "scheduling"
    event_name = "SessionRescheduled"
    key_field = "dossier_id"
    subject_field = "session_id"
    time_field = "rescheduled_at"

    session_id: Id
    dossier_id: Id
    starts_at: UtcDatetime
    previous_starts_at: UtcDatetime
    requested_by: SessionInitiator
    rescheduled_at: UtcDatetime

    @model_validator(mode="after")
    def _start_time_changed(self) -> Self:
        if self.starts_at == self.previous_starts_at:
            raise ValueError("starts_at must differ from previous_starts_at")
        return self


class SessionCancelled(IntegrationEvent):
    """A session was cancelled, by whom, with how many hours' notice and why."""

    service = "scheduling"
    event_name = "SessionCancelled"
    key_field = "dossier_id"
    subject_field = "session_id"
    time_field = "cancelled_at"

    session_id: Id
    dossier_id: Id
    cancelled_by: SessionInitiator
    notice_hours: Hours
    reason: CancellationReason
    cancelled_at: UtcDatetime


class SessionHeld(IntegrationEvent):
    """A session took place and lasted so many minutes."""

    service = "scheduling"
    event_name = "SessionHeld"
    key_field = "dossier_id"
    subject_field = "session_id"
    time_field = "started_at"

    session_id: Id
    dossier_id: Id
    consultant_id: Id
    site_id: Id
    phase: SessionPhase
    modality: SessionModality
    started_at: UtcDatetime
    duration_minutes: BilanMinutes


class AttendanceSigned(IntegrationEvent):
    """The beneficiary or the consultant signed the attendance sheet of a session."""

    service = "scheduling"
    event_name = "AttendanceSigned"
    key_field = "dossier_id"
    subject_field = "session_id"
    time_field = "signed_at"

    session_id: Id
    dossier_id: Id
    signer_role: AttendanceSignerRole
    signed_at: UtcDatetime


class NoShowRecorded(IntegrationEvent):
    """The beneficiary did not come to a session."""

    service = "scheduling"
    event_name = "NoShowRecorded"
    key_field = "dossier_id"
    subject_field = "session_id"
    time_field = "recorded_at"

    session_id: Id
    dossier_id: Id
    recorded_at: UtcDatetime


class SessionReminderSent(IntegrationEvent):
    """A reminder of an upcoming session was sent to the beneficiary."""

    service = "scheduling"
    event_name = "SessionReminderSent"
    key_field = "dossier_id"
    subject_field = "session_id"
    time_field = "sent_at"

    session_id: Id
    dossier_id: Id
    channel: ReminderChannel
    sent_at: UtcDatetime


EVENTS: tuple[type[IntegrationEvent], ...] = (
    SiteOpened,
    RoomRegistered,
    StaffMemberOnboarded,
    StaffMemberLeft,
    QualificationRecorded,
    ContinuousTrainingCompleted,
    CompetenceEvaluated,
    SessionScheduled,
    SessionRescheduled,
    SessionCancelled,
    SessionHeld,
    AttendanceSigned,
    NoShowRecorded,
    SessionReminderSent,
)
"""The event types of `bilan.scheduling.events`, in the order of the contract."""
