"""HTTP API of the survey service: public answer links, questionnaires, surveys, complaints,
improvement actions. Translation only: rules live in the domain, steps in the application."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID, uuid4

from fastapi import APIRouter, Depends, FastAPI, Header, Path, Query, Request, Response
from fastapi.responses import JSONResponse

from services.survey.adapters.queries import list_rows
from services.survey.application import questionnaires
from services.survey.bootstrap import SurveyService
from services.survey.domain import action as a
from services.survey.domain import complaint as c
from services.survey.domain import survey as s
from services.survey.domain.errors import DomainError
from services.survey.domain.questionnaire import (
    Campaign,
    Question,
)
from services.survey.schemas import (
    ActionIn,
    ActionOut,
    AnswerReceipt,
    AnswersIn,
    ClosureIn,
    ComplaintAnswerIn,
    ComplaintIn,
    ComplaintOut,
    PublicSurvey,
    QuestionnaireIn,
    QuestionnaireOut,
    StakeholderSurveyIn,
    StepIn,
    SurveyOut,
    SurveyRef,
    question_out,
)
from shared.auth import CurrentPrincipal, Principal, Role, require_roles
from shared.inputs import MAX_INT
from shared.ratelimit import RateLimiter, rate_limited
from shared.web import Problem, problem_response

Handler = Annotated[
    Principal, Depends(require_roles(Role.QUALITY_LEAD, Role.SITE_MANAGER, Role.ADMIN))
]
QualityLead = Annotated[Principal, Depends(require_roles(Role.QUALITY_LEAD, Role.ADMIN))]
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
PROBLEM_RATE_LIMITED: dict[str, Any] = {
    "description": "Too many requests from this client",
    "headers": {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}},
    "content": {"application/problem+json": {}},
}


async def _service(request: Request) -> SurveyService:
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


def _require_organisation_wide(principal: Principal) -> None:
    """Organisation-wide records are made only by principals covering every site."""
    if not principal.all_sites:
        raise Problem(403, "organisation_wide", "this needs a token covering every site")


def _visible(principal: Principal, site_id: object) -> bool:
    """Organisation-wide records (no site) are for principals covering every site."""
    if site_id is None or site_id == "org":
        return principal.all_sites
    return principal.can_act_on_site(str(site_id))


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


def _public_limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.public_rate_limiter
    return limiter


def public_router() -> APIRouter:
    # Anyone may call these: a client guessing links is slowed to a few tries a minute.
    router = APIRouter(
        prefix="/public/surveys",
        tags=["answer link (no login)"],
        dependencies=[Depends(rate_limited(_public_limiter))],
        responses={429: PROBLEM_RATE_LIMITED},
    )

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
            questions=[question_out(x) for x in q.questions],
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
        version: Annotated[int, Path(ge=1, le=MAX_INT)],
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
        _require_organisation_wide(who)
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
        found = []
        for row in rows:
            if row["scores"] is None and row["answered_at"] is not None:
                # Answered before the list kept the answers' figures: read them from events.
                async with service.runtime.pool.acquire() as conn:
                    state = (await service.surveys.repository.load(conn, row["survey_id"])).state
                if state is not None:
                    row = {**row, "scores": dict(state.scores), "situation": state.situation}
            row = {**row, "scores": row["scores"] or {}}
            found.append(SurveyOut(**{k: v for k, v in row.items() if k in SurveyOut.model_fields}))
        return found

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
        body: StakeholderSurveyIn, who: QualityLead, service: Service
    ) -> SurveyRef:
        _require_organisation_wide(who)  # a stakeholder survey belongs to no site
        survey_id = await service.surveys.send_stakeholder_survey(body.respondent_role, body.email)
        return SurveyRef(survey_id=survey_id)

    return router


async def _complaint_channel(
    service: SurveyService, who: Principal, body: ComplaintIn
) -> c.Channel:
    """Who may complain about what: a beneficiary as themselves, about a dossier of their own,
    through the web form; staff record a complaint received another way for someone else, on a
    site of theirs, naming the channel it came through."""
    dossier = None
    if body.dossier_id is not None:
        dossier = await service.runtime.pool.fetchrow(
            "SELECT beneficiary_id, site_id FROM survey_dossiers WHERE dossier_id = $1",
            body.dossier_id,
        )
    if who.roles == {Role.BENEFICIARY}:
        if body.complainant_role != "beneficiary":
            raise Problem(403, "complain_as_yourself", "a beneficiary complains as the beneficiary")
        if body.dossier_id is None:
            raise Problem(422, "dossier_required", "name the dossier the complaint is about")
        if dossier is None or str(dossier["beneficiary_id"]) != who.subject:
            raise Problem(404, "dossier_not_found", "no such dossier")
        if dossier["site_id"] != str(body.site_id):
            raise Problem(422, "site_mismatch", "the dossier belongs to another site")
        if body.channel not in (None, "web_form"):
            raise Problem(
                422, "channel_is_web_form", "a complaint filed by its author comes by the web form"
            )
        return "web_form"
    if Role.BENEFICIARY in who.roles:
        raise Problem(403, "forbidden", "a token is either a beneficiary's or a staff member's")
    who.require_site(body.site_id)
    if body.channel is None:
        raise Problem(422, "channel_required", "say how the complaint was received")
    if body.dossier_id is not None and (dossier is None or dossier["site_id"] != str(body.site_id)):
        raise Problem(404, "dossier_not_found", "no such dossier on this site")
    return body.channel


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
        channel = await _complaint_channel(service, who, body)
        complaint_id = uuid4()
        saved = await service.complaints.receive(
            complaint_id=complaint_id,
            site_id=body.site_id,
            dossier_id=body.dossier_id,
            complainant_role=body.complainant_role,
            category=body.category,
            channel=channel,
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

    @router.get(
        "/{complaint_id}/status",
        summary="Where one's own complaint stands (whoever recorded it, e.g. the beneficiary)",
        responses={404: PROBLEM},
    )
    async def own_status(
        complaint_id: UUID, who: CurrentPrincipal, service: Service, response: Response
    ) -> ComplaintOut:
        """The steps and deadlines of a complaint, for the person who filed it (the console's
        beneficiary space); anyone else's complaint is not found. No texts."""
        loaded = await service.complaints.load(complaint_id)
        if loaded.state is None or loaded.state.recorded_by != who.subject:
            raise Problem(404, "complaint_not_found", "no such complaint")
        _etag(response, loaded.version)
        return _complaint_out(loaded.state, loaded.version, service.runtime.clock.now())

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
