"""The complaint aggregate (Qualiopi indicator 31): received, acknowledged, answered, closed.

The centre must acknowledge a complaint and answer it; the deadlines are configuration
(`ComplaintPolicy`) fixed when the complaint is received, so changing the policy later does
not move the deadlines of complaints already in the register.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal, assert_never
from uuid import UUID

from services.survey.domain.calendar import add_working_days
from services.survey.domain.errors import InvalidCommand, NotAllowedNow, NotFound
from shared.aggregate.events import DomainEvent

ComplainantRole = Literal["beneficiary", "funder", "employer", "staff", "other"]
Category = Literal["organisation", "content", "consultant", "billing", "accessibility", "other"]
Channel = Literal["email", "letter", "phone", "in_person", "web_form", "other"]
Resolution = Literal["upheld", "partially_upheld", "rejected"]
Status = Literal["received", "acknowledged", "answered", "closed"]

FUTURE_LEEWAY = timedelta(minutes=5)
"""A business time given by a person may run slightly ahead of the server's clock."""


@dataclass(frozen=True, slots=True)
class ComplaintPolicy:
    """Deadlines: acknowledgement in working days, answer in calendar days."""

    acknowledge_within_working_days: int = 2
    answer_within_days: int = 15


# --- Events ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ComplaintReceived(DomainEvent):
    complaint_id: UUID
    site_id: UUID
    dossier_id: UUID | None
    complainant_role: ComplainantRole
    category: Category
    channel: Channel
    sealed_description: str
    received_at: datetime
    acknowledge_due_at: datetime
    answer_due_at: datetime
    recorded_by: str


@dataclass(frozen=True, slots=True)
class ComplaintAcknowledged(DomainEvent):
    acknowledged_at: datetime


@dataclass(frozen=True, slots=True)
class ComplaintAnswered(DomainEvent):
    sealed_response: str
    answered_at: datetime


@dataclass(frozen=True, slots=True)
class ComplaintClosed(DomainEvent):
    resolution: Resolution
    closed_at: datetime


ComplaintEvent = ComplaintReceived | ComplaintAcknowledged | ComplaintAnswered | ComplaintClosed

# --- Commands --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReceiveComplaint:
    complaint_id: UUID
    site_id: UUID
    dossier_id: UUID | None
    complainant_role: ComplainantRole
    category: Category
    channel: Channel
    sealed_description: str
    received_at: datetime | None
    recorded_by: str
    policy: ComplaintPolicy


@dataclass(frozen=True, slots=True)
class AcknowledgeComplaint:
    acknowledged_at: datetime | None


@dataclass(frozen=True, slots=True)
class AnswerComplaint:
    sealed_response: str
    answered_at: datetime | None


@dataclass(frozen=True, slots=True)
class CloseComplaint:
    resolution: Resolution
    closed_at: datetime | None


ComplaintCommand = ReceiveComplaint | AcknowledgeComplaint | AnswerComplaint | CloseComplaint

# --- State -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Complaint:
    complaint_id: UUID
    site_id: UUID
    dossier_id: UUID | None
    complainant_role: ComplainantRole
    category: Category
    channel: Channel
    sealed_description: str
    received_at: datetime
    acknowledge_due_at: datetime
    answer_due_at: datetime
    status: Status = "received"
    acknowledged_at: datetime | None = None
    answered_at: datetime | None = None
    sealed_response: str | None = None
    closed_at: datetime | None = None
    resolution: Resolution | None = None
    recorded_by: str | None = None
    """Who registered it (a token's `sub`): the complainant themselves when they filed it."""

    def acknowledgement_overdue(self, now: datetime) -> bool:
        """Not acknowledged and past its deadline."""
        return past_due(self.acknowledged_at, self.acknowledge_due_at, now)

    def answer_overdue(self, now: datetime) -> bool:
        """Not answered and past its deadline."""
        return past_due(self.answered_at, self.answer_due_at, now)


def past_due(done_at: datetime | None, due_at: datetime, now: datetime) -> bool:
    """The overdue rule of the register's steps (and of improvement actions): not done yet and
    past its due time. Read models apply it to their rows through this function."""
    return done_at is None and now > due_at


def evolve(state: Complaint | None, event: ComplaintEvent) -> Complaint:
    """The complaint after `event`."""
    match event:
        case ComplaintReceived():
            return Complaint(
                complaint_id=event.complaint_id,
                site_id=event.site_id,
                dossier_id=event.dossier_id,
                complainant_role=event.complainant_role,
                category=event.category,
                channel=event.channel,
                sealed_description=event.sealed_description,
                received_at=event.received_at,
                acknowledge_due_at=event.acknowledge_due_at,
                answer_due_at=event.answer_due_at,
                recorded_by=event.recorded_by,
            )
        case ComplaintAcknowledged():
            return replace(
                _received(state), status="acknowledged", acknowledged_at=event.acknowledged_at
            )
        case ComplaintAnswered():
            return replace(
                _received(state),
                status="answered",
                answered_at=event.answered_at,
                sealed_response=event.sealed_response,
            )
        case ComplaintClosed():
            return replace(
                _received(state),
                status="closed",
                closed_at=event.closed_at,
                resolution=event.resolution,
            )
        case _:
            assert_never(event)


def _received(state: Complaint | None) -> Complaint:
    assert state is not None, "a complaint starts with ComplaintReceived"
    return state


def decide(
    state: Complaint | None, command: ComplaintCommand, now: datetime
) -> list[ComplaintEvent]:
    """The events `command` causes, or a `DomainError`."""
    match command:
        case ReceiveComplaint():
            if state is not None:
                raise NotAllowedNow("complaint_exists", "this complaint is already registered")
            received_at = _business_time(command.received_at, now, earliest=None)
            policy = command.policy
            return [
                ComplaintReceived(
                    complaint_id=command.complaint_id,
                    site_id=command.site_id,
                    dossier_id=command.dossier_id,
                    complainant_role=command.complainant_role,
                    category=command.category,
                    channel=command.channel,
                    sealed_description=command.sealed_description,
                    received_at=received_at,
                    acknowledge_due_at=add_working_days(
                        received_at, policy.acknowledge_within_working_days
                    ),
                    answer_due_at=received_at + timedelta(days=policy.answer_within_days),
                    recorded_by=command.recorded_by,
                )
            ]
        case AcknowledgeComplaint():
            complaint = _existing(state)
            if complaint.status != "received":
                raise NotAllowedNow("complaint_already_acknowledged", "already acknowledged")
            at = _business_time(command.acknowledged_at, now, earliest=complaint.received_at)
            return [ComplaintAcknowledged(at)]
        case AnswerComplaint():
            complaint = _existing(state)
            if complaint.status == "received":
                raise NotAllowedNow(
                    "complaint_not_acknowledged", "acknowledge the complaint before answering it"
                )
            if complaint.status != "acknowledged":
                raise NotAllowedNow("complaint_already_answered", "already answered")
            assert complaint.acknowledged_at is not None
            at = _business_time(command.answered_at, now, earliest=complaint.acknowledged_at)
            return [ComplaintAnswered(command.sealed_response, at)]
        case CloseComplaint():
            complaint = _existing(state)
            if complaint.status == "closed":
                raise NotAllowedNow("complaint_already_closed", "already closed")
            if complaint.status != "answered":
                raise NotAllowedNow(
                    "complaint_not_answered", "answer the complaint before closing it"
                )
            assert complaint.answered_at is not None
            at = _business_time(command.closed_at, now, earliest=complaint.answered_at)
            return [ComplaintClosed(command.resolution, at)]
        case _:
            assert_never(command)


def _existing(state: Complaint | None) -> Complaint:
    if state is None:
        raise NotFound("complaint_not_found", "no such complaint")
    return state


def _business_time(given: datetime | None, now: datetime, *, earliest: datetime | None) -> datetime:
    at = given or now
    if at.tzinfo is None:
        raise InvalidCommand("naive_time", "times must carry a timezone")
    if at > now + FUTURE_LEEWAY:
        raise InvalidCommand("time_in_future", "a fact cannot be recorded before it happens")
    if earliest is not None and at < earliest:
        raise InvalidCommand(
            "time_before_previous_step", "this step cannot precede the previous one"
        )
    return at
