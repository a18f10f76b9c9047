"""What starts and ends surveys: the dossier service's events (a bilan completed, abandoned,
withdrawn from; a beneficiary erased or objecting), the scheduling service's held sessions, and
the timers of the six-month and session-feedback surveys.

Each reaction runs in the transaction of the event's de-duplication record (`conn`), so a
redelivered event changes nothing twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID, uuid4

from services.survey.adapters import known_dossiers, read_models
from services.survey.application import questionnaires
from services.survey.application.surveys import SurveyCampaigns, six_months_timer_key
from services.survey.domain import survey as s
from shared import contracts as ct
from shared import timers
from shared.db import Connection
from shared.envelope import Envelope
from shared.logging import get_logger

log = get_logger(__name__)

SIX_MONTHS_DUE = "survey.six_months_due"
SESSION_FEEDBACK_DUE = "survey.session_feedback_due"
BILAN_PHASES = frozenset({"preliminary", "investigation", "conclusion"})
NO_SURVEY_STATES = ("abandoned", "erased", "withdrawn")


class SurveyTriggers:
    """The reactions and timers that start or end the surveys of `campaigns`."""

    def __init__(self, campaigns: SurveyCampaigns) -> None:
        self._campaigns = campaigns
        self._settings = campaigns.settings

    # --- Reactions to the dossier service --------------------------------------------------

    async def on_dossier_opened(self, conn: Connection, envelope: Envelope) -> None:
        """Remember the dossier's site and beneficiary (for erasure)."""
        event = envelope.data
        assert isinstance(event, ct.DossierOpened)
        await known_dossiers.remember_opened(
            conn, event.dossier_id, event.beneficiary_id, str(event.site_id)
        )

    async def on_referent_assigned(self, conn: Connection, envelope: Envelope) -> None:
        """Remember the dossier's referent: told when the beneficiary leaves feedback."""
        event = envelope.data
        assert isinstance(event, ct.ReferentConsultantAssigned)
        await known_dossiers.remember_referent(
            conn, event.dossier_id, event.consultant_id, envelope.site_id
        )

    async def on_dossier_completed(self, conn: Connection, envelope: Envelope) -> None:
        """The end-of-bilan survey goes out now; the six-month one is timed from completion."""
        event = envelope.data
        assert isinstance(event, ct.DossierCompleted)
        known = await known_dossiers.standing(conn, event.dossier_id)
        if known is not None and known.state in NO_SURVEY_STATES:
            log.info("survey_skipped", dossier_id=str(event.dossier_id), reason=known.state)
            return
        # A dossier opened before this service listened is known by the event's site alone.
        site_id = known.site_id if known is not None else envelope.site_id
        await known_dossiers.mark_completed(conn, event.dossier_id, site_id, event.completed_at)
        # A replay of old history (a new deployment reading the topic from the start) must not
        # mail people about a bilan they finished long ago: a survey is sent only while its
        # answer window, counted from when it was due, is still open.
        now, window = self._campaigns.now(), self._settings.answer_window()
        if now < event.completed_at + window:
            await self._campaigns.start_survey(conn, event.dossier_id, site_id, "end_of_bilan")
        six_months_at = event.completed_at + self._settings.six_month_delay()
        if now < six_months_at + window:
            await timers.schedule(
                conn,
                due_at=six_months_at,
                kind=SIX_MONTHS_DUE,
                payload={"dossier_id": str(event.dossier_id)},
                key=six_months_timer_key(event.dossier_id),
            )

    async def on_dossier_abandoned(self, conn: Connection, envelope: Envelope) -> None:
        """An abandoned bilan gets no satisfaction survey (its causes go to ind. 32)."""
        event = envelope.data
        assert isinstance(event, ct.DossierAbandoned)
        await known_dossiers.mark_ended(conn, event.dossier_id, envelope.site_id, "abandoned")

    async def on_beneficiary_erased(self, conn: Connection, envelope: Envelope) -> None:
        """Stop everything for the beneficiary and shred what they wrote."""
        event = envelope.data
        assert isinstance(event, ct.BeneficiaryErased)
        dossiers = await known_dossiers.erase_beneficiary(conn, event.subject_id, event.erased_at)
        for dossier_id in dossiers:
            for survey_id in await self._campaigns.end_surveys(
                conn, dossier_id, "beneficiary_erased"
            ):
                await self._campaigns.runtime.keys.shred(str(survey_id), conn=conn)
        log.info("beneficiary_surveys_erased", dossiers=len(dossiers))

    async def on_data_request_fulfilled(self, conn: Connection, envelope: Envelope) -> None:
        """An upheld objection (GDPR art. 21) stops the one processing here that rests on the
        centre's legitimate interest, the satisfaction surveys: the person's surveys not yet
        closed are cancelled and none is made for them any more."""
        event = envelope.data
        assert isinstance(event, ct.DataSubjectRequestFulfilled)
        if event.kind != "objection":
            return
        dossiers = await known_dossiers.record_objection(conn, event.subject_id, event.fulfilled_at)
        for dossier_id in dossiers:
            await self._campaigns.end_surveys(conn, dossier_id, "beneficiary_objected")
        log.info("objection_surveys_cancelled", dossiers=len(dossiers))

    async def on_withdrawal_exercised(self, conn: Connection, envelope: Envelope) -> None:
        """The beneficiary withdrew from the convention: no survey of that bilan is answerable."""
        event = envelope.data
        assert isinstance(event, ct.WithdrawalExercised)
        await known_dossiers.mark_ended(conn, event.dossier_id, envelope.site_id, "withdrawn")
        ended = await self._campaigns.end_surveys(conn, event.dossier_id, "dossier_withdrawn")
        log.info("withdrawn_dossier_surveys_cancelled", surveys=len(ended))

    async def six_months_due(self, conn: Connection, timer: timers.Timer) -> None:
        """Six months after completion: the six-month survey, unless the dossier was erased."""
        dossier_id = UUID(timer.payload["dossier_id"])
        known = await known_dossiers.standing(conn, dossier_id)
        if known is None or known.state != "completed":
            return
        await self._campaigns.start_survey(conn, dossier_id, known.site_id, "six_months")

    # --- Session feedback (reactions to the scheduling service and to phase completion) -----

    async def on_session_held(self, conn: Connection, envelope: Envelope) -> None:
        """Remember a held bilan-phase session; with `every_session`, ask about it now."""
        event = envelope.data
        assert isinstance(event, ct.SessionHeld)
        if event.phase not in BILAN_PHASES:
            return
        await known_dossiers.remember_held_session(
            conn, event.session_id, event.dossier_id, event.phase, event.started_at
        )
        if self._settings.session_feedback == "every_session":
            await self._start_session_feedback(
                conn, event.dossier_id, event.session_id, event.started_at, envelope.site_id
            )

    async def on_phase_completed(self, conn: Connection, envelope: Envelope) -> None:
        """With `last_of_phase`: the phase's last session is asked about a little later (its
        SessionHeld comes on another topic and may not be here yet)."""
        event = envelope.data
        assert isinstance(event, ct.PhaseCompleted)
        if self._settings.session_feedback != "last_of_phase":
            return
        delay = timedelta(hours=self._settings.session_feedback_delay_hours)
        await timers.schedule(
            conn,
            due_at=event.completed_at + delay,
            kind=SESSION_FEEDBACK_DUE,
            payload={
                "dossier_id": str(event.dossier_id),
                "phase": event.phase,
                "site_id": envelope.site_id,
            },
            key=f"dossier:{event.dossier_id}:feedback:{event.phase}",
        )

    async def session_feedback_due(self, conn: Connection, timer: timers.Timer) -> None:
        dossier_id = UUID(timer.payload["dossier_id"])
        last = await known_dossiers.last_held_session(conn, dossier_id, timer.payload["phase"])
        if last is None:
            log.info("session_feedback_skipped", dossier_id=str(dossier_id), reason="no_session")
            return
        await self._start_session_feedback(
            conn, dossier_id, last.session_id, last.started_at, timer.payload["site_id"]
        )

    async def _start_session_feedback(
        self,
        conn: Connection,
        dossier_id: UUID,
        session_id: UUID,
        held_at: datetime,
        site_id: str,
    ) -> None:
        known = await known_dossiers.standing(conn, dossier_id)
        if known is not None and known.state in NO_SURVEY_STATES:
            log.info("survey_skipped", dossier_id=str(dossier_id), reason=known.state)
            return
        if self._campaigns.now() >= held_at + self._settings.answer_window():
            return  # a replay of old history: too late to ask anyone about that session
        if await read_models.session_surveyed(conn, session_id):
            return
        if await self._campaigns.objected(conn, dossier_id):
            return
        questionnaire = await questionnaires.current(conn, "session_feedback")
        await self._campaigns.create(
            conn,
            s.CreateSurvey(
                uuid4(),
                dossier_id,
                known.site_id if known is not None else site_id,
                "session_feedback",
                "beneficiary",
                questionnaire.version,
                session_id=session_id,
            ),
            recipient_ref=str(dossier_id),
        )
