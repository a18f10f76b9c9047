"""Questionnaires: the current and published versions, publishing the next one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from services.survey.api.deps import PROBLEM, QualityLead, Service, require_organisation_wide
from services.survey.api.schemas import QuestionnaireIn, QuestionnaireOut
from services.survey.application import questionnaires
from services.survey.domain.questionnaire import Campaign, Question
from shared.auth import CurrentPrincipal
from shared.inputs import MAX_INT
from shared.web import IfMatchHeader, parse_if_match, set_etag

router = APIRouter(prefix="/questionnaires", tags=["questionnaires"])


@router.get("/{campaign}", summary="The current version of a campaign's questionnaire")
async def current(
    campaign: Campaign, _who: CurrentPrincipal, service: Service, response: Response
) -> QuestionnaireOut:
    q = await questionnaires.current(service.runtime.pool, campaign)
    set_etag(response, q.version)
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
    if_match: IfMatchHeader = None,
) -> QuestionnaireOut:
    require_organisation_wide(who)
    expected = parse_if_match(if_match)
    questions = tuple(Question(**q.model_dump()) for q in body.questions)
    async with service.runtime.pool.acquire() as conn:
        q = await questionnaires.publish(
            conn,
            campaign,
            questions,
            expected_version=expected,
            published_by=who.subject,
            now=service.clock.now(),
        )
    set_etag(response, q.version)
    return QuestionnaireOut.of(q)
