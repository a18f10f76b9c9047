"""Composition root: wires the runtime, the application services and the routes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from services.scheduling.api import build_router
from services.scheduling.application import beneficiary_notices
from services.scheduling.application.calendars import CalendarService
from services.scheduling.application.directory import SHRED_NAME, STAFF_REF, DirectoryService
from services.scheduling.application.reactions import dossier_handlers
from services.scheduling.application.reminders import TEMPLATE, reminder_renderer
from services.scheduling.application.sessions import SessionService
from services.scheduling.domain.rejection import Rejected, RejectionKind
from services.scheduling.settings import Settings
from shared.auth import internal_token_provider
from shared.clock import Clock
from shared.db import Connection
from shared.logging import get_logger
from shared.mail import (
    STOP_TIMEOUT_S,
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
from shared.web import problem_response

log = get_logger(__name__)
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
STATUS = {
    RejectionKind.NOT_FOUND: 404,
    RejectionKind.CONFLICT: 409,
    RejectionKind.INVALID: 422,
    RejectionKind.FORBIDDEN: 403,
    RejectionKind.GONE: 410,
}
DESCRIPTION = """Sites, rooms and staff (qualifications, habilitations, continuous training,
evaluations); sessions of bilans with convention gating, referent rule, confidential rooms, no
double booking and the 24-hour cap; attendance signatures and sheet; e-mail reminders; iCalendar
feeds and free slots. Errors are RFC 9457 problem documents with a `code`."""


class SchedulingRuntime(ServiceRuntime):
    """The platform runtime plus the mail loop that sends session reminders."""

    def __init__(
        self,
        settings: Settings,
        *,
        mail_sender_factory: Callable[[SchedulingRuntime], MailSender],
        **kwargs: Any,
    ) -> None:
        super().__init__(settings, **kwargs)
        self._mail_sender_factory = mail_sender_factory
        self.mail_sender: MailSender | None = None
        self._mail_task: asyncio.Task[None] | None = None

    def ensure_mail_sender(self) -> MailSender:
        """The mail sender (made once the pool exists)."""
        if self.mail_sender is None:
            self.mail_sender = self._mail_sender_factory(self)
            self.due_work["mail"] = self.mail_sender
        return self.mail_sender

    async def start_background(self) -> None:
        await super().start_background()
        self._mail_task = asyncio.create_task(
            self.ensure_mail_sender().run(), name="scheduling-mail"
        )
        self.watch("mail", self._mail_task)

    async def stop(self) -> None:
        if self._mail_task is not None:
            # The loop returns between two sends: a mail being sent is finished first.
            self.forget("mail")
            self.ensure_mail_sender().stop()
            try:
                await asyncio.wait_for(self._mail_task, STOP_TIMEOUT_S)
            except Exception as exc:  # a timeout, or the loop had died already
                log.warning("mail_loop_stopped_abruptly", error=type(exc).__name__)
            self._mail_task = None
        if self.mail_sender is not None:
            await self.mail_sender.aclose()
        await super().stop()


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

    def make_sender(runtime: SchedulingRuntime) -> MailSender:
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

        sender = MailSender(
            service=settings.service_name,
            pool=runtime.pool,
            clock=runtime.clock,
            transport=mail_transport or SmtpTransport(settings),
            resolver=resolver,
            renderers={
                TEMPLATE: reminder_renderer(settings.display_timezone),
                beneficiary_notices.TEMPLATE: beneficiary_notices.notice_renderer(
                    lambda: runtime.keys, settings.display_timezone
                ),
            },
            mail_from=settings.mail_from,
            on_sent={TEMPLATE: on_sent, beneficiary_notices.TEMPLATE: notice_sent},
            poll_interval_s=settings.mail_poll_interval_s,
        )
        sessions.wake_mail = sender.wake
        return sender

    runtime = SchedulingRuntime(
        settings,
        mail_sender_factory=make_sender,
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
    calendars = CalendarService(pool=lambda: runtime.pool, clock=runtime.clock, settings=settings)
    app = create_service_app(
        runtime,
        title="Bilan scheduling service",
        description=DESCRIPTION,
        idempotent_paths=IDEMPOTENT_PATHS,
    )
    app.include_router(build_router(sessions, directory, calendars))

    @app.exception_handler(Rejected)
    async def _rejected(request: Request, exc: Rejected) -> JSONResponse:
        return problem_response(request, STATUS[exc.kind], exc.code, exc.detail, **exc.extra)

    return app
