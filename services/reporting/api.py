"""The auditors' HTTP API: indicators (JSON and CSV), per-dossier checklist, consumer status.

Read-only, for the roles `auditor`, `quality_lead` and `admin`. A token limited to some sites
sees only those: it must name one of its sites, and another site's dossier answers 404.
Dossiers are known by their pseudonymous ids only; nothing personal is ever served.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from shared.auth import Principal, Role, require_roles
from shared.clock import Clock, SystemClock
from shared.web import Problem

from .indicators import checklist, compute
from .indicators.stats import iso
from .projector import Projector
from .status import StatusReader

Reader = Annotated[Principal, Depends(require_roles(Role.AUDITOR, Role.QUALITY_LEAD, Role.ADMIN))]

EXAMPLE_INDICATORS: dict[str, Any] = {
    "beneficiaries_started": {"value": 42},
    "abandonment_rate": {"value": 0.125, "numerator": 5, "denominator": 40},
    "satisfaction_mean": {"value": 4.4, "numerator": 132, "denominator": 30},
    "access_delay_days_median": {"value": 9.5},
    "no_show_rate": {"value": None, "numerator": 0, "denominator": 0},
    "abandonment_causes": {
        "value": {
            "by_reason_category": {"health": 2, "employment_found": 3},
            "by_phase_at_abandon": {"preliminary": 1, "investigation": 4, "none": 0},
        }
    },
}


def _problem(status: int, code: str, detail: str) -> dict[str, Any]:
    return {
        "description": detail,
        "content": {
            "application/problem+json": {
                "example": {
                    "type": f"urn:bilan:problem:{code}",
                    "title": code.replace("_", " ").capitalize(),
                    "status": status,
                    "detail": detail,
                    "code": code,
                }
            }
        },
    }


PROBLEMS: dict[int | str, dict[str, Any]] = {
    401: _problem(401, "unauthenticated", "missing or invalid bearer token"),
    403: _problem(403, "site_forbidden", "wrong role, or a site the token does not cover"),
    422: _problem(422, "invalid_request", "the request does not match the schema"),
}
PERIOD_PROBLEM: dict[int | str, dict[str, Any]] = {
    400: _problem(400, "invalid_period", "`from` must be a date before `to`")
}


class IndicatorsOut(BaseModel):
    """Every indicator of indicators.md for `[from, to)` and a site (or the organisation)."""

    from_: date = Field(alias="from", examples=["2025-01-01"])
    to: date = Field(examples=["2026-01-01"])
    site: str | None = Field(
        description="The site, or null for the whole organisation.",
        examples=["3f0c8a52-6d0e-4c4e-9a59-2a1d5e0b7c11"],
    )
    as_of: str = Field(description="When the figures were computed (UTC).")
    last_event_at: str | None = Field(
        description="Business time of the latest event projected: how fresh the figures are."
    )
    projection_state: str = Field(
        "live",
        description="`live`; `waiting_for_database` while a batch waits to be stored; the "
        "figures are those stored so far (see `/v1/status` for the lag).",
        examples=["live"],
    )
    indicators: dict[str, dict[str, Any]] = Field(
        description="Indicator name -> `{value}` for counts, medians and breakdowns, "
        "`{value, numerator, denominator}` for rates and means; a rate over 0 is null.",
        examples=[EXAMPLE_INDICATORS],
    )

    model_config = {"populate_by_name": True}


class CheckOut(BaseModel):
    holds: bool = Field(examples=[True])
    at: str | None = Field(description="When it became true.", examples=["2025-03-04T09:00:00Z"])
    held_minutes: int | None = Field(None, examples=[1200])


class ChecklistOut(BaseModel):
    """The compliance checklist of one dossier (pseudonymous id only)."""

    dossier_id: str = Field(examples=["0b5e2f0e-8f3a-4f6a-b1c9-7d2e1a3c4b5d"])
    site_id: str | None = Field(examples=["3f0c8a52-6d0e-4c4e-9a59-2a1d5e0b7c11"])
    checks: dict[str, CheckOut]


class PartitionStatus(BaseModel):
    topic: str = Field(examples=["bilan.dossier.events"])
    partition: int = Field(examples=[0])
    stored: int = Field(
        description="Next offset whose facts are stored in the projection.", examples=[1200]
    )
    position: int = Field(description="Same as `stored` (kept for older clients).", examples=[1200])
    committed: int | None = Field(
        description="The worker group's committed offset in Kafka (null before its first "
        "commit); it trails `stored` by what the worker has not committed yet.",
        examples=[1180],
    )
    end_offset: int = Field(examples=[1204])
    lag: int = Field(description="`end_offset - stored`.", examples=[4])
    gap: int = Field(
        description="`committed - stored` when positive: records the group committed but the "
        "projection does not hold (they are read back); 0 when healthy.",
        examples=[0],
    )


class StatusOut(BaseModel):
    """How far behind the topics the projection is."""

    generation: str | None = Field(examples=["proj_4a1b2c3d4e5f"])
    worker: str = Field(
        description="`joining` (after a start, while the stored projection is already "
        "served), `running`, or `died: <error>`.",
        examples=["running"],
    )
    projection: str = Field(
        description="`live`, or `waiting_for_database` while a batch waits to be stored.",
        examples=["live"],
    )
    partitions: list[PartitionStatus]
    total_lag: int = Field(examples=[4])
    total_gap: int = Field(
        description="Sum of the partitions' `gap`: 0 when healthy.", examples=[0]
    )
    gaps_filled: int = Field(
        description="Records read back since start because the group was ahead of the store.",
        examples=[0],
    )
    last_event_at: str | None = Field(examples=["2025-03-04T09:00:00Z"])
    last_processed_at: str | None = Field(examples=["2025-03-04T09:00:01Z"])
    events_processed: int = Field(description="Records handled since start.", examples=[1204])
    dead_lettered: dict[str, int] = Field(
        description="Undecodable records sent to `<topic>.dlq`, per topic.",
        examples=[{"bilan.survey.events": 1}],
    )


def _period(first: date, after_last: date) -> None:
    if first >= after_last:
        raise Problem(400, "invalid_period", "`from` must be a date before `to`")


def _site_scope(principal: Principal, site: UUID | None) -> str | None:
    if site is None:
        if not principal.all_sites:
            raise Problem(
                403, "site_required", "this token is limited to some sites: name one with `site`"
            )
        return None
    if not principal.can_act_on_site(site):
        raise Problem(403, "site_forbidden", "this token does not cover that site")
    return str(site)


FromQuery = Annotated[
    date, Query(alias="from", description="First day (UTC) of the period.", examples=["2025-01-01"])
]
ToQuery = Annotated[
    date, Query(description="Day after the period (UTC, excluded).", examples=["2026-01-01"])
]
SiteQuery = Annotated[
    UUID | None, Query(description="A site id; absent for the whole organisation.")
]


def build_router(
    projector_of: Callable[[], Projector],
    status_of: Callable[[], StatusReader],
    *,
    grace_days: int,
    clock: Clock | None = None,
) -> APIRouter:
    """The reporting endpoints; `projector_of` and `status_of` give the running parts (they
    exist once the app's lifespan started them)."""
    clock = clock or SystemClock()
    router = APIRouter(prefix="/v1", tags=["reporting"])

    def figures(first: date, after_last: date, site: str | None) -> dict[str, Any]:
        return compute(projector_of().engine, first, after_last, site, grace_days=grace_days)

    @router.get(
        "/indicators",
        response_model=IndicatorsOut,
        response_model_by_alias=True,
        summary="Every Qualiopi indicator for a period and a site",
        responses={**PROBLEMS, **PERIOD_PROBLEM},
    )
    async def indicators(
        principal: Reader, first: FromQuery, to: ToQuery, site: SiteQuery = None
    ) -> IndicatorsOut:
        _period(first, to)
        scope = _site_scope(principal, site)
        return IndicatorsOut(
            from_=first,
            to=to,
            site=scope,
            as_of=iso(clock.now().timestamp()) or "",
            last_event_at=iso(projector_of().store.last_event_at),
            projection_state=projector_of().state,
            indicators=figures(first, to, scope),
        )

    @router.get(
        "/indicators.csv",
        summary="The same figures as CSV, one row per indicator and site",
        response_class=Response,
        responses={
            **PROBLEMS,
            **PERIOD_PROBLEM,
            200: {
                "content": {
                    "text/csv": {
                        "example": "from,to,site,indicator,value,numerator,denominator\n"
                        "2025-01-01,2026-01-01,org,abandonment_rate,0.125,5,40\n"
                    }
                }
            },
        },
    )
    async def indicators_csv(
        principal: Reader, first: FromQuery, to: ToQuery, site: SiteQuery = None
    ) -> Response:
        _period(first, to)
        scope = _site_scope(principal, site)
        scopes: list[str | None] = [scope]
        if scope is None:
            # Organisation-wide, then every site the organisation has data for.
            scopes.extend(sorted(known_sites(projector_of())))
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["from", "to", "site", "indicator", "value", "numerator", "denominator"])
        for current in scopes:
            for name, figure in figures(first, to, current).items():
                for label, value in flatten(name, figure["value"]):
                    writer.writerow(
                        [
                            first.isoformat(),
                            to.isoformat(),
                            current or "org",
                            label,
                            "" if value is None else value,
                            figure.get("numerator", ""),
                            figure.get("denominator", ""),
                        ]
                    )
        return Response(
            out.getvalue(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="indicators.csv"'},
        )

    @router.get(
        "/dossiers/{dossier_id}/checklist",
        response_model=ChecklistOut,
        response_model_exclude_none=False,
        summary="The compliance checklist of one dossier",
        responses={
            **PROBLEMS,
            404: _problem(
                404, "dossier_not_found", "unknown dossier, or of a site the token does not cover"
            ),
        },
    )
    async def dossier_checklist(principal: Reader, dossier_id: UUID) -> ChecklistOut:
        found = checklist(projector_of().engine, str(dossier_id), grace_days=grace_days)
        site = None if found is None else found["site_id"]
        visible = found is not None and (
            principal.all_sites or (site is not None and principal.can_act_on_site(site))
        )
        if found is None or not visible:
            raise Problem(404, "dossier_not_found", "no such dossier in the projection")
        return ChecklistOut.model_validate(found)

    @router.get(
        "/status",
        response_model=StatusOut,
        summary="Consumer lag, last event, DLQ count",
        responses=PROBLEMS,
    )
    async def consumer_status(_principal: Reader) -> StatusOut:
        return StatusOut.model_validate(await status_of().read())

    return router


def known_sites(projector: Projector) -> set[str]:
    """Sites named by dossiers, complaints, staff or SiteOpened."""
    store = projector.store
    found = {d.site_id for d in store.dossiers.values() if d.site_id is not None}
    found.update(str(c.received[1]) for c in store.complaints.values() if c.received)
    found.update(s for s, f in store.sites.items() if f.opened is not None)
    return found


def flatten(name: str, value: Any) -> list[tuple[str, Any]]:
    """CSV rows of one figure's value: breakdowns become `name.key.subkey` leaves."""
    if isinstance(value, dict):
        rows: list[tuple[str, Any]] = []
        for key, inner in value.items():
            rows.extend(flatten(f"{name}.{key}", inner))
        return rows
    return [(name, value)]
