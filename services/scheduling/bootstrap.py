"""Composition root: wires the runtime, the application services and the routes.

Like every command service: build the `ServiceRuntime`, the application on it, register its
reactions, timers and mail sender (`use_mail`), then the app (`create_service_app`) with the
service's parts on `app.state` and the api package's routes."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from uuid import UUID

from fastapi import FastAPI

from services.scheduling.adapters.site_contact import site_name_and_address
from services.scheduling.api import install_routes
from services.scheduling.api.deps import SchedulingService
from services.scheduling.application import beneficiary_notices, notifications
from services.scheduling.application.calendars import CalendarService
from services.scheduling.application.directory import SHRED_NAME, STAFF_REF, DirectoryService
from services.scheduling.application.reactions import dossier_handlers
from services.scheduling.application.reminders import TEMPLATE, reminder_renderer
from services.scheduling.application.sessions import SessionService
from services.scheduling.settings import Settings
from shared.auth import internal_token_provider
from shared.centre_contact import centre_contact
from shared.clock import Clock
from shared.db import Connection
from shared.logging import get_logger
from shared.mail import (
    Contact,
    ContactResolver,
    HttpContactResolver,
    Mail,
    MailSender,
    SmtpTransport,
    Transport,
    close_resolver,
)
from shared.runtime import ServiceRuntime, create_service_app
from shared.settings import DEV_JWT_PRIVATE_KEY_FILE

log = get_logger(__name__)
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
DESCRIPTION = """Sites, rooms and staff (qualifications, habilitations, continuous training,
evaluations); sessions of bilans with convention gating, referent rule, confidential rooms, no
double booking and the 24-hour cap; attendance signatures and sheet; e-mail reminders; iCalendar
feeds and free slots. Errors are RFC 9457 problem documents with a `code`."""


class _StaffOrBeneficiary:
    """Mail recipients: staff (`staff:<id>`) from the directory, here; beneficiaries (a
    dossier id) from the dossier service."""

    def __init__(self, directory: DirectoryService, beneficiaries: ContactResolver) -> None:
        self._directory = directory
        self._beneficiaries = beneficiaries

    async def __call__(self, recipient_ref: str) -> Contact | None:
        if recipient_ref.startswith(STAFF_REF):
            return await self._directory.resolve_contact(recipient_ref)
        return await self._beneficiaries(recipient_ref)

    async def aclose(self) -> None:
        await close_resolver(self._beneficiaries)


# Creating commands whose POST accepts an Idempotency-Key (their answers hold ids, not
# personal data: the stored copy is not encrypted).
IDEMPOTENT_PATHS = ("/sites", "/sites/{site_id}/rooms", "/dossiers/{dossier_id}/sessions")


def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    run_background: bool = True,
    contact_resolver: ContactResolver | None = None,
    mail_transport: Transport | None = None,
) -> FastAPI:
    """The scheduling service's app; nothing connects before its lifespan starts."""

    def make_sender(runtime: ServiceRuntime) -> MailSender:
        beneficiaries = contact_resolver or HttpContactResolver(
            settings.dossier_contact_url,
            internal_token_provider(
                settings.internal_token.get_secret_value() if settings.internal_token else None,
                development=settings.environment == "development",
                private_key_file=DEV_JWT_PRIVATE_KEY_FILE,
                issuer=settings.jwt_issuer,
                audience=settings.jwt_audience,
            ),
        )

        resolver = _StaffOrBeneficiary(directory, beneficiaries)

        async def notice_sent(conn: Connection, mail: Mail, sent_at: datetime) -> None:
            await beneficiary_notices.forget_message(runtime.keys, conn, mail)

        async def on_sent(conn: Connection, mail: Mail, sent_at: datetime) -> None:
            await sessions.mark_reminder_sent(
                conn,
                UUID(mail.params["session_id"]),
                int(mail.params["offset_minutes"]),
                sent_at,
            )

        centre = centre_contact(settings)

        async def site_of(site_id: UUID) -> tuple[str | None, str | None]:
            return await site_name_and_address(runtime.pool, site_id)

        session_mails = {
            template: notifications.session_mail_renderer(
                template,
                centre,
                site_of,
                timezone=settings.display_timezone,
                console_url=settings.console_url,
            )
            for template in notifications.TEMPLATES
        }
        sender = MailSender(
            service=settings.service_name,
            pool=runtime.pool,
            clock=runtime.clock,
            transport=mail_transport or SmtpTransport(settings),
            resolver=resolver,
            renderers={
                TEMPLATE: reminder_renderer(
                    settings.display_timezone, centre, settings.console_url
                ),
                beneficiary_notices.TEMPLATE: beneficiary_notices.notice_renderer(
                    lambda: runtime.keys, settings.display_timezone, centre, settings.console_url
                ),
                **session_mails,
            },
            mail_from=settings.mail_from,
            on_sent={TEMPLATE: on_sent, beneficiary_notices.TEMPLATE: notice_sent},
            poll_interval_s=settings.mail_poll_interval_s,
        )
        sessions.wake_mail = sender.wake
        return sender

    runtime = ServiceRuntime(
        settings,
        migrations=[MIGRATIONS],
        consumer_topics=[settings.dossier_events_topic],
        event_handlers=dossier_handlers(
            settings.reminder_offsets_minutes,
            lambda conn, dossier_id, after, bilan_only: sessions.cancel_future_sessions(
                conn, dossier_id, after, bilan_only=bilan_only
            ),
        ),
        clock=clock,
        run_background=run_background,
    )
    sessions = SessionService(
        pool=lambda: runtime.pool,
        store=lambda: runtime.store,
        clock=runtime.clock,
        settings=settings,
        keys=lambda: runtime.keys,
    )
    directory = DirectoryService(
        pool=lambda: runtime.pool,
        store=lambda: runtime.store,
        keys=lambda: runtime.keys,
        clock=runtime.clock,
        name_retention=timedelta(days=settings.staff_name_retention_days),
        blind_index_key=settings.blind_index_key_bytes(),
    )
    runtime.timer_handlers[SHRED_NAME] = directory.shred_name
    runtime.use_mail(make_sender)
    calendars = CalendarService(pool=lambda: runtime.pool, clock=runtime.clock, settings=settings)
    app = create_service_app(
        runtime,
        title="Bilan scheduling service",
        description=DESCRIPTION,
        idempotent_paths=IDEMPOTENT_PATHS,
    )
    app.state.scheduling_service = SchedulingService(
        runtime=runtime, sessions=sessions, directory=directory, calendars=calendars
    )
    install_routes(app)

    return app
