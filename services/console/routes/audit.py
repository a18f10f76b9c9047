"""The quality and audit space, first part: every indicator of indicators.md for a period and
a site, with what it means and what it evidences, as the reporting service computes it (issue
19). Read with the signed-in person's own token: the reporting service decides which sites
they may see (a site-limited auditor gets 404 for another site)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode
from uuid import UUID

from babel.numbers import format_decimal, format_percent
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from services.console.deps import ConsoleDep, SignedIn
from services.console.i18n import _ as translate  # codes from the service, found by no extractor
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


def _query(first: date, until: date, site: str | None) -> str:
    """The reporting service's query for a period and a site (encoded: a site is typed)."""
    return urlencode(
        {"from": first.isoformat(), "to": until.isoformat(), **({"site": site} if site else {})}
    )


def reading(meaning: Meaning | None, figure: dict[str, Any]) -> str:
    """The figure as a person reads it: "12,5 %", "4,4", "9,5" (the unit is in its label);
    "—" when it has no population (a rate over 0)."""
    value = figure.get("value")
    unit = meaning.unit if meaning else "count"
    if value is None:
        return "—"
    if unit == "rate":
        return format_percent(value, format="#,##0.0 %", locale=LOCALE)
    if unit in ("mean", "days", "hours"):
        return format_decimal(round(float(value), 1), locale=LOCALE)
    if isinstance(value, int | float):
        return format_decimal(value, locale=LOCALE)
    return ""


def word(code: str) -> str:
    """A code of the reporting service in French: the audit's own word for it, else the
    console's (roles), else the code itself (a site's id)."""
    for message in (f"figure:{code}", code):
        text = translate(message)
        if text != message:
            return text
    return code


def _text(value: Any, *, nested: bool = False) -> str:
    if isinstance(value, dict):
        text = ", ".join(f"{word(str(k))} : {_text(v, nested=True)}" for k, v in value.items())
        return f"({text})" if nested else text
    if isinstance(value, bool):
        return word("yes" if value else "no")
    return str(value)


def breakdown(value: Any) -> list[tuple[str, str]]:
    """A nested figure (causes, situations, teams) as labelled lines, in French."""
    if not isinstance(value, dict):
        return []
    return [(word(str(key)), _text(inner)) for key, inner in value.items()]


def _is_uuid(text: str) -> bool:
    try:
        UUID(text)
    except ValueError:
        return False
    return True


def _row(name: str, figure: dict[str, Any]) -> dict[str, Any]:
    meaning = BY_NAME.get(name)
    return {
        "name": name,
        "meaning": meaning,
        "figure": figure,
        "reading": reading(meaning, figure),
        "lines": breakdown(figure.get("value")),
    }


@router.get("/audit/indicateurs")
async def indicators(
    request: Request,
    c: ConsoleDep,
    session: Auditor,
    du: Annotated[date | None, Query()] = None,
    au: Annotated[date | None, Query()] = None,
    site: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    default_first, default_until = default_period(c.clock.now().date())
    first, until = du or default_first, au or default_until
    errors: dict[str, str] = {}
    if first >= until:
        errors["au"] = "period"
        first, until = default_first, default_until
    typed_site = site or ""  # shown back in its field as typed
    if site and not _is_uuid(site):
        errors["site"] = "unknown"  # said next to the field; the organisation is shown
        site = None
    params = _query(first, until, site)
    reply = await c.backend.as_person(session, "reporting", "GET", f"/v1/indicators?{params}")
    figures: dict[str, dict[str, Any]] = reply.body["indicators"]
    known = [m.name for m in MEANINGS if m.name in figures]
    rows = [_row(name, figures[name]) for name in [*known, *sorted(set(figures) - set(known))]]
    return c.pages.render(
        request,
        "audit_indicators.html",
        session=session,
        rows=rows,
        first=first,
        last=until - timedelta(days=1),
        until=until,
        site=site or "",
        typed_site=typed_site,
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
    params = _query(du, au, site)
    # Organisation-wide, the service computes every site in turn: longer than a page takes.
    reply = await c.backend.as_person(
        session, "reporting", "GET", f"/v1/indicators.csv?{params}", read_timeout_s=CSV_TIMEOUT_S
    )
    return Response(
        reply.content,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="indicateurs.csv"'},
    )
