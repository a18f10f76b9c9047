"""Surveys: the list of the caller's sites, one survey with its scores, stakeholder surveys."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from services.survey.api.deps import (
    PROBLEM,
    Handler,
    QualityLead,
    Service,
    require_organisation_wide,
    visible,
)
from services.survey.api.schemas import StakeholderSurveyIn, SurveyOut, SurveyRef
from services.survey.domain import survey as s
from services.survey.domain.questionnaire import Campaign
from shared.auth import Role
from shared.web import Problem, Tx

router = APIRouter(tags=["surveys"])


@router.get("/surveys", summary="Surveys of the caller's sites (no free text)")
async def list_surveys(
    who: Handler,
    service: Service,
    conn: Tx,
    campaign: Campaign | None = None,
    status: s.Status | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[SurveyOut]:
    rows = await service.surveys.listing(
        conn,
        campaign=campaign,
        status=status,
        all_sites=who.all_sites,
        sites=list(who.sites),
        limit=limit,
    )
    return [
        SurveyOut(**{k: v for k, v in row.items() if k in SurveyOut.model_fields}) for row in rows
    ]


@router.get("/surveys/{survey_id}", summary="One survey with its scores", responses={404: PROBLEM})
async def one_survey(survey_id: UUID, who: Handler, service: Service, conn: Tx) -> SurveyOut:
    state = (await service.surveys.repository.load(survey_id, conn=conn)).state
    if state is None or not visible(who, state.site_id):
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
    require_organisation_wide(who)  # a stakeholder survey belongs to no site
    survey_id = await service.surveys.send_stakeholder_survey(body.respondent_role, body.email)
    return SurveyRef(survey_id=survey_id)
