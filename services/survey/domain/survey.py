"""The survey aggregate: created, invited (with an answer link), reminded, answered or expired.

A survey is created when its campaign is triggered and counts as sent only when its invitation
e-mail has really left (the mail sender reports it): `sent_at` is the SMTP hand-over, and the
answer window (`expires_at`) runs from it. Each e-mail carries its own single-use link token;
the aggregate keeps only their SHA-256 hashes. Whichever link is used first answers the survey
and every link dies with it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Literal, TypeAlias, assert_never
from uuid import UUID

from services.survey.domain.errors import Gone, InvalidCommand, NotAllowedNow, NotFound
from services.survey.domain.questionnaire import Campaign, Situation, ValidAnswers
from shared.aggregate.events import DomainEvent

RespondentRole = Literal["beneficiary", "funder", "employer", "staff"]
Status = Literal["created", "open", "answered", "expired", "cancelled"]
CancelReason = Literal["beneficiary_erased", "dossier_withdrawn", "beneficiary_objected"]

# --- Domain events ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SurveyCreated(DomainEvent):
    survey_id: UUID
    dossier_id: UUID | None
    site_id: str
    campaign: Campaign
    respondent_role: RespondentRole
    questionnaire_version: int
    created_at: datetime
    session_id: UUID | None = None
    """The held session a `session_feedback` survey asks about (absent from older events)."""


@dataclass(frozen=True, slots=True)
class InvitationSent(DomainEvent):
    token_hash: str
    sent_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class ReminderSent(DomainEvent):
    reminder_number: int
    token_hash: str
    sent_at: datetime


@dataclass(frozen=True, slots=True)
class SurveyAnswered(DomainEvent):
    satisfaction_score: int
    scores: dict[str, int]
    situation: Situation | None
    sealed_free_text: dict[str, str]
    """Free text as sealed by the key store: ciphertext only."""
    answered_at: datetime


@dataclass(frozen=True, slots=True)
class SurveyExpired(DomainEvent):
    expired_at: datetime


@dataclass(frozen=True, slots=True)
class SurveyCancelled(DomainEvent):
    reason: CancelReason
    cancelled_at: datetime


SurveyEvent: TypeAlias = (
    SurveyCreated | InvitationSent | ReminderSent | SurveyAnswered | SurveyExpired | SurveyCancelled
)

# --- Commands --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CreateSurvey:
    survey_id: UUID
    dossier_id: UUID | None
    site_id: str
    campaign: Campaign
    respondent_role: RespondentRole
    questionnaire_version: int
    session_id: UUID | None = None


@dataclass(frozen=True, slots=True)
class RecordInvitationSent:
    token_hash: str
    answer_window: timedelta


@dataclass(frozen=True, slots=True)
class RecordReminderSent:
    reminder_number: int
    token_hash: str


@dataclass(frozen=True, slots=True)
class AnswerSurvey:
    token_hash: str
    answers: ValidAnswers
    """Validated answers whose `free_text` values are already sealed."""


@dataclass(frozen=True, slots=True)
class ExpireSurvey:
    pass


@dataclass(frozen=True, slots=True)
class CancelSurvey:
    reason: CancelReason


SurveyCommand: TypeAlias = (
    CreateSurvey
    | RecordInvitationSent
    | RecordReminderSent
    | AnswerSurvey
    | ExpireSurvey
    | CancelSurvey
)

# --- State -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Survey:
    survey_id: UUID
    dossier_id: UUID | None
    site_id: str
    campaign: Campaign
    respondent_role: RespondentRole
    questionnaire_version: int
    created_at: datetime
    session_id: UUID | None = None
    status: Status = "created"
    sent_at: datetime | None = None
    expires_at: datetime | None = None
    token_hashes: frozenset[str] = field(default_factory=frozenset)
    reminders_sent: int = 0
    answered_at: datetime | None = None
    satisfaction_score: int | None = None
    scores: dict[str, int] = field(default_factory=dict)
    situation: Situation | None = None
    sealed_free_text: dict[str, str] = field(default_factory=dict)

    @property
    def is_closed(self) -> bool:
        return self.status in ("answered", "expired", "cancelled")

    def past_answer_window(self, now: datetime) -> bool:
        """Its answer period is over, even if the expiry timer has not recorded it yet."""
        return self.status == "expired" or (self.expires_at is not None and now >= self.expires_at)


def evolve(state: Survey | None, event: SurveyEvent) -> Survey:
    """The survey after `event`."""
    match event:
        case SurveyCreated():
            return Survey(
                survey_id=event.survey_id,
                dossier_id=event.dossier_id,
                site_id=event.site_id,
                campaign=event.campaign,
                respondent_role=event.respondent_role,
                questionnaire_version=event.questionnaire_version,
                created_at=event.created_at,
                session_id=event.session_id,
            )
        case InvitationSent():
            state = _created(state)
            return replace(
                state,
                status="open",
                sent_at=event.sent_at,
                expires_at=event.expires_at,
                token_hashes=state.token_hashes | {event.token_hash},
            )
        case ReminderSent():
            state = _created(state)
            return replace(
                state,
                reminders_sent=event.reminder_number,
                token_hashes=state.token_hashes | {event.token_hash},
            )
        case SurveyAnswered():
            return replace(
                _created(state),
                status="answered",
                answered_at=event.answered_at,
                satisfaction_score=event.satisfaction_score,
                scores=dict(event.scores),
                situation=event.situation,
                sealed_free_text=dict(event.sealed_free_text),
            )
        case SurveyExpired():
            return replace(_created(state), status="expired")
        case SurveyCancelled():
            return replace(_created(state), status="cancelled")
        case _:
            assert_never(event)


def _created(state: Survey | None) -> Survey:
    assert state is not None, "a survey starts with SurveyCreated"
    return state


def decide(state: Survey | None, command: SurveyCommand, now: datetime) -> list[SurveyEvent]:
    """The events that `command` causes now, or a `DomainError`; [] when nothing is to do."""
    match command:
        case CreateSurvey():
            if state is not None:
                raise NotAllowedNow("survey_exists", "this survey already exists")
            if (command.dossier_id is None) != (command.campaign == "stakeholder"):
                raise InvalidCommand(
                    "dossier_mismatch", "only stakeholder surveys are sent without a dossier"
                )
            if (command.session_id is None) == (command.campaign == "session_feedback"):
                raise InvalidCommand(
                    "session_mismatch", "a session is named by session feedback surveys, and only"
                )
            return [
                SurveyCreated(
                    survey_id=command.survey_id,
                    dossier_id=command.dossier_id,
                    site_id=command.site_id,
                    campaign=command.campaign,
                    respondent_role=command.respondent_role,
                    questionnaire_version=command.questionnaire_version,
                    created_at=now,
                    session_id=command.session_id,
                )
            ]
        case RecordInvitationSent():
            state = _existing(state)
            if state.status != "created":
                return []  # the invitation counts once; a copy changes nothing
            if command.answer_window <= timedelta(0):
                raise InvalidCommand("bad_answer_window", "the answer window must be positive")
            return [InvitationSent(command.token_hash, now, now + command.answer_window)]
        case RecordReminderSent():
            state = _existing(state)
            if state.status != "open" or command.reminder_number <= state.reminders_sent:
                return []
            if command.reminder_number != state.reminders_sent + 1:
                raise InvalidCommand("reminder_out_of_order", "reminders are numbered 1, 2, 3…")
            return [ReminderSent(command.reminder_number, command.token_hash, now)]
        case AnswerSurvey():
            state = _existing(state)
            ensure_answerable(state, command.token_hash, now)
            a = command.answers
            return [
                SurveyAnswered(
                    a.satisfaction_score, dict(a.scores), a.situation, dict(a.free_text), now
                )
            ]
        case ExpireSurvey():
            state = _existing(state)
            if state.status != "open" or state.expires_at is None or now < state.expires_at:
                return []
            return [SurveyExpired(now)]
        case CancelSurvey():
            state = _existing(state)
            if state.is_closed:
                return []
            return [SurveyCancelled(command.reason, now)]
        case _:
            assert_never(command)


def _existing(state: Survey | None) -> Survey:
    if state is None:
        raise NotFound("survey_not_found", "no such survey")
    return state


def ensure_answerable(state: Survey, token_hash: str, now: datetime) -> None:
    """Raise unless this link may answer the survey now.

    An unknown link is `NotFound` whatever the survey's state, so that a guessed token learns
    nothing; a real link to an answered survey is 409, to an expired or cancelled one 410.
    """
    if token_hash not in state.token_hashes or state.status == "created":
        raise NotFound("survey_not_found", "no survey answers to this link")
    if state.status == "cancelled":
        raise Gone("survey_cancelled", "this survey was cancelled: it can no longer be answered")
    if state.status == "answered":
        raise NotAllowedNow("survey_already_answered", "this survey has already been answered")
    if state.past_answer_window(now):
        raise Gone("survey_expired", "this survey is closed: its answer period is over")
