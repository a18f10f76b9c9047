"""What every route needs: the service parts, the caller as the policy sees them, versions."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated

import asyncpg
from fastapi import Depends, Header, Request, Response

from services.dossier.application.dossiers import DossierCommands
from services.dossier.application.views import ContentReader
from services.dossier.domain.access import Reader
from services.dossier.settings import Settings
from shared.auth import Principal, Role, require_roles
from shared.clock import Clock
from shared.db import Connection
from shared.runtime import ServiceRuntime
from shared.unit_of_work import unit_of_work
from shared.web import Problem

_ETAG = re.compile(r'^(?:W/)?"?(\d{1,9})"?$')
FUTURE_TOLERANCE = timedelta(minutes=5)


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


async def transaction(svc: Service) -> AsyncIterator[Connection]:
    """One transaction per request: a refused command leaves nothing behind."""
    async with unit_of_work(svc.pool) as conn:
        yield conn


# Function scope: the transaction commits before the response leaves, so a client never gets a
# success for a commit that then fails, nor reads its own write too early.
Tx = Annotated[Connection, Depends(transaction, scope="function")]


async def expected_version(
    raw: Annotated[
        str | None,
        Header(
            alias="If-Match",
            description='The version read (ETag), e.g. "3": required; a stale one gets 409.',
        ),
    ] = None,
) -> int:
    """The stream version from `If-Match` (428 when absent, 400 when not a version)."""
    if raw is None:
        raise Problem(
            428, "precondition_required", 'send If-Match: "<version>" from the ETag you read'
        )
    match = _ETAG.match(raw.strip())
    if match is None:
        raise Problem(400, "bad_if_match", 'If-Match must be a version, e.g. "3"')
    return int(match.group(1))


IfMatch = Annotated[int, Depends(expected_version)]


def set_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = f'"{version}"'


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
