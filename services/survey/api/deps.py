"""What every route needs: the service's parts, the callers' roles, who sees what."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Path, Request

from services.survey.application.actions import ImprovementPlan
from services.survey.application.complaints import ComplaintRegister
from services.survey.application.surveys import SurveyCampaigns
from shared.auth import Principal, Role, require_roles
from shared.clock import Clock
from shared.mail import MailSender
from shared.ratelimit import RateLimiter
from shared.runtime import ServiceRuntime
from shared.web import Problem


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
