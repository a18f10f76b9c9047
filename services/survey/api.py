"""HTTP API of the survey service: public answer links, questionnaires, surveys, complaints,
improvement actions. Translation only: rules live in the domain, steps in the application."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID, uuid4

from fastapi import APIRouter, Depends, FastAPI, Header, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, StringConstraints

from services.survey.application import questionnaires
from services.survey.application.register import list_rows
from services.survey.bootstrap import SurveyService
from services.survey.domain import action as a
from services.survey.domain import complaint as c
from services.survey.domain import survey as s
from services.survey.domain.errors import DomainError
from services.survey.domain.questionnaire import (
    FREE_TEXT_MAX,
    Campaign,
    Question,
    QuestionKind,
    Questionnaire,
)
from shared.auth import CurrentPrincipal, Principal, Role, require_roles
from shared.web import Problem, problem_response

Handler = Annotated[
    Principal, Depends(require_roles(Role.QUALITY_LEAD, Role.SITE_MANAGER, Role.ADMIN))
]
QualityLead = Annotated[Principal, Depends(require_roles(Role.QUALITY_LEAD, Role.ADMIN))]
Text = Annotated[str, StringConstraints(min_length=1, max_length=FREE_TEXT_MAX, pattern=r"\S")]
Email = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"),
]
IfMatch = Annotated[
    str | None,
    Header(
        description='The version read (ETag), e.g. `"1"`: required to change an existing record.'
    ),
]
# No length or pattern check on purpose: any wrong token, well formed or not, must get the same
# 404 through the same path (hash, one indexed look-up), never a 422 that tells them apart.
TokenPath = Annotated[str, Path(description="The token of the e-mailed link.")]
PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}


def _service(request: Request) -> SurveyService:
    service: SurveyService = request.app.state.survey
    return service


Service = Annotated[SurveyService, Depends(_service)]


def _expected_version(if_match: str | None) -> int:
    if if_match is None:
        raise Problem(428, "precondition_required", 'send If-Match: "<version>" read from ETag')
    text = if_match.strip().removeprefix("W/").strip('"')
    if not text.isdigit():
        raise Problem(400, "bad_if_match", 'If-Match must be a quoted version, e.g. "2"')
    return int(text)


def _etag(response: Response, version: int) -> None:
    response.headers["ETag"] = f'"{version}"'


def _visible(principal: Principal, site_id: object) -> bool:
    """Organisation-wide records (no site) are for principals covering every site."""
    if site_id is None or site_id == "org":
        return principal.all_sites
    return principal.can_act_on_site(str(site_id))


# --- Models ----------------------------------------------------------------------------------


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
                QuestionOut(**q_.__dict__) if False else _question_out(q_) for q_ in q.questions
            ],
        )


def _question_out(q: Question) -> QuestionOut:
    return QuestionOut(
        code=q.code,
        kind=q.kind,
        label=q.label,
        required=q.required,
        min_score=q.min_score,
        max_score=q.max_score,
    )


class QuestionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(max_length=64, examples=["waiting_time"])
    kind: QuestionKind = Field(examples=["score"])
    label: str = Field(min_length=1, max_length=500, examples=["Délai pour obtenir un rendez-vous"])
    required: bool = True
    min_score: int = Field(0, ge=0, le=10)
    max_score: int = Field(10, ge=0, le=10)


class QuestionnaireIn(BaseModel):
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


class AnswersIn(BaseModel):
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
        Annotated[str, StringConstraints(max_length=64)], StrictInt | StrictStr | None
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


class StakeholderSurveyIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"respondent_role": "funder", "email": "rh@opco.example"}]},
    )

    respondent_role: Literal["funder", "employer", "staff"]
    email: Email = Field(description="Used to send the survey; sealed, then shredded at close.")


class SurveyRef(BaseModel):
    survey_id: UUID


class ComplaintIn(BaseModel):
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
    channel: c.Channel
    description: Text
    received_at: datetime | None = Field(
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


class StepIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    at: datetime | None = Field(None, description="When it happened; now when absent.")


class ComplaintAnswerIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"response": "Nous avons revu nos plannings.", "at": None}]
        },
    )

    response: Text
    at: datetime | None = None


class ClosureIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"resolution": "upheld"}]}
    )

    resolution: c.Resolution
    at: datetime | None = None


class ActionIn(BaseModel):
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
    due_at: datetime


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


# --- Routes ----------------------------------------------------------------------------------


def _complaint_out(
    state: c.Complaint, version: int, now: datetime, texts: dict[str, str | None] | None = None
) -> ComplaintOut:
    return ComplaintOut(
        complaint_id=state.complaint_id,
        site_id=state.site_id,
        dossier_id=state.dossier_id,
        complainant_role=state.complainant_role,
        category=state.category,
        channel=state.channel,
        status=state.status,
        received_at=state.received_at,
        acknowledge_due_at=state.acknowledge_due_at,
        answer_due_at=state.answer_due_at,
        acknowledged_at=state.acknowledged_at,
        answered_at=state.answered_at,
        closed_at=state.closed_at,
        resolution=state.resolution,
        acknowledgement_overdue=state.acknowledgement_overdue(now),
        answer_overdue=state.answer_overdue(now),
        version=version,
        **(texts or {}),
    )


def _complaint_row_out(row: dict[str, Any], now: datetime) -> ComplaintOut:
    return ComplaintOut(
        **{k: v for k, v in row.items() if k in ComplaintOut.model_fields},
        acknowledgement_overdue=row["acknowledged_at"] is None and now > row["acknowledge_due_at"],
        answer_overdue=row["answered_at"] is None and now > row["answer_due_at"],
    )


def _action_out(
    state: a.ImprovementAction, version: int, now: datetime, description: str | None = None
) -> ActionOut:
    return ActionOut(
        action_id=state.action_id,
        source=state.source,
        source_id=state.source_id,
        site_id=state.site_id,
        owner_id=state.owner_id,
        due_at=state.due_at,
        opened_at=state.opened_at,
        completed_at=state.completed_at,
        overdue=state.overdue(now),
        version=version,
        description=description,
    )


def _action_row_out(row: dict[str, Any], now: datetime) -> ActionOut:
    return ActionOut(
        **{k: v for k, v in row.items() if k in ActionOut.model_fields},
        overdue=row["completed_at"] is None and now > row["due_at"],
    )


def public_router() -> APIRouter:
    router = APIRouter(prefix="/public/surveys", tags=["answer link (no login)"])

    @router.get(
        "/{token}",
        summary="The questionnaire behind an answer link",
        responses={404: PROBLEM, 409: PROBLEM, 410: PROBLEM},
    )
    async def show(token: TokenPath, service: Service) -> PublicSurvey:
        state, q = await service.surveys.questionnaire_for_link(token)
        return PublicSurvey(
            campaign=q.campaign,
            questionnaire_version=q.version,
            expires_at=state.expires_at,
            questions=[_question_out(x) for x in q.questions],
        )

    @router.post(
        "/{token}/answers",
        status_code=201,
        summary="Answer a survey through its link (once)",
        responses={404: PROBLEM, 409: PROBLEM, 410: PROBLEM, 422: PROBLEM},
    )
    async def answer(token: TokenPath, body: AnswersIn, service: Service) -> AnswerReceipt:
        state = await service.surveys.answer(token, body.answers)
        assert state.answered_at is not None
        return AnswerReceipt(answered_at=state.answered_at)

    return router


def questionnaire_router() -> APIRouter:
    router = APIRouter(prefix="/questionnaires", tags=["questionnaires"])

    @router.get("/{campaign}", summary="The current version of a campaign's questionnaire")
    async def current(
        campaign: Campaign, _who: CurrentPrincipal, service: Service, response: Response
    ) -> QuestionnaireOut:
        q = await questionnaires.current(service.runtime.pool, campaign)
        _etag(response, q.version)
        return QuestionnaireOut.of(q)

    @router.get("/{campaign}/versions/{version}", summary="One published version")
    async def one(
        campaign: Campaign,
        version: Annotated[int, Path(ge=1)],
        _who: CurrentPrincipal,
        service: Service,
    ) -> QuestionnaireOut:
        return QuestionnaireOut.of(
            await questionnaires.version(service.runtime.pool, campaign, version)
        )

    @router.post(
        "/{campaign}/versions",
        status_code=201,
        summary="Publish the next version (quality lead)",
        responses={409: PROBLEM, 422: PROBLEM, 428: PROBLEM},
    )
    async def publish(
        campaign: Campaign,
        body: QuestionnaireIn,
        who: QualityLead,
        service: Service,
        response: Response,
        if_match: IfMatch = None,
    ) -> QuestionnaireOut:
        expected = _expected_version(if_match)
        questions = tuple(Question(**q.model_dump()) for q in body.questions)
        async with service.runtime.pool.acquire() as conn:
            q = await questionnaires.publish(
                conn,
                campaign,
                questions,
                expected_version=expected,
                published_by=who.subject,
                now=service.runtime.clock.now(),
            )
        _etag(response, q.version)
        return QuestionnaireOut.of(q)

    return router


def survey_router() -> APIRouter:
    router = APIRouter(tags=["surveys"])

    @router.get("/surveys", summary="Surveys of the caller's sites (no free text)")
    async def list_surveys(
        who: Handler,
        service: Service,
        campaign: Campaign | None = None,
        status: s.Status | None = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> list[SurveyOut]:
        rows = await list_rows(
            service.runtime.pool,
            """SELECT * FROM surveys WHERE ($1::text IS NULL OR campaign = $1)
                 AND ($2::text IS NULL OR status = $2) AND ($3 OR site_id = ANY($4::text[]))
               ORDER BY created_at DESC LIMIT $5""",
            campaign,
            status,
            who.all_sites,
            list(who.sites),
            limit,
        )
        return [
            SurveyOut(**{k: v for k, v in r.items() if k in SurveyOut.model_fields}) for r in rows
        ]

    @router.get(
        "/surveys/{survey_id}", summary="One survey with its scores", responses={404: PROBLEM}
    )
    async def one_survey(survey_id: UUID, who: Handler, service: Service) -> SurveyOut:
        async with service.runtime.pool.acquire() as conn:
            loaded = await service.surveys.repository.load(conn, survey_id)
        state = loaded.state
        if state is None or not _visible(who, state.site_id):
            raise Problem(404, "survey_not_found", "no such survey")
        free_text = None
        if who.has_any_role([Role.QUALITY_LEAD, Role.ADMIN]):
            free_text = await service.surveys.read_free_text(state)
        return SurveyOut(
            survey_id=state.survey_id,
            dossier_id=state.dossier_id,
            site_id=state.site_id,
            campaign=state.campaign,
            respondent_role=state.respondent_role,
            questionnaire_version=state.questionnaire_version,
            status=state.status,
            sent_at=state.sent_at,
            expires_at=state.expires_at,
            reminders_sent=state.reminders_sent,
            answered_at=state.answered_at,
            satisfaction_score=state.satisfaction_score,
            scores=state.scores,
            situation=state.situation,
            free_text=free_text,
        )

    @router.post(
        "/stakeholder-surveys",
        status_code=202,
        summary="Send a survey to a funder, employer or staff member (quality lead)",
        responses={422: PROBLEM},
    )
    async def send_stakeholder(
        body: StakeholderSurveyIn, _who: QualityLead, service: Service
    ) -> SurveyRef:
        survey_id = await service.surveys.send_stakeholder_survey(body.respondent_role, body.email)
        return SurveyRef(survey_id=survey_id)

    return router


def complaint_router() -> APIRouter:
    router = APIRouter(prefix="/complaints", tags=["complaints (ind. 31)"])

    async def _visible_complaint(
        service: SurveyService, who: Principal, complaint_id: UUID
    ) -> tuple[c.Complaint, int]:
        loaded = await service.complaints.load(complaint_id)
        if loaded.state is None or not _visible(who, loaded.state.site_id):
            raise Problem(404, "complaint_not_found", "no such complaint")
        return loaded.state, loaded.version

    @router.post(
        "",
        status_code=201,
        summary="Register a complaint (any role, for a site of the caller)",
        responses={403: PROBLEM, 422: PROBLEM},
    )
    async def receive(
        body: ComplaintIn, who: CurrentPrincipal, service: Service, response: Response
    ) -> ComplaintOut:
        who.require_site(body.site_id)
        complaint_id = uuid4()
        saved = await service.complaints.receive(
            complaint_id=complaint_id,
            site_id=body.site_id,
            dossier_id=body.dossier_id,
            complainant_role=body.complainant_role,
            category=body.category,
            channel=body.channel,
            description=body.description,
            received_at=body.received_at,
            recorded_by=who.subject,
        )
        assert saved.state is not None
        _etag(response, saved.version)
        response.headers["Location"] = f"/complaints/{complaint_id}"
        return _complaint_out(saved.state, saved.version, service.runtime.clock.now())

    @router.get("", summary="The register, for the caller's sites")
    async def register(
        who: Handler,
        service: Service,
        status: c.Status | None = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> list[ComplaintOut]:
        rows = await list_rows(
            service.runtime.pool,
            """SELECT * FROM complaints WHERE ($1::text IS NULL OR status = $1)
                 AND ($2 OR site_id::text = ANY($3::text[]))
               ORDER BY received_at DESC LIMIT $4""",
            status,
            who.all_sites,
            list(who.sites),
            limit,
        )
        now = service.runtime.clock.now()
        return [_complaint_row_out(r, now) for r in rows]

    @router.get("/overdue", summary="Complaints past their acknowledgement or answer deadline")
    async def overdue(who: Handler, service: Service) -> list[ComplaintOut]:
        now = service.runtime.clock.now()
        rows = await list_rows(
            service.runtime.pool,
            """SELECT * FROM complaints
               WHERE ((acknowledged_at IS NULL AND acknowledge_due_at < $1)
                      OR (answered_at IS NULL AND answer_due_at < $1))
                 AND ($2 OR site_id::text = ANY($3::text[]))
               ORDER BY least(acknowledge_due_at, answer_due_at)""",
            now,
            who.all_sites,
            list(who.sites),
        )
        return [_complaint_row_out(r, now) for r in rows]

    @router.get(
        "/{complaint_id}", summary="One complaint, with its texts", responses={404: PROBLEM}
    )
    async def one(
        complaint_id: UUID, who: Handler, service: Service, response: Response
    ) -> ComplaintOut:
        state, version = await _visible_complaint(service, who, complaint_id)
        _etag(response, version)
        texts = await service.complaints.texts(state)
        return _complaint_out(state, version, service.runtime.clock.now(), texts)

    async def _step(
        service: SurveyService,
        who: Principal,
        complaint_id: UUID,
        if_match: str | None,
        response: Response,
        command: c.AcknowledgeComplaint | c.CloseComplaint | ComplaintAnswerIn,
    ) -> ComplaintOut:
        await _visible_complaint(service, who, complaint_id)
        expected = _expected_version(if_match)
        if isinstance(command, ComplaintAnswerIn):
            saved = await service.complaints.answer(
                complaint_id, expected, command.response, command.at
            )
        else:
            saved = await service.complaints.handle(complaint_id, expected, command)
        assert saved.state is not None
        _etag(response, saved.version)
        return _complaint_out(saved.state, saved.version, service.runtime.clock.now())

    step_errors: dict[int | str, dict[str, Any]] = {
        404: PROBLEM,
        409: PROBLEM,
        422: PROBLEM,
        428: PROBLEM,
    }

    @router.post(
        "/{complaint_id}/acknowledgement", summary="Acknowledge receipt", responses=step_errors
    )
    async def acknowledge(
        complaint_id: UUID,
        body: StepIn,
        who: Handler,
        service: Service,
        response: Response,
        if_match: IfMatch = None,
    ) -> ComplaintOut:
        return await _step(
            service, who, complaint_id, if_match, response, c.AcknowledgeComplaint(body.at)
        )

    @router.post("/{complaint_id}/answer", summary="Record the answer given", responses=step_errors)
    async def answer(
        complaint_id: UUID,
        body: ComplaintAnswerIn,
        who: Handler,
        service: Service,
        response: Response,
        if_match: IfMatch = None,
    ) -> ComplaintOut:
        return await _step(service, who, complaint_id, if_match, response, body)

    @router.post(
        "/{complaint_id}/closure", summary="Close with a resolution", responses=step_errors
    )
    async def close(
        complaint_id: UUID,
        body: ClosureIn,
        who: Handler,
        service: Service,
        response: Response,
        if_match: IfMatch = None,
    ) -> ComplaintOut:
        return await _step(
            service,
            who,
            complaint_id,
            if_match,
            response,
            c.CloseComplaint(body.resolution, body.at),
        )

    return router


def action_router() -> APIRouter:
    router = APIRouter(prefix="/improvement-actions", tags=["improvement actions (ind. 32)"])

    @router.post(
        "",
        status_code=201,
        summary="Open an improvement action (quality lead)",
        responses={403: PROBLEM, 422: PROBLEM},
    )
    async def open_action(
        body: ActionIn, who: QualityLead, service: Service, response: Response
    ) -> ActionOut:
        if body.site_id is None:
            if not who.all_sites:
                raise Problem(403, "forbidden", "organisation-wide actions need every site")
        else:
            who.require_site(body.site_id)
        action_id = uuid4()
        saved = await service.actions.open(
            action_id=action_id,
            source=body.source,
            source_id=body.source_id,
            site_id=body.site_id,
            owner_id=body.owner_id,
            description=body.description,
            due_at=body.due_at,
        )
        assert saved.state is not None
        _etag(response, saved.version)
        response.headers["Location"] = f"/improvement-actions/{action_id}"
        return _action_out(saved.state, saved.version, service.runtime.clock.now())

    @router.get("", summary="Improvement actions of the caller's sites")
    async def actions(
        who: QualityLead,
        service: Service,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> list[ActionOut]:
        rows = await list_rows(
            service.runtime.pool,
            """SELECT * FROM improvement_actions
               WHERE $1 OR site_id::text = ANY($2::text[]) ORDER BY due_at LIMIT $3""",
            who.all_sites,
            list(who.sites),
            limit,
        )
        now = service.runtime.clock.now()
        return [_action_row_out(r, now) for r in rows]

    @router.get("/overdue", summary="Actions past their due date and not completed")
    async def overdue(who: QualityLead, service: Service) -> list[ActionOut]:
        now = service.runtime.clock.now()
        rows = await list_rows(
            service.runtime.pool,
            """SELECT * FROM improvement_actions
               WHERE completed_at IS NULL AND due_at < $1
                 AND ($2 OR site_id::text = ANY($3::text[])) ORDER BY due_at""",
            now,
            who.all_sites,
            list(who.sites),
        )
        return [_action_row_out(r, now) for r in rows]

    @router.get(
        "/{action_id}", summary="One action, with its description", responses={404: PROBLEM}
    )
    async def one(
        action_id: UUID, who: QualityLead, service: Service, response: Response
    ) -> ActionOut:
        loaded = await service.actions.load(action_id)
        if loaded.state is None or not _visible(who, loaded.state.site_id):
            raise Problem(404, "action_not_found", "no such improvement action")
        _etag(response, loaded.version)
        description = await service.actions.description(loaded.state)
        return _action_out(loaded.state, loaded.version, service.runtime.clock.now(), description)

    @router.post(
        "/{action_id}/completion",
        summary="Mark an action completed",
        responses={404: PROBLEM, 409: PROBLEM, 422: PROBLEM, 428: PROBLEM},
    )
    async def complete(
        action_id: UUID,
        body: StepIn,
        who: QualityLead,
        service: Service,
        response: Response,
        if_match: IfMatch = None,
    ) -> ActionOut:
        loaded = await service.actions.load(action_id)
        if loaded.state is None or not _visible(who, loaded.state.site_id):
            raise Problem(404, "action_not_found", "no such improvement action")
        saved = await service.actions.complete(action_id, _expected_version(if_match), body.at)
        assert saved.state is not None
        _etag(response, saved.version)
        return _action_out(saved.state, saved.version, service.runtime.clock.now())

    return router


def install_routes(app: FastAPI) -> None:
    """Mount every router and translate domain refusals into problem documents."""

    @app.exception_handler(DomainError)
    async def _refused(request: Request, exc: DomainError) -> JSONResponse:
        return problem_response(request, exc.status_hint, exc.code, exc.detail, **exc.extra)

    for router in (
        public_router(),
        questionnaire_router(),
        survey_router(),
        complaint_router(),
        action_router(),
    ):
        app.include_router(router)
