"""Survey campaigns: triggered by dossier events and timers, mailed, reminded, answered, expired.

Decisions kept here (see the README):
- a survey counts as sent when its invitation left for SMTP: `SurveySent` and its `sent_at`
  are recorded by the mail sender's `on_sent` callback, and reminders and expiry are timed
  from that moment, so a mail delayed by an SMTP outage still gets its full answer window;
- every write to one survey first locks its read-model row, so a reminder being recorded and
  an answer arriving together take turns instead of failing on the stream version;
- free text is sealed under the survey's own key (subject = survey id), shredded with the
  beneficiary's erasure; scores stay, being neither identifying nor content.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import asyncpg

from services.survey.adapters import read_models
from services.survey.adapters.mail import (
    INVITATION,
    REMINDER,
    STAKEHOLDER_EMAIL_PURPOSE,
    STAKEHOLDER_REF_PREFIX,
    LinkTokens,
    mail_key,
    stakeholder_contact_subject,
    token_hash,
)
from services.survey.adapters.read_models import project_survey
from services.survey.application import questionnaires
from services.survey.application.contract import survey_outbox
from services.survey.domain import survey as s
from services.survey.domain.errors import NotFound
from services.survey.domain.questionnaire import Campaign, Questionnaire, validate_answers
from services.survey.settings import SurveySettings
from shared import contracts as ct
from shared import timers
from shared.aggregate import EventCodec
from shared.aggregate.repository import Loaded, Repository
from shared.db import Connection
from shared.envelope import ORGANISATION_SITE, Envelope
from shared.logging import get_logger
from shared.mail import Mail, cancel_mail, enqueue
from shared.runtime import ServiceRuntime
from shared.unit_of_work import once_committed, transaction, unit_of_work

log = get_logger(__name__)

SIX_MONTHS_DUE = "survey.six_months_due"
SESSION_FEEDBACK_DUE = "survey.session_feedback_due"
BILAN_PHASES = frozenset({"preliminary", "investigation", "conclusion"})
NO_SURVEY_STATES = ("abandoned", "erased", "withdrawn")
REMINDER_DUE = "survey.reminder_due"
EXPIRY_DUE = "survey.expiry_due"

SURVEY_EVENTS = (
    s.SurveyCreated,
    s.InvitationSent,
    s.ReminderSent,
    s.SurveyAnswered,
    s.SurveyExpired,
    s.SurveyCancelled,
)
SURVEY_CODEC = EventCodec[s.SurveyEvent](SURVEY_EVENTS)


def _reminder_timer_key(survey_id: UUID, number: int) -> str:
    return f"survey:{survey_id}:reminder:{number}"


def _expiry_timer_key(survey_id: UUID) -> str:
    return f"survey:{survey_id}:expire"


def _recipient_ref(state: s.Survey) -> str:
    if state.campaign == "stakeholder":
        return f"{STAKEHOLDER_REF_PREFIX}{state.survey_id}"
    return str(state.dossier_id)


class SurveyCampaigns:
    """Runs the surveys of the service: reactions, timers, mail callbacks and answers."""

    def __init__(self, runtime: ServiceRuntime, settings: SurveySettings, tokens: LinkTokens):
        self._runtime = runtime
        self._settings = settings
        self._tokens = tokens
        self.repository: Repository[s.Survey, s.SurveyEvent] = Repository(
            prefix="survey",
            codec=SURVEY_CODEC,
            evolve=s.evolve,
            outbox=survey_outbox,
            project=project_survey,
            store=lambda: runtime.store,
        )
        self.wake_mail: Callable[[], None] = lambda: None

    def _now(self) -> datetime:
        return self._runtime.clock.now()

    # --- Reactions to the dossier service --------------------------------------------------

    async def on_dossier_opened(self, conn: Connection, envelope: Envelope) -> None:
        """Remember the dossier's site and beneficiary (for erasure)."""
        event = envelope.data
        assert isinstance(event, ct.DossierOpened)
        erased = await conn.fetchval(
            "SELECT true FROM survey_erased_beneficiaries WHERE beneficiary_id = $1",
            event.beneficiary_id,
        )
        await conn.execute(
            """INSERT INTO survey_dossiers (dossier_id, beneficiary_id, site_id, state)
               VALUES ($1, $2, $3, $4)
               ON CONFLICT (dossier_id) DO UPDATE SET beneficiary_id = EXCLUDED.beneficiary_id,
                   site_id = EXCLUDED.site_id,
                   state = CASE WHEN $4 = 'erased' THEN 'erased' ELSE survey_dossiers.state END""",
            event.dossier_id,
            event.beneficiary_id,
            str(event.site_id),
            "erased" if erased else "open",
        )

    async def on_dossier_completed(self, conn: Connection, envelope: Envelope) -> None:
        """The end-of-bilan survey goes out now; the six-month one is timed from completion."""
        event = envelope.data
        assert isinstance(event, ct.DossierCompleted)
        row = await conn.fetchrow(
            "SELECT site_id, state FROM survey_dossiers WHERE dossier_id = $1", event.dossier_id
        )
        if row is not None and row["state"] in NO_SURVEY_STATES:
            log.info("survey_skipped", dossier_id=str(event.dossier_id), reason=row["state"])
            return
        # A dossier opened before this service listened is known by the event's site alone.
        site_id = row["site_id"] if row is not None else envelope.site_id
        await conn.execute(
            """INSERT INTO survey_dossiers (dossier_id, site_id, state, completed_at)
               VALUES ($1, $2, 'completed', $3)
               ON CONFLICT (dossier_id) DO UPDATE SET state = 'completed',
                   completed_at = EXCLUDED.completed_at""",
            event.dossier_id,
            site_id,
            event.completed_at,
        )
        # A replay of old history (a new deployment reading the topic from the start) must not
        # mail people about a bilan they finished long ago: a survey is sent only while its
        # answer window, counted from when it was due, is still open.
        now, window = self._now(), self._settings.answer_window()
        if now < event.completed_at + window:
            await self.start_survey(conn, event.dossier_id, site_id, "end_of_bilan")
        six_months_at = event.completed_at + self._settings.six_month_delay()
        if now < six_months_at + window:
            await timers.schedule(
                conn,
                due_at=six_months_at,
                kind=SIX_MONTHS_DUE,
                payload={"dossier_id": str(event.dossier_id)},
                key=f"dossier:{event.dossier_id}:six_months",
            )

    async def on_dossier_abandoned(self, conn: Connection, envelope: Envelope) -> None:
        """An abandoned bilan gets no satisfaction survey (its causes go to ind. 32)."""
        event = envelope.data
        assert isinstance(event, ct.DossierAbandoned)
        await conn.execute(
            """INSERT INTO survey_dossiers (dossier_id, site_id, state) VALUES ($1, $2, 'abandoned')
               ON CONFLICT (dossier_id) DO UPDATE SET state = CASE
                   WHEN survey_dossiers.state = 'erased' THEN 'erased' ELSE 'abandoned' END""",
            event.dossier_id,
            envelope.site_id,
        )

    async def on_beneficiary_erased(self, conn: Connection, envelope: Envelope) -> None:
        """Stop everything for the beneficiary and shred what they wrote."""
        event = envelope.data
        assert isinstance(event, ct.BeneficiaryErased)
        await conn.execute(
            """INSERT INTO survey_erased_beneficiaries (beneficiary_id, erased_at) VALUES ($1, $2)
               ON CONFLICT DO NOTHING""",
            event.subject_id,
            event.erased_at,
        )
        dossiers = await conn.fetch(
            """UPDATE survey_dossiers SET state = 'erased' WHERE beneficiary_id = $1
               RETURNING dossier_id""",
            event.subject_id,
        )
        for dossier in dossiers:
            for survey_id in await self._end_surveys(
                conn, dossier["dossier_id"], "beneficiary_erased"
            ):
                await self._runtime.keys.shred(str(survey_id), conn=conn)
        log.info("beneficiary_surveys_erased", dossiers=len(dossiers))

    async def on_data_request_fulfilled(self, conn: Connection, envelope: Envelope) -> None:
        """An upheld objection (GDPR art. 21) stops the one processing here that rests on the
        centre's legitimate interest, the satisfaction surveys: the person's surveys not yet
        closed are cancelled and none is made for them any more."""
        event = envelope.data
        assert isinstance(event, ct.DataSubjectRequestFulfilled)
        if event.kind != "objection":
            return
        await conn.execute(
            """INSERT INTO survey_objected_beneficiaries (beneficiary_id, objected_at)
               VALUES ($1, $2) ON CONFLICT DO NOTHING""",
            event.subject_id,
            event.fulfilled_at,
        )
        dossiers = await conn.fetch(
            "SELECT dossier_id FROM survey_dossiers WHERE beneficiary_id = $1", event.subject_id
        )
        for dossier in dossiers:
            await self._end_surveys(conn, dossier["dossier_id"], "beneficiary_objected")
        log.info("objection_surveys_cancelled", dossiers=len(dossiers))

    async def on_withdrawal_exercised(self, conn: Connection, envelope: Envelope) -> None:
        """The beneficiary withdrew from the convention: no survey of that bilan is answerable."""
        event = envelope.data
        assert isinstance(event, ct.WithdrawalExercised)
        await conn.execute(
            """INSERT INTO survey_dossiers (dossier_id, site_id, state) VALUES ($1, $2, 'withdrawn')
               ON CONFLICT (dossier_id) DO UPDATE SET state = CASE
                   WHEN survey_dossiers.state = 'erased' THEN 'erased' ELSE 'withdrawn' END""",
            event.dossier_id,
            envelope.site_id,
        )
        ended = await self._end_surveys(conn, event.dossier_id, "dossier_withdrawn")
        log.info("withdrawn_dossier_surveys_cancelled", surveys=len(ended))

    async def _end_surveys(
        self, conn: Connection, dossier_id: UUID, reason: s.CancelReason
    ) -> list[UUID]:
        """Cancel every survey of the dossier and the six-month one still to come."""
        await timers.cancel(conn, f"dossier:{dossier_id}:six_months")
        surveys = await conn.fetch(
            "SELECT survey_id FROM surveys WHERE dossier_id = $1", dossier_id
        )
        ended: list[UUID] = []
        for row in surveys:
            survey_id: UUID = row["survey_id"]
            loaded = await self._lock_and_load(conn, survey_id)
            assert loaded.state is not None
            events = s.decide(loaded.state, s.CancelSurvey(reason), self._now())
            await self.repository.append(survey_id, loaded, events, conn=conn)
            await cancel_mail(conn, mail_key(survey_id))
            await self._stop_follow_ups(conn, survey_id)
            ended.append(survey_id)
        return ended

    # --- Session feedback (reactions to the scheduling service and to phase completion) -----

    async def on_session_held(self, conn: Connection, envelope: Envelope) -> None:
        """Remember a held bilan-phase session; with `every_session`, ask about it now."""
        event = envelope.data
        assert isinstance(event, ct.SessionHeld)
        if event.phase not in BILAN_PHASES:
            return
        await conn.execute(
            """INSERT INTO survey_held_sessions (session_id, dossier_id, phase, started_at)
               VALUES ($1, $2, $3, $4) ON CONFLICT (session_id) DO NOTHING""",
            event.session_id,
            event.dossier_id,
            event.phase,
            event.started_at,
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
        last = await conn.fetchrow(
            """SELECT session_id, started_at FROM survey_held_sessions
               WHERE dossier_id = $1 AND phase = $2
               ORDER BY started_at DESC, session_id DESC LIMIT 1""",
            dossier_id,
            timer.payload["phase"],
        )
        if last is None:
            log.info("session_feedback_skipped", dossier_id=str(dossier_id), reason="no_session")
            return
        await self._start_session_feedback(
            conn, dossier_id, last["session_id"], last["started_at"], timer.payload["site_id"]
        )

    async def _start_session_feedback(
        self,
        conn: Connection,
        dossier_id: UUID,
        session_id: UUID,
        held_at: datetime,
        site_id: str,
    ) -> None:
        row = await conn.fetchrow(
            "SELECT site_id, state FROM survey_dossiers WHERE dossier_id = $1", dossier_id
        )
        if row is not None and row["state"] in NO_SURVEY_STATES:
            log.info("survey_skipped", dossier_id=str(dossier_id), reason=row["state"])
            return
        if self._now() >= held_at + self._settings.answer_window():
            return  # a replay of old history: too late to ask anyone about that session
        if await conn.fetchval("SELECT true FROM surveys WHERE session_id = $1", session_id):
            return
        if await _objected(conn, dossier_id):
            return
        questionnaire = await questionnaires.current(conn, "session_feedback")
        survey_id = uuid4()
        await self._create(
            conn,
            s.CreateSurvey(
                survey_id,
                dossier_id,
                row["site_id"] if row is not None else site_id,
                "session_feedback",
                "beneficiary",
                questionnaire.version,
                session_id=session_id,
            ),
            recipient_ref=str(dossier_id),
        )

    # --- Starting a survey ------------------------------------------------------------------

    async def start_survey(
        self, conn: Connection, dossier_id: UUID, site_id: str, campaign: Campaign
    ) -> UUID | None:
        """Create a dossier's survey of a campaign and queue its invitation; once only."""
        existing = await conn.fetchval(
            "SELECT survey_id FROM surveys WHERE dossier_id = $1 AND campaign = $2",
            dossier_id,
            campaign,
        )
        if existing is not None:
            return None
        if await _objected(conn, dossier_id):
            return None
        questionnaire = await questionnaires.current(conn, campaign)
        survey_id = uuid4()
        await self._create(
            conn,
            s.CreateSurvey(
                survey_id, dossier_id, site_id, campaign, "beneficiary", questionnaire.version
            ),
            recipient_ref=str(dossier_id),
        )
        return survey_id

    async def send_stakeholder_survey(self, role: s.RespondentRole, email: str) -> UUID:
        """A quality lead's survey of a funder, employer or staff member (organisation-wide).

        The address is sealed under a key of the survey's own, shredded when it closes.
        """
        survey_id = uuid4()
        async with unit_of_work(self._runtime.pool) as conn:
            questionnaire = await questionnaires.current(conn, "stakeholder")
            await self._create(
                conn,
                s.CreateSurvey(
                    survey_id, None, ORGANISATION_SITE, "stakeholder", role, questionnaire.version
                ),
                recipient_ref=f"{STAKEHOLDER_REF_PREFIX}{survey_id}",
            )
            sealed = await self._runtime.keys.encrypt(
                stakeholder_contact_subject(survey_id),
                email,
                purpose=STAKEHOLDER_EMAIL_PURPOSE,
                conn=conn,
            )
            await conn.execute(
                "INSERT INTO stakeholder_contacts (survey_id, sealed_email) VALUES ($1, $2)",
                survey_id,
                sealed.text,
            )
        return survey_id

    async def _create(
        self, conn: Connection, command: s.CreateSurvey, *, recipient_ref: str
    ) -> None:
        now = self._now()
        events = s.decide(None, command, now)
        await self.repository.append(command.survey_id, Loaded(None, 0), events, conn=conn)
        await enqueue(
            conn,
            key=mail_key(command.survey_id),
            recipient_ref=recipient_ref,
            template=INVITATION,
            params={"survey_id": str(command.survey_id), "campaign": command.campaign},
            not_before=now,
        )
        # A mail due now goes once its row is committed, not at the sender's next poll.
        once_committed(self.wake_mail)

    # --- Mail callbacks (in the transaction that marks the mail sent) -----------------------

    async def invitation_sent(self, conn: Connection, mail: Mail, sent_at: datetime) -> None:
        """Record SurveySent at the real sending time; time reminders and expiry from it."""

        async def record(survey_id: UUID, link_hash: str) -> None:
            loaded = await self._lock_and_load(conn, survey_id)
            command = s.RecordInvitationSent(link_hash, self._settings.answer_window())
            saved = await self.repository.append(
                survey_id, loaded, s.decide(loaded.state, command, sent_at), conn=conn
            )
            state = saved.state
            if state is None or saved.version == loaded.version or state.expires_at is None:
                return
            await self._add_link(conn, survey_id, link_hash)
            for number, delay in enumerate(self._settings.reminder_delays(), start=1):
                due = sent_at + delay
                if due < state.expires_at:
                    await timers.schedule(
                        conn,
                        due_at=due,
                        kind=REMINDER_DUE,
                        payload={"survey_id": str(survey_id), "reminder_number": number},
                        key=_reminder_timer_key(survey_id, number),
                    )
            await timers.schedule(
                conn,
                due_at=state.expires_at,
                kind=EXPIRY_DUE,
                payload={"survey_id": str(survey_id)},
                key=_expiry_timer_key(survey_id),
            )

        await self._record_mail(conn, mail, record)

    async def reminder_sent(self, conn: Connection, mail: Mail, sent_at: datetime) -> None:
        """Record SurveyReminderSent at the real sending time; its link joins the others."""
        number = int(mail.params["reminder_number"])

        async def record(survey_id: UUID, link_hash: str) -> None:
            loaded = await self._lock_and_load(conn, survey_id)
            events = s.decide(loaded.state, s.RecordReminderSent(number, link_hash), sent_at)
            if events:
                await self.repository.append(survey_id, loaded, events, conn=conn)
                await self._add_link(conn, survey_id, link_hash)

        await self._record_mail(conn, mail, record)

    async def _record_mail(
        self, conn: Connection, mail: Mail, record: Callable[[UUID, str], Any]
    ) -> None:
        survey_id = UUID(str(mail.params["survey_id"]))
        token = self._tokens.take(mail.id)
        if token is None:
            log.error("survey_link_lost", survey_id=str(survey_id), mail_id=mail.id)
            return
        try:
            # A savepoint: whatever fails here, the mail stays marked sent (it did leave), and
            # the wake-ups of what it rolled back are dropped with it.
            async with transaction(conn):
                await record(survey_id, token_hash(token))
        except Exception as exc:
            log.error(
                "survey_mail_not_recorded", survey_id=str(survey_id), error=type(exc).__name__
            )

    async def _add_link(self, conn: Connection, survey_id: UUID, link_hash: str) -> None:
        await conn.execute(
            "INSERT INTO survey_links (token_hash, survey_id) VALUES ($1, $2)",
            link_hash,
            survey_id,
        )

    # --- Timers -----------------------------------------------------------------------------

    async def six_months_due(self, conn: Connection, timer: timers.Timer) -> None:
        """Six months after completion: the six-month survey, unless the dossier was erased."""
        dossier_id = UUID(timer.payload["dossier_id"])
        row = await conn.fetchrow(
            "SELECT site_id, state FROM survey_dossiers WHERE dossier_id = $1", dossier_id
        )
        if row is None or row["state"] != "completed":
            return
        await self.start_survey(conn, dossier_id, row["site_id"], "six_months")

    async def reminder_due(self, conn: Connection, timer: timers.Timer) -> None:
        """Queue the n-th reminder if the survey is still waiting for an answer."""
        survey_id = UUID(timer.payload["survey_id"])
        number = int(timer.payload["reminder_number"])
        loaded = await self._lock_and_load(conn, survey_id)
        state = loaded.state
        # A reminder due after the answer window (the service was down past both) would only
        # lead to a closed survey.
        if state is None or state.status != "open" or state.past_answer_window(self._now()):
            return
        await enqueue(
            conn,
            key=mail_key(survey_id, number),
            recipient_ref=_recipient_ref(state),
            template=REMINDER,
            params={
                "survey_id": str(survey_id),
                "campaign": state.campaign,
                "reminder_number": number,
            },
            not_before=self._now(),
            # Its link answers 410 once the survey has closed: no use sending it then.
            not_after=state.expires_at,
        )
        once_committed(self.wake_mail)

    async def expiry_due(self, conn: Connection, timer: timers.Timer) -> None:
        """Close an unanswered survey at the end of its answer window."""
        survey_id = UUID(timer.payload["survey_id"])
        loaded = await self._lock_and_load(conn, survey_id)
        events = s.decide(loaded.state, s.ExpireSurvey(), self._now())
        if events:
            await self.repository.append(survey_id, loaded, events, conn=conn)
            await self._stop_follow_ups(conn, survey_id)

    # --- Answering --------------------------------------------------------------------------

    async def questionnaire_for_link(self, token: str) -> tuple[s.Survey, Questionnaire]:
        """What a link shows: its survey's questionnaire version, if it may still answer."""
        link_hash = token_hash(token)
        async with self._runtime.pool.acquire() as conn:
            survey_id = await self._survey_of_link(conn, link_hash)
            loaded = await self.repository.load(survey_id, conn=conn)
            assert loaded.state is not None
            s.ensure_answerable(loaded.state, link_hash, self._now())
            q = await questionnaires.version(
                conn, loaded.state.campaign, loaded.state.questionnaire_version
            )
        return loaded.state, q

    async def answer(self, token: str, answers: Mapping[str, Any]) -> s.Survey:
        """Validate and record the answers given through a link; the link is then spent."""
        link_hash = token_hash(token)
        async with unit_of_work(self._runtime.pool) as conn:
            survey_id = await self._survey_of_link(conn, link_hash)
            loaded = await self._lock_and_load(conn, survey_id)
            state = loaded.state
            assert state is not None
            now = self._now()
            s.ensure_answerable(state, link_hash, now)
            q = await questionnaires.version(conn, state.campaign, state.questionnaire_version)
            valid = validate_answers(q, answers)
            sealed = {
                code: (
                    await self._runtime.keys.encrypt(
                        str(survey_id), text, purpose=f"survey.answer.{code}", conn=conn
                    )
                ).text
                for code, text in valid.free_text.items()
            }
            events = s.decide(
                state, s.AnswerSurvey(link_hash, replace(valid, free_text=sealed)), now
            )
            saved = await self.repository.append(survey_id, loaded, events, conn=conn)
            await self._stop_follow_ups(conn, survey_id)
        assert saved.state is not None
        return saved.state

    async def listing(
        self,
        conn: Connection,
        *,
        campaign: str | None,
        status: str | None,
        all_sites: bool,
        sites: list[str],
        limit: int,
    ) -> list[dict[str, Any]]:
        """Survey rows of the given sites, newest first, with their answers' figures."""
        found = []
        for row in await read_models.list_surveys(
            conn, campaign=campaign, status=status, all_sites=all_sites, sites=sites, limit=limit
        ):
            if row["scores"] is None and row["answered_at"] is not None:
                # Answered before the list kept the answers' figures: read them from events.
                state = (await self.repository.load(row["survey_id"], conn=conn)).state
                if state is not None:
                    row = {**row, "scores": dict(state.scores), "situation": state.situation}
            found.append({**row, "scores": row["scores"] or {}})
        return found

    async def read_free_text(self, state: s.Survey) -> dict[str, str | None]:
        """The answers' free text for staff allowed to read it; None where it was erased."""
        opened: dict[str, str | None] = {}
        for code, sealed in state.sealed_free_text.items():
            text = await self._runtime.keys.decrypt(
                str(state.survey_id), sealed, purpose=f"survey.answer.{code}"
            )
            opened[code] = text if isinstance(text, str) else None
        return opened

    async def _survey_of_link(self, conn: Connection, link_hash: str) -> UUID:
        survey_id = await conn.fetchval(
            "SELECT survey_id FROM survey_links WHERE token_hash = $1", link_hash
        )
        if survey_id is None:
            raise NotFound("survey_not_found", "no survey answers to this link")
        assert isinstance(survey_id, UUID)
        return survey_id

    # --- Shared steps -----------------------------------------------------------------------

    async def _lock_and_load(self, conn: Connection, survey_id: UUID) -> Loaded[s.Survey]:
        await conn.execute("SELECT 1 FROM surveys WHERE survey_id = $1 FOR UPDATE", survey_id)
        return await self.repository.load(survey_id, conn=conn)

    async def _stop_follow_ups(self, conn: Connection, survey_id: UUID) -> None:
        """A closed survey sends nothing more, and forgets its stakeholder's address."""
        for number in range(1, len(self._settings.reminder_delays_days) + 1):
            await timers.cancel(conn, _reminder_timer_key(survey_id, number))
            await cancel_mail(conn, mail_key(survey_id, number))
        await timers.cancel(conn, _expiry_timer_key(survey_id))
        deleted = await conn.fetchval(
            "DELETE FROM stakeholder_contacts WHERE survey_id = $1 RETURNING true", survey_id
        )
        if deleted:
            await self._runtime.keys.shred(stakeholder_contact_subject(survey_id), conn=conn)


async def fetch_survey_row(pool: asyncpg.Pool, survey_id: UUID) -> asyncpg.Record | None:
    """A survey's read-model row."""
    row: asyncpg.Record | None = await pool.fetchrow(
        "SELECT * FROM surveys WHERE survey_id = $1", survey_id
    )
    return row


async def _objected(conn: Connection, dossier_id: UUID) -> bool:
    """Whether the dossier's beneficiary objected to the surveys (their objection upheld)."""
    objected = await conn.fetchval(
        """SELECT true FROM survey_dossiers d JOIN survey_objected_beneficiaries o
             ON o.beneficiary_id = d.beneficiary_id WHERE d.dossier_id = $1""",
        dossier_id,
    )
    if objected:
        log.info("survey_skipped", dossier_id=str(dossier_id), reason="objection")
    return bool(objected)
