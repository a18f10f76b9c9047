"""HTTP API of the dossier service: dossiers (`dossiers.py`), beneficiaries and their rights
(`beneficiaries.py`), what every route needs (`deps.py`), the bodies (`models.py`) and the
problems declared in the OpenAPI document (`problems.py`). This package never imports the
bootstrap: it gets the service's parts from `app.state.dossier_service`."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from services.dossier.api import beneficiaries, dossiers
from shared.aggregate import RefusalKind
from shared.keystore import SubjectErased
from shared.web import install_refusal_handler, problem_response

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

    @app.exception_handler(SubjectErased)
    async def _erased(request: Request, _exc: SubjectErased) -> JSONResponse:
        return problem_response(request, 410, "subject_erased", "this data was erased for good")

    app.include_router(dossiers.router)
    app.include_router(beneficiaries.router)
