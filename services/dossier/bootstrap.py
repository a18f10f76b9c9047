"""Composition root: wires the runtime, the commands, the reactions, the timers and the API.

Like every command service: build the `ServiceRuntime`, the application on it, register its
reactions, timers and the work it runs alongside (`runtime.alongside`: the key vacuum and the
e-mail index back-fill), then the app (`create_service_app`) with the service's parts on
`app.state` and the api package's routes."""

from __future__ import annotations

from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

import asyncpg
from fastapi import FastAPI

from services.dossier.api import install_routes
from services.dossier.api.deps import DossierService
from services.dossier.application import notifications
from services.dossier.application.deadlines import timer_handlers
from services.dossier.application.dossiers import DossierCommands
from services.dossier.application.mail_contacts import DossierContacts
from services.dossier.application.reactions import event_handlers
from services.dossier.application.views import ContentReader
from services.dossier.settings import Settings
from shared.centre_contact import centre_contact
from shared.clock import Clock
from shared.contracts import SessionHeld, StaffMemberOnboarded
from shared.logging import get_logger
from shared.mail import Contact, Mail, MailSender, SmtpTransport, Transport
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
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    run_background: bool = True,
    mail_transport: Transport | None = None,
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
    reader = ContentReader(runtime)
    runtime.use_mail(lambda rt: _mail_sender(rt, settings, commands, reader, mail_transport))
    runtime.alongside("email-index-backfill", lambda: _backfill(commands))
    app = create_service_app(
        runtime,
        title="Bilan — dossier service",
        description=DESCRIPTION,
        idempotent_paths=IDEMPOTENT_PATHS,
    )
    app.state.dossier_service = DossierService(
        runtime=runtime, commands=commands, reader=reader, settings=settings
    )
    install_routes(app)
    return app


def _mail_sender(
    runtime: ServiceRuntime,
    settings: Settings,
    commands: DossierCommands,
    reader: ContentReader,
    transport: Transport | None,
) -> MailSender:
    """The dossier's mails to the beneficiary (`application.notifications`), addressed from
    this service's own records at send time."""
    centre = centre_contact(settings)

    def renderer(template: str) -> Callable[[Mail, Contact], EmailMessage]:
        def render(mail: Mail, contact: Contact) -> EmailMessage:
            return notifications.render_dossier_mail(
                template,
                mail.params,
                contact,
                centre,
                timezone=settings.display_timezone,
                console_url=settings.console_url,
            )

        return render

    sender = MailSender(
        service=settings.service_name,
        pool=runtime.pool,
        clock=runtime.clock,
        transport=transport or SmtpTransport(settings),
        resolver=DossierContacts(runtime, reader),
        renderers={template: renderer(template) for template in notifications.TEMPLATES},
        mail_from=settings.mail_from,
        poll_interval_s=settings.mail_poll_interval_s,
    )
    commands.wake_mail = sender.wake
    return sender


async def _backfill(commands: DossierCommands) -> None:
    """Index the addresses of beneficiaries registered before the sign-in index existed."""
    try:
        done = await commands.backfill_email_index()
    except (OSError, asyncpg.PostgresError) as exc:
        log.warning("email_index_backfill_failed", error=type(exc).__name__)
        return
    if done:
        log.info("email_index_backfilled", beneficiaries=done)
