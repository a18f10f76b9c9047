"""Reactions to the dossier service's events: what a dossier's sessions depend on.

Any dossier may show up, including ones this service will never schedule for (another
deployment's test, a dossier of a site not managed here): facts are recorded for all of them,
and nothing fails because a dossier is unknown. Per dossier the events arrive in order (they
share the key), so a later fact never overtakes the dossier's opening.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from uuid import UUID

from services.scheduling.adapters import read_models as rm
from services.scheduling.application.reminders import reminder_key
from shared.consumer import Handler
from shared.contracts import dossier as d
from shared.db import Connection
from shared.envelope import Envelope
from shared.mail import cancel_mail


async def _opened(conn: Connection, envelope: Envelope) -> None:
    event = envelope.data
    assert isinstance(event, d.DossierOpened)
    await rm.upsert_dossier(
        conn, event.dossier_id, beneficiary_id=event.beneficiary_id, site_id=event.site_id
    )


async def _convention_signed(conn: Connection, envelope: Envelope) -> None:
    event = envelope.data
    assert isinstance(event, d.ConventionSigned)
    await rm.upsert_dossier(conn, event.dossier_id, convention_signed_at=event.signed_at)


async def _referent_assigned(conn: Connection, envelope: Envelope) -> None:
    event = envelope.data
    assert isinstance(event, d.ReferentConsultantAssigned)
    await rm.upsert_dossier(conn, event.dossier_id, referent_id=event.consultant_id)


def _ended(offsets: tuple[int, ...]) -> Handler:
    async def handle(conn: Connection, envelope: Envelope) -> None:
        event = envelope.data
        if isinstance(event, d.DossierCompleted):
            await rm.upsert_dossier(conn, event.dossier_id, completed_at=event.completed_at)
            # The six-month follow-up happens after the end: its reminders still go out.
            await _cancel_reminders(conn, event.dossier_id, offsets, keep_follow_up=True)
        elif isinstance(event, d.DossierAbandoned):
            await rm.upsert_dossier(conn, event.dossier_id, abandoned_at=event.abandoned_at)
            await _cancel_reminders(conn, event.dossier_id, offsets, keep_follow_up=False)

    return handle


async def _cancel_reminders(
    conn: Connection, dossier_id: UUID, offsets: tuple[int, ...], *, keep_follow_up: bool
) -> None:
    for row in await rm.sessions_of_dossier(conn, dossier_id):
        if row["status"] != rm.LIVE or (keep_follow_up and row["phase"] == "follow_up"):
            continue
        for offset in offsets:
            await cancel_mail(conn, reminder_key(row["session_id"], row["revision"], offset))


CancelFuture = Callable[[Connection, UUID, datetime, bool], Awaitable[int]]
"""Cancels a dossier's sessions after a moment (`True`: only those of the bilan phases)."""


def _convention_ended(cancel_future: CancelFuture) -> Handler:
    async def handle(conn: Connection, envelope: Envelope) -> None:
        event = envelope.data
        if isinstance(event, d.WithdrawalExercised):
            # The bilan is over: every session still to come goes, and none is booked again.
            await rm.upsert_dossier(conn, event.dossier_id, withdrawn_at=event.exercised_at)
            await cancel_future(conn, event.dossier_id, event.exercised_at, False)
        elif isinstance(event, d.ConventionDeemedRefused):
            # R6313-8: silence is refusal; no bilan session without a convention in force.
            await rm.upsert_dossier(conn, event.dossier_id, convention_refused_at=event.refused_at)
            await cancel_future(conn, event.dossier_id, event.refused_at, True)

    return handle


def dossier_handlers(
    reminder_offsets: tuple[int, ...], cancel_future: CancelFuture
) -> Mapping[str, Handler]:
    """The consumer's handlers, by `ce_type`."""
    ended = _ended(reminder_offsets)
    convention_ended = _convention_ended(cancel_future)
    return {
        d.DossierOpened.ce_type(): _opened,
        d.ConventionSigned.ce_type(): _convention_signed,
        d.ReferentConsultantAssigned.ce_type(): _referent_assigned,
        d.DossierCompleted.ce_type(): ended,
        d.DossierAbandoned.ce_type(): ended,
        d.WithdrawalExercised.ce_type(): convention_ended,
        d.ConventionDeemedRefused.ce_type(): convention_ended,
    }
