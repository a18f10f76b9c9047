"""Reactions to the scheduling service's events: the staff directory and held session time.

Events about staff or dossiers this service never heard of are normal (another site's
sessions, a foreign test): they are ignored, never an error.
"""

from __future__ import annotations

from services.dossier.adapters import dossier_index, staff_directory
from services.dossier.application.dossiers import DossierCommands
from services.dossier.domain import held_time
from shared.consumer import Handler
from shared.contracts import (
    QualificationRecorded,
    SessionHeld,
    StaffMemberLeft,
    StaffMemberOnboarded,
)
from shared.db import Connection
from shared.envelope import Envelope
from shared.logging import get_logger

log = get_logger(__name__)


async def on_staff_onboarded(conn: Connection, envelope: Envelope) -> None:
    event = envelope.data
    assert isinstance(event, StaffMemberOnboarded)
    await staff_directory.onboard(
        conn, str(event.staff_id), list(event.roles), [str(s) for s in event.site_ids]
    )


async def on_staff_left(conn: Connection, envelope: Envelope) -> None:
    event = envelope.data
    assert isinstance(event, StaffMemberLeft)
    await staff_directory.leave(conn, str(event.staff_id))


async def on_qualification(conn: Connection, envelope: Envelope) -> None:
    event = envelope.data
    assert isinstance(event, QualificationRecorded)
    await staff_directory.add_habilitations(conn, str(event.staff_id), list(event.habilitations))


def session_held_handler(commands: DossierCommands) -> Handler:
    """Counts a held session of a bilan phase towards the dossier's held time (rule 5)."""

    async def on_session_held(conn: Connection, envelope: Envelope) -> None:
        event = envelope.data
        assert isinstance(event, SessionHeld)
        dossier_id = str(event.dossier_id)
        if not await dossier_index.dossier_exists(conn, dossier_id):
            return
        recorded_events = await commands.record_held_session(
            conn,
            dossier_id,
            held_time.RecordHeldSession(
                str(event.session_id), event.phase, event.duration_minutes, event.started_at
            ),
        )
        for recorded in recorded_events:
            if isinstance(recorded, held_time.HeldSessionRecorded) and (
                recorded.counted_minutes < recorded.duration_minutes
            ):
                log.warning(
                    "held_time_over_cap",
                    dossier_id=dossier_id,
                    session_id=recorded.session_id,
                    uncounted_minutes=recorded.duration_minutes - recorded.counted_minutes,
                )

    return on_session_held


def event_handlers(commands: DossierCommands) -> dict[str, Handler]:
    """The consumer's handlers by CloudEvents type."""
    return {
        StaffMemberOnboarded.ce_type(): on_staff_onboarded,
        StaffMemberLeft.ce_type(): on_staff_left,
        QualificationRecorded.ce_type(): on_qualification,
        SessionHeld.ce_type(): session_held_handler(commands),
    }
