"""Composition root of the survey service: runtime, application, mail sender, HTTP app."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from services.survey.adapters.mail import (
    INVITATION,
    REMINDER,
    LinkTokens,
    SurveyContactResolver,
    SurveyMailRenderer,
    fetch_stakeholder_email,
)
from services.survey.application import questionnaires
from services.survey.application.actions import ImprovementPlan
from services.survey.application.complaints import ComplaintRegister
from services.survey.application.surveys import (
    EXPIRY_DUE,
    REMINDER_DUE,
    SESSION_FEEDBACK_DUE,
    SIX_MONTHS_DUE,
    SurveyCampaigns,
)
from services.survey.settings import SurveySettings
from shared import contracts as ct
from shared.auth import internal_token_provider
from shared.clock import Clock
from shared.logging import get_logger
from shared.mail import (
    STOP_TIMEOUT_S,
    ContactResolver,
    HttpContactResolver,
    MailSender,
    SmtpTransport,
    Transport,
)
from shared.runtime import ServiceRuntime, create_service_app
from shared.settings import DEV_JWT_PRIVATE_KEY_FILE

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
log = get_logger(__name__)


class SurveyService:
    """Everything the survey service runs, started and stopped together."""

    def __init__(
        self,
        settings: SurveySettings,
        *,
        clock: Clock | None = None,
        run_background: bool = True,
        contact_resolver: ContactResolver | None = None,
        transport: Transport | None = None,
    ) -> None:
        self.settings = settings
        self._run_background = run_background
        self.tokens = LinkTokens()
        self.runtime = ServiceRuntime(
            settings,
            migrations=[MIGRATIONS],
            consumer_topics=[settings.dossier_events_topic, settings.scheduling_events_topic],
            clock=clock,
            run_background=False,
        )
        self.surveys = SurveyCampaigns(self.runtime, settings, self.tokens)
        self.complaints = ComplaintRegister(self.runtime, settings)
        self.actions = ImprovementPlan(self.runtime)
        self.runtime.event_handlers.update(
            {
                ct.DossierOpened.ce_type(): self.surveys.on_dossier_opened,
                ct.DossierCompleted.ce_type(): self.surveys.on_dossier_completed,
                ct.DossierAbandoned.ce_type(): self.surveys.on_dossier_abandoned,
                ct.BeneficiaryErased.ce_type(): self.surveys.on_beneficiary_erased,
                ct.WithdrawalExercised.ce_type(): self.surveys.on_withdrawal_exercised,
                ct.PhaseCompleted.ce_type(): self.surveys.on_phase_completed,
                ct.SessionHeld.ce_type(): self.surveys.on_session_held,
            }
        )
        self.runtime.timer_handlers.update(
            {
                SIX_MONTHS_DUE: self.surveys.six_months_due,
                SESSION_FEEDBACK_DUE: self.surveys.session_feedback_due,
                REMINDER_DUE: self.surveys.reminder_due,
                EXPIRY_DUE: self.surveys.expiry_due,
            }
        )
        self._dossier_contacts = contact_resolver or HttpContactResolver(
            settings.dossier_contact_url,
            internal_token_provider(
                settings.internal_token.get_secret_value() if settings.internal_token else None,
                development=settings.environment == "development",
                private_key_file=DEV_JWT_PRIVATE_KEY_FILE,
                issuer=settings.jwt_issuer,
                audience=settings.jwt_audience,
            ),
        )
        self._transport = transport or SmtpTransport(settings)
        self.mail: MailSender | None = None
        self._mail_task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Migrate, seed the questionnaires, then run the consumer, timers, relay and mail."""
        await self.runtime.start()
        await questionnaires.seed_defaults(self.runtime.pool, self.runtime.clock.now())
        renderer = SurveyMailRenderer(self.tokens, self.settings.public_answer_url)

        async def sealed_email(survey_id: Any) -> str | None:
            async with self.runtime.pool.acquire() as conn:
                return await fetch_stakeholder_email(conn, survey_id)

        self.mail = MailSender(
            service=self.settings.service_name,
            pool=self.runtime.pool,
            clock=self.runtime.clock,
            transport=self._transport,
            resolver=SurveyContactResolver(
                self._dossier_contacts, lambda: self.runtime.keys, sealed_email
            ),
            renderers={INVITATION: renderer.invitation, REMINDER: renderer.reminder},
            mail_from=self.settings.mail_from,
            on_sent={
                INVITATION: self.surveys.invitation_sent,
                REMINDER: self.surveys.reminder_sent,
            },
            poll_interval_s=self.settings.mail_poll_interval_s,
        )
        self.surveys.wake_mail = self.mail.wake
        self.runtime.due_work["mail"] = self.mail
        if self._run_background:
            await self.runtime.start_background()
            self._mail_task = asyncio.create_task(self.mail.run(), name="survey-mail")
            self.runtime.watch("mail", self._mail_task)

    async def stop(self) -> None:
        if self._mail_task is not None and self.mail is not None:
            # The loop returns between two sends: a mail being sent is finished first, its
            # SurveySent or SurveyReminderSent recorded (cancelling it would leave it uncertain).
            self.runtime.forget("mail")
            self.mail.stop()
            try:
                await asyncio.wait_for(self._mail_task, STOP_TIMEOUT_S)
            except Exception as exc:  # a timeout, or the loop had died already
                log.warning("mail_loop_stopped_abruptly", error=type(exc).__name__)
            self._mail_task = None
        if self.mail is not None:
            await self.mail.aclose()
        await self.runtime.stop()

    @contextlib.asynccontextmanager
    async def lifespan(self, _app: FastAPI) -> AsyncIterator[None]:
        await self.start()
        try:
            yield
        finally:
            await self.stop()


def build_service(
    settings: SurveySettings,
    *,
    clock: Clock | None = None,
    run_background: bool = True,
    contact_resolver: ContactResolver | None = None,
    transport: Transport | None = None,
) -> tuple[FastAPI, SurveyService]:
    """The HTTP app and the service behind it (tests start and stop the service themselves)."""
    from services.survey.api import install_routes

    service = SurveyService(
        settings,
        clock=clock,
        run_background=run_background,
        contact_resolver=contact_resolver,
        transport=transport,
    )
    app = create_service_app(
        service.runtime,
        title="Bilan survey service",
        description=(
            "Satisfaction surveys at the end of the bilan and six months later, stakeholder "
            "feedback, complaints register (Qualiopi ind. 31) and improvement actions (ind. 32)."
        ),
        idempotent_paths=IDEMPOTENT_PATHS,
    )
    app.router.lifespan_context = service.lifespan
    app.state.survey = service
    install_routes(app)
    return app, service


# Creating commands whose POST accepts an Idempotency-Key (their answers hold ids, not
# personal data: the stored copy is not encrypted).
IDEMPOTENT_PATHS = ("/complaints",)


def create_app(
    settings: SurveySettings, *, clock: Clock | None = None, run_background: bool = True
) -> FastAPI:
    """The survey service's FastAPI app; everything connects when its lifespan starts."""
    app, _ = build_service(settings, clock=clock, run_background=run_background)
    return app
