"""What every route needs: the service's parts, the callers' roles (once, for every router),
a session's answer, and the runner of a command on a session (`RunOnSession`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from uuid import UUID

from fastapi import Depends, Request, Response

from services.scheduling.api import schemas as b
from services.scheduling.application.access import LEADERS, MANAGERS, STAFF_READERS
from services.scheduling.application.calendars import CalendarService
from services.scheduling.application.directory import DirectoryService
from services.scheduling.application.sessions import SessionRequest, SessionService
from services.scheduling.domain import sessions as s
from shared.auth import Principal, Role, require_roles
from shared.runtime import ServiceRuntime
from shared.web import CommandContext, OnAggregate, set_etag


@dataclass(frozen=True, slots=True)
class SchedulingService:
    """The parts the routes call (built by the bootstrap, kept on `app.state`)."""

    runtime: ServiceRuntime
    sessions: SessionService
    directory: DirectoryService
    calendars: CalendarService


async def service(request: Request) -> SchedulingService:
    found: SchedulingService = request.app.state.scheduling_service
    return found


Service = Annotated[SchedulingService, Depends(service)]


@dataclass(frozen=True, slots=True)
class SessionCommand:
    """Run one request on the session of the route: in the request's transaction, at its
    `If-Match` version, answered with the session and its ETag. A route keeps its decorator,
    its role, its body and the line that builds its request, and ends in
    `return await run(session_id, Cancel(...), who)`."""

    svc: SchedulingService
    context: CommandContext

    async def __call__(
        self, session_id: UUID, request: SessionRequest, who: Principal
    ) -> b.SessionOut:
        state, version = await self.svc.sessions.execute(
            self.context.conn, who, session_id, self.context.expected_version, request
        )
        return session_out(state, self.context.answered(version))


async def session_command(svc: Service, context: OnAggregate) -> SessionCommand:
    return SessionCommand(svc, context)


RunOnSession = Annotated[SessionCommand, Depends(session_command)]
"""The dependency of a command on an existing session (service, transaction, If-Match)."""

InternalService = Annotated[Principal, Depends(require_roles(Role.SERVICE))]
Manager = Annotated[Principal, Depends(require_roles(*MANAGERS))]
Admin = Annotated[Principal, Depends(require_roles(Role.ADMIN))]
StaffReader = Annotated[Principal, Depends(require_roles(*STAFF_READERS))]
TrainingReader = Annotated[Principal, Depends(require_roles(*MANAGERS, Role.QUALITY_LEAD))]
Scheduler = Annotated[Principal, Depends(require_roles(*MANAGERS, *LEADERS))]
Signer = Annotated[Principal, Depends(require_roles(Role.BENEFICIARY, *LEADERS))]
OwnBeneficiary = Annotated[Principal, Depends(require_roles(Role.BENEFICIARY))]
SessionReader = Annotated[Principal, Depends(require_roles(Role.BENEFICIARY, *MANAGERS, *LEADERS))]


def session_out(state: s.Session, version: int, response: Response | None = None) -> b.SessionOut:
    if response is not None:
        set_etag(response, version)
    return b.SessionOut(
        session_id=state.session_id,
        dossier_id=state.dossier_id,
        site_id=state.site_id,
        consultant_id=state.consultant_id,
        room_id=state.room_id,
        modality=state.modality,
        phase=state.phase,
        starts_at=state.starts_at,
        planned_minutes=state.planned_minutes,
        status=state.status,
        join_link=state.join_link,
        held_started_at=state.held_started_at,
        held_minutes=state.held_minutes,
        signatures=b.Signatures(**state.signatures),
        version=version,
    )
