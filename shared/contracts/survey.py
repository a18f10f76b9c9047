"""Events of topic `bilan.survey.events`, published by the survey service (contract v1.1).

The survey service runs the satisfaction surveys (end of bilan, six months later, after a
session, stakeholders), handles complaints and follows the improvement actions that a Qualiopi
audit expects to see. Every event is keyed by its own aggregate id. The history still holds
`SixMonthSituationReported.v1`, keyed by `dossier_id` with `survey_id` as subject (so one
survey's events landed on two partitions): it is decoded, and upcast to `.v2`, never published.
Free text (answers, complaint wording) never leaves the service; only codes, scores and times do.
"""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import Field, model_validator

from shared.contracts.base import Id, IntegrationEvent, UtcDatetime
from shared.contracts.values import Code, Ordinal, Version

__all__ = [
    "EVENTS",
    "Campaign",
    "ComplainantRole",
    "ComplaintAcknowledged",
    "ComplaintAnswered",
    "ComplaintCategory",
    "ComplaintClosed",
    "ComplaintReceived",
    "ComplaintResolution",
    "ImprovementActionCompleted",
    "ImprovementActionOpened",
    "ImprovementSource",
    "QuestionScore",
    "RespondentRole",
    "SatisfactionScore",
    "Situation",
    "SixMonthSituationReported",
    "SixMonthSituationReportedV1",
    "SurveyAnswered",
    "SurveyCancellationReason",
    "SurveyCancelled",
    "SurveyExpired",
    "SurveyReminderSent",
    "SurveySent",
]

# --- Closed lists and scores --------------------------------------------------------------

Campaign = Literal["end_of_bilan", "six_months", "session_feedback", "stakeholder"]
"""Which survey campaign a survey belongs to; only `stakeholder` surveys have no dossier."""

RespondentRole = Literal["beneficiary", "funder", "employer", "staff"]
"""Who is asked to answer a survey."""

Situation = Literal[
    "project_in_progress", "in_training", "new_job", "business_created", "unchanged", "other"
]
"""The beneficiary's situation six months after the bilan."""

SurveyCancellationReason = Literal["beneficiary_erased", "dossier_withdrawn", "other"]
"""Why a survey can no longer be answered."""

ComplainantRole = Literal["beneficiary", "funder", "employer", "staff", "other"]
"""Who made a complaint."""

ComplaintCategory = Literal[
    "organisation", "content", "consultant", "billing", "accessibility", "other"
]
"""What a complaint is about."""

ComplaintResolution = Literal["upheld", "partially_upheld", "rejected"]
"""How a complaint was settled."""

ImprovementSource = Literal["complaint", "survey", "abandonment", "audit", "other"]
"""What gave rise to an improvement action."""

SatisfactionScore = Annotated[int, Field(strict=True, ge=1, le=5)]
"""Overall satisfaction, from 1 (very dissatisfied) to 5 (very satisfied)."""

QuestionScore = Annotated[int, Field(strict=True, ge=0, le=10)]
"""The score given to one closed question of a questionnaire, from 0 to 10."""


def _dossier_iff_not_stakeholder(dossier_id: Id | None, campaign: Campaign) -> None:
    if (dossier_id is None) != (campaign == "stakeholder"):
        raise ValueError("dossier_id must be null exactly when campaign is 'stakeholder'")


# --- Surveys ------------------------------------------------------------------------------


class SurveySent(IntegrationEvent):
    """A questionnaire of a campaign was sent to a respondent, open until `expires_at`."""

    service = "survey"
    event_name = "SurveySent"
    key_field = "survey_id"
    subject_field = "survey_id"
    time_field = "sent_at"

    survey_id: Id
    dossier_id: Id | None
    campaign: Campaign
    respondent_role: RespondentRole
    questionnaire_version: Version
    sent_at: UtcDatetime
    expires_at: UtcDatetime
    session_id: Id | None = None
    """v1.1, optional: the session a `session_feedback` survey asks about."""

    @model_validator(mode="after")
    def _check(self) -> Self:
        _dossier_iff_not_stakeholder(self.dossier_id, self.campaign)
        if self.session_id is not None and self.campaign != "session_feedback":
            raise ValueError("session_id is given only for a 'session_feedback' survey")
        if self.expires_at <= self.sent_at:
            raise ValueError("expires_at must be after sent_at")
        return self


class SurveyReminderSent(IntegrationEvent):
    """The n-th reminder to answer a survey was sent."""

    service = "survey"
    event_name = "SurveyReminderSent"
    key_field = "survey_id"
    subject_field = "survey_id"
    time_field = "sent_at"

    survey_id: Id
    reminder_number: Ordinal
    sent_at: UtcDatetime


class SurveyAnswered(IntegrationEvent):
    """A survey was answered: overall satisfaction and a score per closed question."""

    service = "survey"
    event_name = "SurveyAnswered"
    key_field = "survey_id"
    subject_field = "survey_id"
    time_field = "answered_at"

    survey_id: Id
    # The contract's table does not mark this one nullable, but a `stakeholder` survey has no
    # dossier (see SurveySent), so its answer cannot carry one either.
    dossier_id: Id | None
    campaign: Campaign
    satisfaction_score: SatisfactionScore
    scores: dict[Code, QuestionScore]
    answered_at: UtcDatetime

    @model_validator(mode="after")
    def _check(self) -> Self:
        _dossier_iff_not_stakeholder(self.dossier_id, self.campaign)
        return self


class SurveyExpired(IntegrationEvent):
    """A survey closed without an answer."""

    service = "survey"
    event_name = "SurveyExpired"
    key_field = "survey_id"
    subject_field = "survey_id"
    time_field = "expired_at"

    survey_id: Id
    expired_at: UtcDatetime


class SurveyCancelled(IntegrationEvent):
    """A survey can no longer be answered (v1.1): its link answers 410, rates leave it out."""

    service = "survey"
    event_name = "SurveyCancelled"
    key_field = "survey_id"
    subject_field = "survey_id"
    time_field = "cancelled_at"

    survey_id: Id
    reason: SurveyCancellationReason
    cancelled_at: UtcDatetime


class SixMonthSituationReported(IntegrationEvent):
    """The six-month survey reported the beneficiary's situation, as a category."""

    service = "survey"
    event_name = "SixMonthSituationReported"
    event_version = 2
    key_field = "survey_id"
    subject_field = "survey_id"
    time_field = "reported_at"

    dossier_id: Id
    survey_id: Id
    situation: Situation
    reported_at: UtcDatetime


class SixMonthSituationReportedV1(IntegrationEvent):
    """The six-month situation as published before v1.1, keyed by dossier (superseded)."""

    service = "survey"
    event_name = "SixMonthSituationReported"
    event_version = 1
    key_field = "dossier_id"
    subject_field = "survey_id"
    time_field = "reported_at"
    published = False

    dossier_id: Id
    survey_id: Id
    situation: Situation
    reported_at: UtcDatetime

    def upcast(self) -> SixMonthSituationReported:
        # The same fields: only the key changed (to the subject), which the data does not hold.
        return SixMonthSituationReported(
            dossier_id=self.dossier_id,
            survey_id=self.survey_id,
            situation=self.situation,
            reported_at=self.reported_at,
        )


# --- Complaints ---------------------------------------------------------------------------


class ComplaintReceived(IntegrationEvent):
    """A complaint was received at a site, from a kind of complainant, about a category."""

    service = "survey"
    event_name = "ComplaintReceived"
    key_field = "complaint_id"
    subject_field = "complaint_id"
    time_field = "received_at"

    complaint_id: Id
    site_id: Id
    dossier_id: Id | None
    complainant_role: ComplainantRole
    category: ComplaintCategory
    received_at: UtcDatetime


class ComplaintAcknowledged(IntegrationEvent):
    """Receipt of a complaint was acknowledged to the complainant."""

    service = "survey"
    event_name = "ComplaintAcknowledged"
    key_field = "complaint_id"
    subject_field = "complaint_id"
    time_field = "acknowledged_at"

    complaint_id: Id
    acknowledged_at: UtcDatetime


class ComplaintAnswered(IntegrationEvent):
    """The complainant was given an answer."""

    service = "survey"
    event_name = "ComplaintAnswered"
    key_field = "complaint_id"
    subject_field = "complaint_id"
    time_field = "answered_at"

    complaint_id: Id
    answered_at: UtcDatetime


class ComplaintClosed(IntegrationEvent):
    """A complaint was closed with a resolution."""

    service = "survey"
    event_name = "ComplaintClosed"
    key_field = "complaint_id"
    subject_field = "complaint_id"
    time_field = "closed_at"

    complaint_id: Id
    resolution: ComplaintResolution
    closed_at: UtcDatetime


# --- Improvement actions ------------------------------------------------------------------


class ImprovementActionOpened(IntegrationEvent):
    """An improvement action was opened, from what source, to be done by `due_at`."""

    service = "survey"
    event_name = "ImprovementActionOpened"
    key_field = "action_id"
    subject_field = "action_id"
    time_field = "opened_at"

    action_id: Id
    source: ImprovementSource
    source_id: Id | None
    site_id: Id | None
    due_at: UtcDatetime
    opened_at: UtcDatetime


class ImprovementActionCompleted(IntegrationEvent):
    """An improvement action was carried out."""

    service = "survey"
    event_name = "ImprovementActionCompleted"
    key_field = "action_id"
    subject_field = "action_id"
    time_field = "completed_at"

    action_id: Id
    completed_at: UtcDatetime


EVENTS: tuple[type[IntegrationEvent], ...] = (
    SurveySent,
    SurveyReminderSent,
    SurveyAnswered,
    SurveyExpired,
    SurveyCancelled,
    SixMonthSituationReported,
    SixMonthSituationReportedV1,
    ComplaintReceived,
    ComplaintAcknowledged,
    ComplaintAnswered,
    ComplaintClosed,
    ImprovementActionOpened,
    ImprovementActionCompleted,
)
"""The event types of `bilan.survey.events`, in the order of the contract."""
