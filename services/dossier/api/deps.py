"""What every route needs: the service parts, the caller as the policy sees them, versions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Generic, Protocol, TypeVar
from uuid import UUID

import asyncpg
from fastapi import Depends, Request, Response

from services.dossier.api.schemas import CommandResult
from services.dossier.application.dossiers import Build, Check, DossierCommands, Outcome
from services.dossier.application.views import ContentReader
from services.dossier.domain import beneficiary as b
from services.dossier.domain import dossier as d
from services.dossier.domain.access import Reader
from services.dossier.settings import Settings
from shared.auth import Principal, Role, require_roles
from shared.clock import Clock
from shared.db import Connection
from shared.runtime import ServiceRuntime
from shared.web import CommandContext, OnAggregate, Problem
from shared.web import IfMatch as IfMatch  # the platform's, re-exported for the routes
from shared.web import Tx as Tx
from shared.web import set_etag as set_etag

FUTURE_TOLERANCE = timedelta(minutes=5)

S = TypeVar("S")
C = TypeVar("C")
C_contra = TypeVar("C_contra", contravariant=True)


@dataclass(frozen=True, slots=True)
class DossierService:
    """The parts the routes call."""

    runtime: ServiceRuntime
    commands: DossierCommands
    reader: ContentReader
    settings: Settings

    @property
    def pool(self) -> asyncpg.Pool:
        return self.runtime.pool

    @property
    def clock(self) -> Clock:
        return self.runtime.clock


async def service(request: Request) -> DossierService:
    found: DossierService = request.app.state.dossier_service
    return found


Service = Annotated[DossierService, Depends(service)]


class Execute(Protocol[S, C_contra]):
    """The application's executor of one aggregate type (`DossierCommands.execute`,
    `.execute_beneficiary`): load, authorise, build, decide, append, in `conn`."""

    async def __call__(
        self,
        conn: Connection,
        aggregate_id: str,
        build: Build[S, C_contra],
        /,
        *,
        expected_version: int | None,
        authorize: Check[S] | None = None,
    ) -> Outcome[S]: ...


@dataclass(frozen=True, slots=True)
class RunOn(Generic[S, C]):
    """Run one command on the aggregate of the route (a dossier, a beneficiary): the request's
    transaction, its `If-Match` version and its response, with the service and the
    aggregate's executor. A route keeps its decorator, its role, its body and the line that
    builds its command, and ends in `await run(aggregate_id, build, check)`."""

    svc: DossierService
    context: CommandContext
    execute: Execute[S, C]

    @property
    def conn(self) -> Connection:
        return self.context.conn

    @property
    def response(self) -> Response:
        return self.context.response

    def time(self, value: datetime | None) -> datetime:
        """The fact's business time as given, or now (`business_time`)."""
        return business_time(value, self.svc.clock)

    async def __call__(
        self, aggregate_id: UUID, build: Build[S, C], check: Check[S]
    ) -> CommandResult:
        outcome = await self.execute(
            self.conn,
            str(aggregate_id),
            build,
            expected_version=self.context.expected_version,
            authorize=check,
        )
        self.context.answered(outcome.version)
        return CommandResult(
            id=str(aggregate_id), version=outcome.version, events=[e.type for e in outcome.events]
        )


DossierCommand = RunOn[d.Dossier, d.Command]
BeneficiaryCommand = RunOn[b.Beneficiary, b.Command]


async def beneficiary_command(svc: Service, context: OnAggregate) -> BeneficiaryCommand:
    return RunOn(svc, context, svc.commands.execute_beneficiary)


RunOnBeneficiary = Annotated[BeneficiaryCommand, Depends(beneficiary_command)]
"""The dependency of a command on an existing beneficiary (service, transaction, If-Match)."""


async def dossier_command(svc: Service, context: OnAggregate) -> DossierCommand:
    return RunOn(svc, context, svc.commands.execute)


RunCommand = Annotated[DossierCommand, Depends(dossier_command)]
"""The dependency of a command on an existing dossier (service, transaction, If-Match)."""


def reader_of(principal: Principal) -> Reader:
    return Reader(
        principal.subject,
        frozenset(r.value for r in principal.roles),
        frozenset(principal.sites),
        principal.all_sites,
    )


def business_time(value: datetime | None, clock: Clock) -> datetime:
    """The fact's time as given, or now; a fact cannot happen in the future."""
    now = clock.now()
    if value is None:
        return now
    if value > now + FUTURE_TOLERANCE:
        raise Problem(422, "time_in_future", "a fact cannot be dated in the future")
    return value


STAFF = (
    Role.CONSULTANT,
    Role.PSYCHOLOGIST,
    Role.SITE_MANAGER,
    Role.QUALITY_LEAD,
    Role.AUDITOR,
    Role.ADMIN,
)
Anyone = Annotated[Principal, Depends(require_roles(Role.BENEFICIARY, *STAFF))]
Staff = Annotated[Principal, Depends(require_roles(*STAFF))]
Managers = Annotated[
    Principal,
    Depends(require_roles(Role.CONSULTANT, Role.PSYCHOLOGIST, Role.SITE_MANAGER, Role.ADMIN)),
]
ManagersOrBeneficiary = Annotated[
    Principal,
    Depends(
        require_roles(
            Role.BENEFICIARY, Role.CONSULTANT, Role.PSYCHOLOGIST, Role.SITE_MANAGER, Role.ADMIN
        )
    ),
]
Conductors = Annotated[Principal, Depends(require_roles(Role.CONSULTANT, Role.PSYCHOLOGIST))]
Assigners = Annotated[Principal, Depends(require_roles(Role.SITE_MANAGER, Role.ADMIN))]
DataProtection = Annotated[Principal, Depends(require_roles(Role.ADMIN, Role.QUALITY_LEAD))]
InternalService = Annotated[Principal, Depends(require_roles(Role.SERVICE))]
