"""What every route needs: the service's parts, the callers' roles, who sees what."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Generic, Protocol, TypeVar
from uuid import UUID

from fastapi import Depends, Path, Request

from services.survey.application.actions import ImprovementPlan
from services.survey.application.complaints import ComplaintRegister
from services.survey.application.surveys import SurveyCampaigns
from shared.aggregate.repository import Loaded
from shared.auth import Principal, Role, require_roles
from shared.clock import Clock
from shared.db import Connection
from shared.mail import MailSender
from shared.ratelimit import RateLimiter
from shared.runtime import ServiceRuntime
from shared.web import GuardedCommandContext, Problem


@dataclass(frozen=True, slots=True)
class SurveyService:
    """The parts the routes call (built by the bootstrap, kept on `app.state`)."""

    runtime: ServiceRuntime
    surveys: SurveyCampaigns
    complaints: ComplaintRegister
    actions: ImprovementPlan

    @property
    def clock(self) -> Clock:
        return self.runtime.clock

    @property
    def mail(self) -> MailSender | None:
        return self.runtime.mail


async def service(request: Request) -> SurveyService:
    found: SurveyService = request.app.state.survey_service
    return found


Service = Annotated[SurveyService, Depends(service)]


def public_limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.public_rate_limiter
    return limiter


Handler = Annotated[
    Principal, Depends(require_roles(Role.QUALITY_LEAD, Role.SITE_MANAGER, Role.ADMIN))
]
QualityLead = Annotated[Principal, Depends(require_roles(Role.QUALITY_LEAD, Role.ADMIN))]

# No length or pattern check on purpose: any wrong token, well formed or not, must get the same
# 404 through the same path (hash, one indexed look-up), never a 422 that tells them apart.
TokenPath = Annotated[str, Path(description="The token of the e-mailed link.")]
PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
PROBLEM_RATE_LIMITED: dict[str, Any] = {
    "description": "Too many requests from this client",
    "headers": {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}},
    "content": {"application/problem+json": {}},
}
STEP_ERRORS: dict[int | str, dict[str, Any]] = {
    404: PROBLEM,
    409: PROBLEM,
    422: PROBLEM,
    428: PROBLEM,
}


def require_organisation_wide(principal: Principal) -> None:
    """Organisation-wide records are made only by principals covering every site."""
    if not principal.all_sites:
        raise Problem(403, "organisation_wide", "this needs a token covering every site")


def visible(principal: Principal, site_id: object) -> bool:
    """Organisation-wide records (no site) are for principals covering every site."""
    if site_id is None or site_id == "org":
        return principal.all_sites
    return principal.can_act_on_site(str(site_id))


class Sited(Protocol):
    """A record of a site, or organisation-wide (no site)."""

    @property
    def site_id(self) -> object: ...


S = TypeVar("S", bound=Sited)
C = TypeVar("C")
C_contra = TypeVar("C_contra", contravariant=True)
R = TypeVar("R")


class StepHandler(Protocol[S, C_contra]):
    """The application side of a record's steps (the complaints register, the improvement
    plan): loading one, and running a command on it at the version the caller read."""

    async def load(self, conn: Connection, record_id: UUID) -> Loaded[S]: ...

    async def handle(
        self, conn: Connection, record_id: UUID, expected_version: int, command: C_contra
    ) -> Loaded[S]: ...


@dataclass(frozen=True, slots=True)
class NotFoundProblem:
    """The 404 of a record the caller may not see (or that does not exist: the same answer)."""

    code: str
    detail: str


async def visible_record(
    records: StepHandler[S, Any],
    conn: Connection,
    who: Principal,
    record_id: UUID,
    not_found: NotFoundProblem,
) -> Loaded[S]:
    """The record, if it exists and `who` may see it; else 404."""
    loaded = await records.load(conn, record_id)
    if loaded.state is None or not visible(who, loaded.state.site_id):
        raise Problem(404, not_found.code, not_found.detail)
    return loaded


@dataclass(frozen=True, slots=True)
class RunStep(Generic[S, C, R]):
    """Run one command on the record of the route (a complaint, an improvement action): the
    request's transaction, its `If-Match` and its response, with the record's handler and
    answer. A route keeps its decorator, its role, its body and the line that builds its
    command, and ends in `return await run(record_id, command, who)`."""

    records: StepHandler[S, C]
    out: Callable[[S, int, datetime], R]
    not_found: NotFoundProblem
    context: GuardedCommandContext
    clock: Clock

    async def __call__(self, record_id: UUID, command: C, who: Principal) -> R:
        conn = self.context.conn
        # Who may see it first: a stale or missing If-Match tells a stranger nothing.
        await visible_record(self.records, conn, who, record_id, self.not_found)
        saved = await self.records.handle(conn, record_id, self.context.expected_version(), command)
        assert saved.state is not None
        self.context.answered(saved.version)
        return self.out(saved.state, saved.version, self.clock.now())
