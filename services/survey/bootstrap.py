"""Composition root of the survey service: runtime, application, mail sender, HTTP app.

Like every command service: build the `ServiceRuntime`, the application on it, register its
reactions, timers, start-up steps (`on_started`) and mail sender (`use_mail`), then the app
(`create_service_app`) with the service's parts on `app.state` and the api package's routes."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from services.survey.adapters import stakeholder_contacts
from services.survey.adapters.mail import (
    INVITATION,
    REMINDER,
    LinkTokens,
    SurveyContactResolver,
    SurveyMailRenderer,
)
from services.survey.adapters.staff_contacts import StaffContacts
from services.survey.api import install_routes
from services.survey.api.deps import SurveyService
from services.survey.application import feedback_notices, questionnaires
from services.survey.application.actions import ImprovementPlan
from services.survey.application.complaints import ComplaintRegister
from services.survey.application.follow_ups import EXPIRY_DUE, REMINDER_DUE, SurveyFollowUps
from services.survey.application.surveys import SurveyCampaigns
from services.survey.application.triggers import (
    SESSION_FEEDBACK_DUE,
    SIX_MONTHS_DUE,
    SurveyTriggers,
)
from services.survey.settings import SurveySettings
from shared import contracts as ct
from shared.auth import internal_token_provider
from shared.centre_contact import centre_contact
from shared.clock import Clock
from shared.mail import (
    Contact,
    ContactResolver,
    HttpContactResolver,
    Mail,
    MailSender,
    SmtpTransport,
    Transport,
)
from shared.ratelimit import RateLimiter
from shared.runtime import ServiceRuntime, create_service_app
from shared.settings import DEV_JWT_PRIVATE_KEY_FILE

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def build_service(
    settings: SurveySettings,
    *,
    clock: Clock | None = None,
    run_background: bool = True,
    contact_resolver: ContactResolver | None = None,
    transport: Transport | None = None,
) -> tuple[FastAPI, SurveyService]:
    """The HTTP app and the parts behind it (tests start and stop `service.runtime`)."""
    runtime = ServiceRuntime(
        settings,
        migrations=[MIGRATIONS],
        consumer_topics=[settings.dossier_events_topic, settings.scheduling_events_topic],
        clock=clock,
        run_background=run_background,
    )
    tokens = LinkTokens()
    surveys = SurveyCampaigns(runtime, settings)
    triggers = SurveyTriggers(surveys)
    follow_ups = SurveyFollowUps(surveys, tokens)
    service = SurveyService(
        runtime=runtime,
        surveys=surveys,
        complaints=ComplaintRegister(runtime, settings),
        actions=ImprovementPlan(runtime),
    )
    runtime.event_handlers.update(
        {
            ct.DossierOpened.ce_type(): triggers.on_dossier_opened,
            ct.ReferentConsultantAssigned.ce_type(): triggers.on_referent_assigned,
            ct.DossierCompleted.ce_type(): triggers.on_dossier_completed,
            ct.DossierAbandoned.ce_type(): triggers.on_dossier_abandoned,
            ct.BeneficiaryErased.ce_type(): triggers.on_beneficiary_erased,
            ct.WithdrawalExercised.ce_type(): triggers.on_withdrawal_exercised,
            ct.DataSubjectRequestFulfilled.ce_type(): triggers.on_data_request_fulfilled,
            ct.PhaseCompleted.ce_type(): triggers.on_phase_completed,
            ct.SessionHeld.ce_type(): triggers.on_session_held,
        }
    )
    runtime.timer_handlers.update(
        {
            SIX_MONTHS_DUE: triggers.six_months_due,
            SESSION_FEEDBACK_DUE: triggers.session_feedback_due,
            REMINDER_DUE: follow_ups.reminder_due,
            EXPIRY_DUE: follow_ups.expiry_due,
        }
    )
    token = internal_token_provider(
        settings.internal_token.get_secret_value() if settings.internal_token else None,
        development=settings.environment == "development",
        private_key_file=DEV_JWT_PRIVATE_KEY_FILE,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
    )
    dossier_contacts = contact_resolver or HttpContactResolver(settings.dossier_contact_url, token)
    # A test's resolver answers both kinds of reference; running, staff come from scheduling.
    staff_contacts = contact_resolver or StaffContacts(
        HttpContactResolver(settings.staff_contact_url, token)
    )

    async def seed() -> None:
        await questionnaires.seed_defaults(runtime.pool, runtime.clock.now())

    def make_sender(runtime: ServiceRuntime) -> MailSender:
        centre = centre_contact(settings)
        renderer = SurveyMailRenderer(tokens, settings.public_answer_url, centre)

        def feedback_notice(mail: Mail, contact: Contact) -> EmailMessage:
            return feedback_notices.render_feedback_notice(
                mail.params,
                contact,
                centre,
                timezone=settings.display_timezone,
                console_url=settings.console_url,
            )

        async def sealed_email(survey_id: Any) -> str | None:
            async with runtime.pool.acquire() as conn:
                return await stakeholder_contacts.sealed_email(conn, survey_id)

        sender = MailSender(
            service=settings.service_name,
            pool=runtime.pool,
            clock=runtime.clock,
            transport=transport or SmtpTransport(settings),
            resolver=SurveyContactResolver(
                dossier_contacts, lambda: runtime.keys, sealed_email, staff_contacts
            ),
            renderers={
                INVITATION: renderer.invitation,
                REMINDER: renderer.reminder,
                feedback_notices.TEMPLATE: feedback_notice,
            },
            mail_from=settings.mail_from,
            on_sent={INVITATION: follow_ups.invitation_sent, REMINDER: follow_ups.reminder_sent},
            poll_interval_s=settings.mail_poll_interval_s,
        )
        surveys.wake_mail = sender.wake
        return sender

    runtime.on_started(seed)
    runtime.use_mail(make_sender)
    app = create_service_app(
        runtime,
        title="Bilan survey service",
        description=(
            "Satisfaction surveys at the end of the bilan and six months later, stakeholder "
            "feedback, complaints register (Qualiopi ind. 31) and improvement actions (ind. 32)."
        ),
        idempotent_paths=IDEMPOTENT_PATHS,
    )
    app.state.survey_service = service
    app.state.public_rate_limiter = RateLimiter(
        per_minute=settings.public_rate_per_minute, burst=settings.public_rate_burst
    )
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
