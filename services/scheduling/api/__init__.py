"""HTTP API of the scheduling service: sites and rooms, staff, sessions, calendar feeds.
Requests to commands and queries, results to bodies; no SQL here. This package never imports
the bootstrap: it gets the service's parts from `app.state.scheduling_service`
(`deps.SchedulingService`)."""

from __future__ import annotations

from fastapi import FastAPI

from services.scheduling.api import calendars, sessions, sites, staff
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

    for module in (sites, staff, sessions, calendars):
        app.include_router(module.router)
