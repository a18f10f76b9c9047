"""Survey campaigns: creating a survey and queueing its invitation, answering it through its
link, cancelling it, and what a closed survey stops.

The other parts of a survey's life: `triggers` (the dossier and scheduling events and the
timers that start or end surveys), `follow_ups` (the mail callbacks that record a survey sent
or reminded, the reminder and expiry timers).

Decisions these three modules keep (see the README):
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
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from services.survey.adapters import answer_links, known_dossiers, read_models
from services.survey.adapters import stakeholder_contacts as contacts
from services.survey.adapters.mail import (
    INVITATION,
    STAKEHOLDER_EMAIL_PURPOSE,
    STAKEHOLDER_REF_PREFIX,
    mail_key,
    stakeholder_contact_subject,
    token_hash,
)
from services.survey.adapters.read_models import project_survey
from services.survey.application import questionnaires
from services.survey.application.contract import survey_outbox
from services.survey.application.feedback_notices import queue_feedback_notice
from services.survey.domain import survey as s
from services.survey.domain.errors import NotFound
from services.survey.domain.questionnaire import Campaign, Questionnaire, validate_answers
from services.survey.settings import SurveySettings
from shared import timers
from shared.aggregate import EventCodec
from shared.aggregate.repository import Loaded, Repository
from shared.db import Connection
from shared.envelope import ORGANISATION_SITE
from shared.logging import get_logger
from shared.mail import cancel_mail, enqueue
from shared.runtime import ServiceRuntime
from shared.unit_of_work import once_committed, unit_of_work

log = get_logger(__name__)

SURVEY_EVENTS = (
    s.SurveyCreated,
    s.InvitationSent,
    s.ReminderSent,
    s.SurveyAnswered,
    s.SurveyExpired,
    s.SurveyCancelled,
)
SURVEY_CODEC = EventCodec[s.SurveyEvent](SURVEY_EVENTS)


def reminder_timer_key(survey_id: UUID, number: int) -> str:
    return f"survey:{survey_id}:reminder:{number}"


def expiry_timer_key(survey_id: UUID) -> str:
    return f"survey:{survey_id}:expire"


def six_months_timer_key(dossier_id: UUID) -> str:
    return f"dossier:{dossier_id}:six_months"


class SurveyCampaigns:
    """The surveys of the service: their repository, creation, answers and cancellation."""

    def __init__(self, runtime: ServiceRuntime, settings: SurveySettings) -> None:
        self.runtime = runtime
        self.settings = settings
        self.repository: Repository[s.Survey, s.SurveyEvent] = Repository(
            prefix="survey",
            codec=SURVEY_CODEC,
            evolve=s.evolve,
            outbox=survey_outbox,
            project=project_survey,
            store=lambda: runtime.store,
        )
        self.wake_mail: Callable[[], None] = lambda: None

    def now(self) -> datetime:
        return self.runtime.clock.now()

    # --- Starting a survey ------------------------------------------------------------------

    async def start_survey(
        self, conn: Connection, dossier_id: UUID, site_id: str, campaign: Campaign
    ) -> UUID | None:
        """Create a dossier's survey of a campaign and queue its invitation; once only."""
        if await read_models.survey_of_dossier(conn, dossier_id, campaign) is not None:
            return None
        if await self.objected(conn, dossier_id):
            return None
        questionnaire = await questionnaires.current(conn, campaign)
        survey_id = uuid4()
        await self.create(
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
        async with unit_of_work(self.runtime.pool) as conn:
            questionnaire = await questionnaires.current(conn, "stakeholder")
            await self.create(
                conn,
                s.CreateSurvey(
                    survey_id, None, ORGANISATION_SITE, "stakeholder", role, questionnaire.version
                ),
                recipient_ref=f"{STAKEHOLDER_REF_PREFIX}{survey_id}",
            )
            sealed = await self.runtime.keys.encrypt(
                stakeholder_contact_subject(survey_id),
                email,
                purpose=STAKEHOLDER_EMAIL_PURPOSE,
                conn=conn,
            )
            await contacts.put(conn, survey_id, sealed.text)
        return survey_id

    async def create(
        self, conn: Connection, command: s.CreateSurvey, *, recipient_ref: str
    ) -> None:
        """Record a new survey and queue its invitation."""
        now = self.now()
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

    async def objected(self, conn: Connection, dossier_id: UUID) -> bool:
        """Whether the dossier's beneficiary objected to the surveys (their objection upheld)."""
        found = await known_dossiers.objected(conn, dossier_id)
        if found:
            log.info("survey_skipped", dossier_id=str(dossier_id), reason="objection")
        return found

    # --- Answering --------------------------------------------------------------------------

    async def questionnaire_for_link(self, token: str) -> tuple[s.Survey, Questionnaire]:
        """What a link shows: its survey's questionnaire version, if it may still answer."""
        link_hash = token_hash(token)
        async with self.runtime.pool.acquire() as conn:
            survey_id = await self._survey_of_link(conn, link_hash)
            loaded = await self.repository.load(survey_id, conn=conn)
            assert loaded.state is not None
            s.ensure_answerable(loaded.state, link_hash, self.now())
            q = await questionnaires.version(
                conn, loaded.state.campaign, loaded.state.questionnaire_version
            )
        return loaded.state, q

    async def answer(self, token: str, answers: Mapping[str, Any]) -> s.Survey:
        """Validate and record the answers given through a link; the link is then spent."""
        link_hash = token_hash(token)
        async with unit_of_work(self.runtime.pool) as conn:
            survey_id = await self._survey_of_link(conn, link_hash)
            loaded = await self.lock_and_load(conn, survey_id)
            state = loaded.state
            assert state is not None
            now = self.now()
            s.ensure_answerable(state, link_hash, now)
            q = await questionnaires.version(conn, state.campaign, state.questionnaire_version)
            valid = validate_answers(q, answers)
            sealed = {
                code: (
                    await self.runtime.keys.encrypt(
                        str(survey_id), text, purpose=f"survey.answer.{code}", conn=conn
                    )
                ).text
                for code, text in valid.free_text.items()
            }
            events = s.decide(
                state, s.AnswerSurvey(link_hash, replace(valid, free_text=sealed)), now
            )
            saved = await self.repository.append(survey_id, loaded, events, conn=conn)
            await self.stop_follow_ups(conn, survey_id)
            assert saved.state is not None
            if await queue_feedback_notice(conn, saved.state, now):
                once_committed(self.wake_mail)
        assert saved.state is not None
        return saved.state

    async def _survey_of_link(self, conn: Connection, link_hash: str) -> UUID:
        survey_id = await answer_links.survey_of(conn, link_hash)
        if survey_id is None:
            raise NotFound("survey_not_found", "no survey answers to this link")
        return survey_id

    # --- Reading ----------------------------------------------------------------------------

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
            text = await self.runtime.keys.decrypt(
                str(state.survey_id), sealed, purpose=f"survey.answer.{code}"
            )
            opened[code] = text if isinstance(text, str) else None
        return opened

    # --- Ending -----------------------------------------------------------------------------

    async def end_surveys(
        self, conn: Connection, dossier_id: UUID, reason: s.CancelReason
    ) -> list[UUID]:
        """Cancel every survey of the dossier and the six-month one still to come."""
        await timers.cancel(conn, six_months_timer_key(dossier_id))
        ended: list[UUID] = []
        for survey_id in await read_models.surveys_of_dossier(conn, dossier_id):
            loaded = await self.lock_and_load(conn, survey_id)
            assert loaded.state is not None
            events = s.decide(loaded.state, s.CancelSurvey(reason), self.now())
            await self.repository.append(survey_id, loaded, events, conn=conn)
            await cancel_mail(conn, mail_key(survey_id))
            await self.stop_follow_ups(conn, survey_id)
            ended.append(survey_id)
        return ended

    async def stop_follow_ups(self, conn: Connection, survey_id: UUID) -> None:
        """A closed survey sends nothing more, and forgets its stakeholder's address."""
        for number in range(1, len(self.settings.reminder_delays_days) + 1):
            await timers.cancel(conn, reminder_timer_key(survey_id, number))
            await cancel_mail(conn, mail_key(survey_id, number))
        await timers.cancel(conn, expiry_timer_key(survey_id))
        if await contacts.forget(conn, survey_id):
            await self.runtime.keys.shred(stakeholder_contact_subject(survey_id), conn=conn)

    async def lock_and_load(self, conn: Connection, survey_id: UUID) -> Loaded[s.Survey]:
        """The survey's state, its row locked until the transaction ends."""
        await read_models.lock_survey(conn, survey_id)
        return await self.repository.load(survey_id, conn=conn)
