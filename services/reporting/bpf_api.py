"""`GET /v1/bpf` and `/v1/bpf.csv`: the annual BPF pre-fill of indicators.md, for the centre.

Same readers, period and site rules as the indicators (`api.py`). Without `site`, the CSV holds
the organisation-wide figures (what the centre files) and the same figures per site beside them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel, Field

from .api import (
    PERIOD_PROBLEM,
    PROBLEMS,
    FromQuery,
    Reader,
    SiteQuery,
    ToQuery,
    _period,
    _site_scope,
    flatten,
    known_sites,
)
from .indicators.bpf import bpf
from .projector import Projector

EXAMPLE: dict[str, Any] = {
    "from": "2025-01-01",
    "to": "2026-01-01",
    "site": None,
    "bilans": 2,
    "hours": 30.5,
    "trainees_by_type": {
        "a": {"count": 1, "hours": 18.0},
        "c": {"count": 1, "hours": 12.5},
        "d": {"count": 0, "hours": 0.0},
        "e": {"count": 0, "hours": 0.0},
    },
    "revenue_cents_by_line": {
        "C-1": 0,
        "C-2-e": 180000,
        "C-2-h": 0,
        "C-3": 0,
        "C-7": 93750,
        "C-9": 0,
    },
    "staff_hours": {"own": {"staff": 1, "hours": 24.0}, "external": {"staff": 1, "hours": 6.5}},
    "warnings": [
        {"dossier_id": "0b5e2f0e-8f3a-4f6a-b1c9-7d2e1a3c4b5d", "code": "cpf_status_unknown"}
    ],
}


class TraineeCount(BaseModel):
    count: int
    hours: float


class StaffHours(BaseModel):
    staff: int = Field(description="Distinct staff members who led the sessions.")
    hours: float


class BpfWarning(BaseModel):
    dossier_id: str
    code: str = Field(
        description="`no_signed_convention`, `zero_price`, `cpf_status_unknown` or "
        "`held_over_planned`."
    )


class BpfOut(BaseModel):
    """The BPF figures of a financial year (`[from, to)`), organisation-wide or for a site."""

    from_: str = Field(alias="from")
    to: str
    site: str | None
    bilans: int = Field(description="F-3 e: dossiers with a bilan-phase session in the year.")
    hours: float = Field(description="F-3 e: their bilan-phase hours held in the year.")
    trainees_by_type: dict[str, TraineeCount] = Field(description="F-1, types a, c, d, e.")
    revenue_cents_by_line: dict[str, int] = Field(description="C: revenue by line, in cents.")
    staff_hours: dict[str, StaffHours] = Field(description="E: `own` and `external` staff.")
    warnings: list[BpfWarning] = Field(description="What the centre should check before filing.")

    model_config = {"populate_by_name": True, "json_schema_extra": {"examples": [EXAMPLE]}}


def build_bpf_router(projector_of: Callable[[], Projector]) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["reporting"])

    @router.get(
        "/bpf",
        response_model=BpfOut,
        response_model_by_alias=True,
        summary="The BPF (cerfa 10443) figures of bilans de compétences for a financial year",
        responses={**PROBLEMS, **PERIOD_PROBLEM},
    )
    async def bpf_json(
        principal: Reader, first: FromQuery, to: ToQuery, site: SiteQuery = None
    ) -> BpfOut:
        _period(first, to)
        scope = _site_scope(principal, site)
        return BpfOut.model_validate(bpf(projector_of().store, first, to, scope))

    @router.get(
        "/bpf.csv",
        summary="The same figures as CSV: organisation-wide, then per site",
        response_class=Response,
        responses={
            **PROBLEMS,
            **PERIOD_PROBLEM,
            200: {
                "content": {
                    "text/csv": {
                        "example": "from,to,site,figure,value,dossier_id\n"
                        "2025-01-01,2026-01-01,org,bilans,2,\n"
                        "2025-01-01,2026-01-01,org,revenue_cents_by_line.C-7,93750,\n"
                    }
                }
            },
        },
    )
    async def bpf_csv(
        principal: Reader, first: FromQuery, to: ToQuery, site: SiteQuery = None
    ) -> Response:
        _period(first, to)
        scope = _site_scope(principal, site)
        scopes: list[str | None] = [scope]
        if scope is None:
            scopes.extend(sorted(known_sites(projector_of())))
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["from", "to", "site", "figure", "value", "dossier_id"])
        for current in scopes:
            figures = bpf(projector_of().store, first, to, current)
            row = [first.isoformat(), to.isoformat(), current or "org"]
            for name in ("bilans", "hours", "trainees_by_type", "revenue_cents_by_line"):
                for label, value in flatten(name, figures[name]):
                    writer.writerow([*row, label, value, ""])
            for label, value in flatten("staff_hours", figures["staff_hours"]):
                writer.writerow([*row, label, value, ""])
            for warning in figures["warnings"]:
                writer.writerow([*row, f"warning.{warning['code']}", 1, warning["dossier_id"]])
        return Response(
            out.getvalue(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="bpf.csv"'},
        )

    return router
