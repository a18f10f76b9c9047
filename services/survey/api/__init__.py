"""HTTP API of the survey service: public answer links, questionnaires, surveys, complaints,
improvement actions. Translation only: rules live in the domain, steps in the application,
queries in the adapters. This package never imports the bootstrap: it gets the service's parts
from `app.state.survey_service` (`deps.SurveyService`)."""

from __future__ import annotations

from fastapi import FastAPI

from services.survey.api import actions, complaints, public, questionnaires, surveys
from shared.aggregate import RefusalKind
from shared.web import install_refusal_handler

REFUSAL_STATUS = {
    RefusalKind.NOT_FOUND: 404,
    RefusalKind.FORBIDDEN: 403,
    RefusalKind.CONFLICT: 409,
    RefusalKind.INVALID: 422,
    RefusalKind.GONE: 410,
}
"""The HTTP status of each kind of refusal, for this service."""


def install_routes(app: FastAPI) -> None:
    """Mount every router and answer the domain's refusals as problem documents."""
    install_refusal_handler(app, REFUSAL_STATUS)
    for module in (public, questionnaires, surveys, complaints, actions):
        app.include_router(module.router)
