"""Request and response bodies of the HTTP API, with the examples shown in OpenAPI."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StrictStr, StringConstraints

from services.survey.domain import action as a
from services.survey.domain import complaint as c
from services.survey.domain import survey as s
from services.survey.domain.questionnaire import (
    FREE_TEXT_MAX,
    Campaign,
    Question,
    QuestionKind,
    Questionnaire,
)
from shared.inputs import MAX_INT, BusinessTime, RequestBody

Text = Annotated[str, StringConstraints(min_length=1, max_length=FREE_TEXT_MAX, pattern=r"\S")]
Email = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"),
]


class QuestionOut(BaseModel):
    code: str = Field(examples=["objectives_met"])
    kind: QuestionKind = Field(examples=["score"])
    label: str = Field(examples=["Vos objectifs de départ ont-ils été atteints ?"])
    required: bool = True
    min_score: int = Field(0, description="Lowest score (score questions).")
    max_score: int = Field(10, description="Highest score (score questions).")


class QuestionnaireOut(BaseModel):
    campaign: Campaign = Field(examples=["end_of_bilan"])
    version: int = Field(examples=[1])
    questions: list[QuestionOut]

    @classmethod
    def of(cls, q: Questionnaire) -> QuestionnaireOut:
        return cls(
            campaign=q.campaign,
            version=q.version,
            questions=[
                QuestionOut(**q_.__dict__) if False else question_out(q_) for q_ in q.questions
            ],
        )


def question_out(q: Question) -> QuestionOut:
    low, high = q.answer_range
    return QuestionOut(
        code=q.code, kind=q.kind, label=q.label, required=q.required, min_score=low, max_score=high
    )


class QuestionIn(RequestBody):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(max_length=64, examples=["waiting_time"])
    kind: QuestionKind = Field(examples=["score"])
    label: str = Field(min_length=1, max_length=500, examples=["Délai pour obtenir un rendez-vous"])
    required: bool = True
    min_score: int = Field(0, strict=True, ge=0, le=10)
    max_score: int = Field(10, strict=True, ge=0, le=10)


class QuestionnaireIn(RequestBody):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "questions": [
                        {
                            "code": "overall_satisfaction",
                            "kind": "satisfaction",
                            "label": "Satisfait(e) ?",
                        },
                        {
                            "code": "objectives_met",
                            "kind": "score",
                            "label": "Objectifs atteints ?",
                        },
                        {
                            "code": "comments",
                            "kind": "text",
                            "label": "Remarques",
                            "required": False,
                        },
                    ]
                }
            ]
        },
    )

    questions: list[QuestionIn] = Field(min_length=1, max_length=50)


class PublicSurvey(BaseModel):
    """What a respondent sees behind their link."""

    campaign: Campaign = Field(examples=["end_of_bilan"])
    questionnaire_version: int = Field(examples=[1])
    expires_at: datetime | None = Field(examples=["2026-04-01T09:00:00Z"])
    questions: list[QuestionOut]


class AnswersIn(RequestBody):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "answers": {
                        "overall_satisfaction": 5,
                        "objectives_met": 8,
                        "consultant_listening": 9,
                        "tools_relevance": 7,
                        "project_clarity": 8,
                        "would_recommend": 10,
                        "comments": "Merci pour votre écoute.",
                    }
                }
            ]
        },
    )

    answers: dict[
        Annotated[str, StringConstraints(max_length=64)],
        Annotated[int, Field(strict=True, ge=-MAX_INT, le=MAX_INT)] | StrictStr | None,
    ] = Field(
        max_length=60,
        description="Question code → integer score, situation code or free text.",
    )


class AnswerReceipt(BaseModel):
    status: Literal["answered"] = "answered"
    answered_at: datetime = Field(examples=["2026-03-10T18:42:00Z"])


class SurveyOut(BaseModel):
    survey_id: UUID
    dossier_id: UUID | None
    site_id: str = Field(examples=["9b2f6c1e-3a0d-4f5e-8c71-2d4b6a8e0f13", "org"])
    campaign: Campaign
    respondent_role: s.RespondentRole
    questionnaire_version: int
    status: s.Status = Field(examples=["open"])
    sent_at: datetime | None
    expires_at: datetime | None
    reminders_sent: int
    answered_at: datetime | None
    satisfaction_score: int | None = Field(examples=[4])
    scores: dict[str, int] = Field(default_factory=dict, examples=[{"objectives_met": 8}])
    situation: str | None = None
    free_text: dict[str, str | None] | None = Field(
        None, description="Only for quality leads and admins; null values were erased."
    )


class StakeholderSurveyIn(RequestBody):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"respondent_role": "funder", "email": "rh@opco.example"}]},
    )

    respondent_role: Literal["funder", "employer", "staff"]
    email: Email = Field(description="Used to send the survey; sealed, then shredded at close.")


class SurveyRef(BaseModel):
    survey_id: UUID


class ComplaintIn(RequestBody):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "site_id": "9b2f6c1e-3a0d-4f5e-8c71-2d4b6a8e0f13",
                    "dossier_id": None,
                    "complainant_role": "beneficiary",
                    "category": "organisation",
                    "channel": "email",
                    "description": "Rendez-vous annulé deux fois sans prévenir.",
                    "received_at": "2026-03-06T09:00:00Z",
                }
            ]
        },
    )

    site_id: UUID
    dossier_id: UUID | None = None
    complainant_role: c.ComplainantRole
    category: c.Category
    channel: c.Channel | None = Field(
        None,
        description="How the complaint arrived: required when staff record it for someone; "
        "a beneficiary filing their own complaint files it through the web form.",
    )
    description: Text
    received_at: BusinessTime | None = Field(
        None, description="When the complaint arrived; now when absent."
    )


class ComplaintOut(BaseModel):
    complaint_id: UUID
    site_id: UUID
    dossier_id: UUID | None
    complainant_role: c.ComplainantRole
    category: c.Category
    channel: c.Channel
    status: c.Status = Field(examples=["acknowledged"])
    received_at: datetime
    acknowledge_due_at: datetime
    answer_due_at: datetime
    acknowledged_at: datetime | None
    answered_at: datetime | None
    closed_at: datetime | None
    resolution: c.Resolution | None
    acknowledgement_overdue: bool
    answer_overdue: bool
    version: int
    description: str | None = Field(None, description="Only in the detail view.")
    response: str | None = Field(None, description="Only in the detail view.")


class StepIn(RequestBody):
    model_config = ConfigDict(extra="forbid")

    at: BusinessTime | None = Field(None, description="When it happened; now when absent.")


class ComplaintAnswerIn(RequestBody):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"response": "Nous avons revu nos plannings.", "at": None}]
        },
    )

    response: Text
    at: BusinessTime | None = None


class ClosureIn(RequestBody):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"resolution": "upheld"}]}
    )

    resolution: c.Resolution
    at: BusinessTime | None = None


class ActionIn(RequestBody):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "source": "complaint",
                    "source_id": "4c1d2e3f-5a6b-4c7d-8e9f-0a1b2c3d4e5f",
                    "site_id": "9b2f6c1e-3a0d-4f5e-8c71-2d4b6a8e0f13",
                    "owner_id": "staff-42",
                    "description": "Confirmer chaque rendez-vous 48 h avant par SMS.",
                    "due_at": "2026-05-01T00:00:00Z",
                }
            ]
        },
    )

    source: a.Source
    source_id: UUID | None = None
    site_id: UUID | None = Field(None, description="Null for an organisation-wide action.")
    owner_id: Annotated[str, StringConstraints(min_length=1, max_length=100)] = Field(
        description="Staff id of the person responsible."
    )
    description: Text
    due_at: BusinessTime


class ActionOut(BaseModel):
    action_id: UUID
    source: a.Source
    source_id: UUID | None
    site_id: UUID | None
    owner_id: str
    due_at: datetime
    opened_at: datetime
    completed_at: datetime | None
    overdue: bool
    version: int
    description: str | None = Field(None, description="Only in the detail view.")
