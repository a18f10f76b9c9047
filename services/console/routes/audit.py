"""The quality and audit space, first part: every indicator of indicators.md for a period and
a site, with what it means and what it evidences, as the reporting service computes it (issue
19). Read with the signed-in person's own token: the reporting service decides which sites
they may see (a site-limited auditor gets 404 for another site)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

from babel.numbers import format_decimal, format_percent
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from services.console.deps import ConsoleDep, SignedIn
from services.console.indicator_meanings import BY_NAME, MEANINGS, Meaning
from services.console.sessions import Session
from shared.auth import Role
from shared.web import Problem

router = APIRouter(include_in_schema=False)
AUDIT_ROLES = (Role.AUDITOR, Role.QUALITY_LEAD, Role.ADMIN)
LOCALE = "fr_FR"
CSV_TIMEOUT_S = 60.0


async def auditor(session: SignedIn) -> Session:
    """Those who read the audit figures; the others get 403 in words."""
    if not any(session.has_role(role) for role in AUDIT_ROLES):
        raise Problem(403, "forbidden", "the audit space is for auditors and quality leads")
    return session


Auditor = Annotated[Session, Depends(auditor)]


def default_period(today: date) -> tuple[date, date]:
    """The last twelve whole months: what an annual audit looks at first."""
    first_of_month = today.replace(day=1)
    return first_of_month.replace(year=first_of_month.year - 1), first_of_month


def _number(value: float, digits: int = 1) -> str:
    return format_decimal(round(value, digits), locale=LOCALE)


def reading(meaning: Meaning | None, figure: dict[str, Any]) -> str:
    """The figure as a person reads it: "12,5 %", "4,4", "9,5 jours"; "—" when it has no
    population (a rate over 0)."""
    value = figure.get("value")
    unit = meaning.unit if meaning else "count"
    if value is None:
        return "—"
    if unit == "rate":
        return format_percent(value, format="#,##0.0 %", locale=LOCALE)
    if unit in ("mean", "days", "hours"):
        return _number(float(value))
    if isinstance(value, int | float):
        return format_decimal(value, locale=LOCALE)
    return ""


def breakdown(value: Any) -> list[tuple[str, str]]:
    """A nested figure (causes, situations, teams) as labelled lines."""
    lines: list[tuple[str, str]] = []
    if not isinstance(value, dict):
        return lines
    for key, inner in value.items():
        if isinstance(inner, dict):
            lines.append((str(key), ", ".join(f"{k} : {v}" for k, v in inner.items())))
        else:
            lines.append((str(key), str(inner)))
    return lines


@router.get("/audit/indicateurs")
async def indicators(
    request: Request,
    c: ConsoleDep,
    session: Auditor,
    du: Annotated[date | None, Query()] = None,
    au: Annotated[date | None, Query()] = None,
    site: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    first, until = default_period(c.clock.now().date())
    first, until = du or first, au or until
    errors: dict[str, str] = {}
    if first >= until:
        errors["au"] = "period"
        first, until = default_period(c.clock.now().date())
    params = f"from={first.isoformat()}&to={until.isoformat()}" + (f"&site={site}" if site else "")
    reply = await c.backend.as_person(session, "reporting", "GET", f"/v1/indicators?{params}")
    figures: dict[str, dict[str, Any]] = reply.body["indicators"]
    known = [m.name for m in MEANINGS if m.name in figures]
    rows = [
        {
            "name": name,
            "meaning": BY_NAME.get(name),
            "figure": figures[name],
            "reading": reading(BY_NAME.get(name), figures[name]),
            "lines": breakdown(figures[name].get("value")),
        }
        for name in [*known, *sorted(set(figures) - set(known))]
    ]
    return c.pages.render(
        request,
        "audit_indicators.html",
        session=session,
        rows=rows,
        first=first,
        last=until - timedelta(days=1),
        until=until,
        site=site or "",
        as_of=reply.body.get("last_event_at"),
        errors=errors,
        csv=f"/audit/indicateurs.csv?{params}",
    )


@router.get("/audit/indicateurs.csv")
async def indicators_csv(
    c: ConsoleDep,
    session: Auditor,
    du: Annotated[date, Query(alias="from")],
    au: Annotated[date, Query(alias="to")],
    site: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    """The reporting service's own CSV, for the same query."""
    params = f"from={du.isoformat()}&to={au.isoformat()}" + (f"&site={site}" if site else "")
    # Organisation-wide, the service computes every site in turn: longer than a page takes.
    reply = await c.backend.as_person(
        session, "reporting", "GET", f"/v1/indicators.csv?{params}", read_timeout_s=CSV_TIMEOUT_S
    )
    return Response(
        reply.content,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="indicateurs.csv"'},
    )
