"""After a survey is created: its mails leaving (the mail sender's `on_sent` callbacks, which
record `SurveySent` and `SurveyReminderSent` at the real sending time and keep the hash of the
link each mail carried), the reminders it is due, and its expiry."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from uuid import UUID

from services.survey.adapters import answer_links
from services.survey.adapters.mail import (
    REMINDER,
    STAKEHOLDER_REF_PREFIX,
    LinkTokens,
    mail_key,
    token_hash,
)
from services.survey.application.surveys import (
    SurveyCampaigns,
    expiry_timer_key,
    reminder_timer_key,
)
from services.survey.domain import survey as s
from shared import timers
from shared.db import Connection
from shared.logging import get_logger
from shared.mail import Mail, enqueue
from shared.unit_of_work import once_committed, transaction

log = get_logger(__name__)

REMINDER_DUE = "survey.reminder_due"
EXPIRY_DUE = "survey.expiry_due"


def _recipient_ref(state: s.Survey) -> str:
    if state.campaign == "stakeholder":
        return f"{STAKEHOLDER_REF_PREFIX}{state.survey_id}"
    return str(state.dossier_id)


class SurveyFollowUps:
    """The mail callbacks and timers of the surveys of `campaigns`; `tokens` hands each sent
    mail's link token from its rendering to its callback."""

    def __init__(self, campaigns: SurveyCampaigns, tokens: LinkTokens) -> None:
        self._campaigns = campaigns
        self._settings = campaigns.settings
        self._tokens = tokens

    # --- Mail callbacks (in the transaction that marks the mail sent) -----------------------

    async def invitation_sent(self, conn: Connection, mail: Mail, sent_at: datetime) -> None:
        """Record SurveySent at the real sending time; time reminders and expiry from it."""
        campaigns = self._campaigns

        async def record(survey_id: UUID, link_hash: str) -> None:
            loaded = await campaigns.lock_and_load(conn, survey_id)
            command = s.RecordInvitationSent(link_hash, self._settings.answer_window())
            saved = await campaigns.repository.append(
                survey_id, loaded, s.decide(loaded.state, command, sent_at), conn=conn
            )
            state = saved.state
            if state is None or saved.version == loaded.version or state.expires_at is None:
                return
            await answer_links.add(conn, link_hash, survey_id)
            for number, delay in enumerate(self._settings.reminder_delays(), start=1):
                due = sent_at + delay
                if due < state.expires_at:
                    await timers.schedule(
                        conn,
                        due_at=due,
                        kind=REMINDER_DUE,
                        payload={"survey_id": str(survey_id), "reminder_number": number},
                        key=reminder_timer_key(survey_id, number),
                    )
            await timers.schedule(
                conn,
                due_at=state.expires_at,
                kind=EXPIRY_DUE,
                payload={"survey_id": str(survey_id)},
                key=expiry_timer_key(survey_id),
            )

        await self._record_mail(conn, mail, record)

    async def reminder_sent(self, conn: Connection, mail: Mail, sent_at: datetime) -> None:
        """Record SurveyReminderSent at the real sending time; its link joins the others."""
        number = int(mail.params["reminder_number"])
        campaigns = self._campaigns

        async def record(survey_id: UUID, link_hash: str) -> None:
            loaded = await campaigns.lock_and_load(conn, survey_id)
            events = s.decide(loaded.state, s.RecordReminderSent(number, link_hash), sent_at)
            if events:
                await campaigns.repository.append(survey_id, loaded, events, conn=conn)
                await answer_links.add(conn, link_hash, survey_id)

        await self._record_mail(conn, mail, record)

    async def _record_mail(
        self, conn: Connection, mail: Mail, record: Callable[[UUID, str], Awaitable[None]]
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

    # --- Timers -----------------------------------------------------------------------------

    async def reminder_due(self, conn: Connection, timer: timers.Timer) -> None:
        """Queue the n-th reminder if the survey is still waiting for an answer."""
        survey_id = UUID(timer.payload["survey_id"])
        number = int(timer.payload["reminder_number"])
        loaded = await self._campaigns.lock_and_load(conn, survey_id)
        state = loaded.state
        now = self._campaigns.now()
        # A reminder due after the answer window (the service was down past both) would only
        # lead to a closed survey.
        if state is None or state.status != "open" or state.past_answer_window(now):
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
            not_before=now,
            # Its link answers 410 once the survey has closed: no use sending it then.
            not_after=state.expires_at,
        )
        once_committed(self._campaigns.wake_mail)

    async def expiry_due(self, conn: Connection, timer: timers.Timer) -> None:
        """Close an unanswered survey at the end of its answer window."""
        survey_id = UUID(timer.payload["survey_id"])
        campaigns = self._campaigns
        loaded = await campaigns.lock_and_load(conn, survey_id)
        events = s.decide(loaded.state, s.ExpireSurvey(), campaigns.now())
        if events:
            await campaigns.repository.append(survey_id, loaded, events, conn=conn)
            await campaigns.stop_follow_ups(conn, survey_id)
