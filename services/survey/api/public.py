"""The answer links (no login): what a link shows, and answering through it."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from services.survey.api.deps import (
    PROBLEM,
    PROBLEM_RATE_LIMITED,
    Service,
    TokenPath,
    public_limiter,
)
from services.survey.api.schemas import AnswerReceipt, AnswersIn, PublicSurvey, question_out
from shared.ratelimit import rate_limited

# Anyone may call these: a client guessing links is slowed to a few tries a minute.
router = APIRouter(
    prefix="/public/surveys",
    tags=["answer link (no login)"],
    dependencies=[Depends(rate_limited(public_limiter))],
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
