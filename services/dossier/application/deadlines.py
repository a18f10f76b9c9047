"""Durable timers of the dossier: convention acceptance deadline, destruction of documents,
and the due date of data-subject requests."""

from __future__ import annotations

from services.dossier.application.dossiers import (
    CONVENTION_DEADLINE,
    DATA_REQUEST_DUE,
    DESTROY_DOCUMENTS,
    DossierCommands,
    constant,
)
from services.dossier.domain import dossier as d
from shared.db import Connection
from shared.logging import get_logger
from shared.timers import Timer, TimerHandler

log = get_logger(__name__)


def timer_handlers(commands: DossierCommands) -> dict[str, TimerHandler]:
    """Handlers by timer kind; each runs in the timer's transaction."""

    async def convention_deadline(conn: Connection, timer: Timer) -> None:
        # R6313-8: silence until the deadline is refusal; the domain checks it is still silent.
        await commands.execute(
            conn,
            timer.payload["dossier_id"],
            constant(d.DeemConventionRefused(timer.payload["convention_id"])),
            expected_version=None,
        )

    async def destroy_documents(conn: Connection, timer: Timer) -> None:
        await commands.execute(
            conn,
            timer.payload["dossier_id"],
            constant(d.DestroyDueDocuments(commands.settings.destruction_grace)),
            expected_version=None,
        )

    async def data_request_due(conn: Connection, timer: Timer) -> None:
        beneficiary_id = timer.payload["beneficiary_id"]
        state = (await commands.beneficiaries.load(beneficiary_id, conn=conn)).state
        request = state.requests.get(timer.payload["request_id"]) if state else None
        if request is not None and request.status == "open":
            # GDPR art. 12(3): the month is up. Nothing is decided for the person; the request
            # stays open and shows as overdue until someone answers it.
            log.warning(
                "data_request_overdue",
                beneficiary_id=beneficiary_id,
                request_id=request.request_id,
                kind=request.kind,
            )

    return {
        CONVENTION_DEADLINE: convention_deadline,
        DESTROY_DOCUMENTS: destroy_documents,
        DATA_REQUEST_DUE: data_request_due,
    }
