"""Composition root: wires the runtime, the commands, the reactions, the timers and the API.

Like every command service: build the `ServiceRuntime`, the application on it, register its
reactions, timers and the work it runs alongside (`runtime.alongside`: the key vacuum and the
e-mail index back-fill), then the app (`create_service_app`) with the service's parts on
`app.state` and the api package's routes."""

from __future__ import annotations

from pathlib import Path

import asyncpg
from fastapi import FastAPI

from services.dossier.api import install_routes
from services.dossier.api.deps import DossierService
from services.dossier.application.deadlines import timer_handlers
from services.dossier.application.dossiers import DossierCommands
from services.dossier.application.reactions import event_handlers
from services.dossier.application.views import ContentReader
from services.dossier.settings import Settings
from shared.clock import Clock
from shared.contracts import SessionHeld, StaffMemberOnboarded
from shared.logging import get_logger
from shared.runtime import ServiceRuntime, create_service_app

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
log = get_logger(__name__)
DESCRIPTION = """Beneficiary dossiers of the bilans de compétences: convention (R6313-8), referent,
phases (R6313-4), assessments, synthesis, retention and destruction (R6313-7), GDPR rights.

Reads return `ETag: "<version>"`; writes to an existing dossier or beneficiary need
`If-Match: "<version>"` (428 without, 409 when stale). Errors are RFC 9457 problem documents
with a machine-readable `code`. Bilan content is need-to-know and every read of it is logged."""


# Creating commands whose POST accepts an Idempotency-Key (their answers hold ids, not
# personal data: the stored copy is not encrypted).
IDEMPOTENT_PATHS = (
    "/dossiers",
    "/dossiers/{dossier_id}/conventions",
    "/beneficiaries/{beneficiary_id}/data-requests",
)


def create_app(
    settings: Settings | None = None, *, clock: Clock | None = None, run_background: bool = True
) -> FastAPI:
    """The dossier service's app; nothing connects before the lifespan starts."""
    settings = settings or Settings()
    runtime = ServiceRuntime(
        settings,
        migrations=[MIGRATIONS],
        # Both staff and session facts come from the scheduling topic.
        consumer_topics=sorted({StaffMemberOnboarded.topic(), SessionHeld.topic()}),
        clock=clock,
        run_background=run_background,
    )
    commands = DossierCommands(runtime, settings)
    runtime.event_handlers.update(event_handlers(commands))
    runtime.timer_handlers.update(timer_handlers(commands))
    runtime.alongside("key-vacuum", commands.vacuum_after_shredding)
    runtime.alongside("email-index-backfill", lambda: _backfill(commands))
    app = create_service_app(
        runtime,
        title="Bilan — dossier service",
        description=DESCRIPTION,
        idempotent_paths=IDEMPOTENT_PATHS,
    )
    app.state.dossier_service = DossierService(
        runtime=runtime, commands=commands, reader=ContentReader(runtime), settings=settings
    )
    install_routes(app)
    return app


async def _backfill(commands: DossierCommands) -> None:
    """Index the addresses of beneficiaries registered before the sign-in index existed."""
    try:
        done = await commands.backfill_email_index()
    except (OSError, asyncpg.PostgresError) as exc:
        log.warning("email_index_backfill_failed", error=type(exc).__name__)
        return
    if done:
        log.info("email_index_backfilled", beneficiaries=done)
