"""The beneficiary moves a coming session to one of the consultant's free slots, or warns of
an absence, with a reason in their own words: the scheduling service records it as theirs and
tells the consultant by mail. Every call goes with the beneficiary's own token."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from services.console import overview
from services.console.deps import Beneficiary, CheckedForm, Console, ConsoleDep
from services.console.i18n import PARIS
from services.console.sessions import Session
from shared.web import Problem

router = APIRouter(include_in_schema=False)
REASONS = ("illness", "force_majeure", "scheduling_conflict", "other")
MAX_MESSAGE = 1000
SEARCH_DAYS = 21
STEP = timedelta(minutes=30)
PER_DAY = 4
MAX_CHOICES = 32
NOTICE = timedelta(hours=1)
"""A session is not moved to a time sooner than this: the consultant must read the mail."""


@dataclass(frozen=True, slots=True)
class Choice:
    starts_at: str
    """ISO 8601, UTC: what the form sends back."""


def slot_choices(
    slots: list[dict[str, Any]],
    minutes: int,
    current: str,
    *,
    not_before: datetime,
    zone: ZoneInfo = PARIS,
) -> list[Choice]:
    """Start times offered within the consultant's free slots: every half hour at which the
    session fits, from `not_before` on, at most a few per day, without the current start."""
    length = timedelta(minutes=minutes)
    found: list[Choice] = []
    per_day: dict[str, int] = {}
    now_start = overview.parse_time(current)
    for slot in slots:
        start, end = overview.parse_time(slot["starts_at"]), overview.parse_time(slot["ends_at"])
        # Offered times are on the half hour: a free stretch starting at 10:10 offers 10:30.
        minute = start.minute % 30
        if minute or start.second or start.microsecond:
            start = start.replace(second=0, microsecond=0) + timedelta(minutes=30 - minute)
        while start + length <= end and len(found) < MAX_CHOICES:
            day = start.astimezone(zone).date().isoformat()
            fits = start >= not_before and start != now_start
            if fits and per_day.get(day, 0) < PER_DAY:
                per_day[day] = per_day.get(day, 0) + 1
                found.append(Choice(start.isoformat()))
            start += STEP
    return found


async def _session_of(
    c: Console, session: Session, dossier_id: UUID, session_id: UUID
) -> tuple[dict[str, Any], str]:
    found = await c.backend.as_person(session, "scheduling", "GET", f"/sessions/{session_id}")
    if found.body["dossier_id"] != str(dossier_id):
        raise Problem(404, "not_found", "no such session")
    return found.body, found.etag or '"0"'


async def _page(
    request: Request,
    c: Console,
    session: Session,
    dossier_id: UUID,
    session_id: UUID,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    done: str | None = None,
) -> Response:
    booked, _etag = await _session_of(c, session, dossier_id, session_id)
    people = await c.backend.as_person(
        session, "scheduling", "GET", f"/dossiers/{dossier_id}/people-and-places"
    )
    (line,) = overview.session_lines([booked], people.body)
    choices: list[Choice] = []
    open_to_change = booked["status"] == "scheduled" and (
        overview.parse_time(booked["starts_at"]) > c.clock.now()
    )
    if open_to_change and done is None:
        today = c.clock.now().astimezone(PARIS).date()
        slots = await c.backend.as_person(
            session,
            "scheduling",
            "GET",
            f"/sessions/{session_id}/free-slots?from={today.isoformat()}"
            f"&to={(today + timedelta(days=SEARCH_DAYS)).isoformat()}",
        )
        choices = slot_choices(
            slots.body,
            int(booked["planned_minutes"]),
            booked["starts_at"],
            not_before=c.clock.now() + NOTICE,
        )
    return c.pages.render(
        request,
        "session_change.html",
        status=status,
        session=session,
        dossier_id=str(dossier_id),
        line=line,
        open_to_change=open_to_change,
        choices=choices,
        reasons=REASONS,
        errors=errors or {},
        values=values or {},
        done=done,
        phase_label=overview.phase_label,
    )


@router.get("/mon-bilan/{dossier_id}/seances/{session_id}/changer")
async def change_page(
    request: Request,
    c: ConsoleDep,
    session: Beneficiary,
    dossier_id: UUID,
    session_id: UUID,
    fait: str = "",
) -> Response:
    done = fait if fait in ("deplacee", "absence") else None
    return await _page(request, c, session, dossier_id, session_id, done=done)


def _message(form: Any, errors: dict[str, str], field: str) -> str:
    text = str(form.get(field, "")).strip()
    if not text:
        errors[field] = "required"
    elif len(text) > MAX_MESSAGE:
        errors[field] = "too_long"
    return text[:MAX_MESSAGE]


@router.post("/mon-bilan/{dossier_id}/seances/{session_id}/deplacement")
async def move(
    request: Request,
    c: ConsoleDep,
    session: Beneficiary,
    dossier_id: UUID,
    session_id: UUID,
    form: CheckedForm,
) -> Response:
    errors: dict[str, str] = {}
    starts_at = str(form.get("starts_at", ""))
    try:
        datetime.fromisoformat(starts_at)
    except ValueError:
        errors["starts_at"] = "required"
    message = _message(form, errors, "move_message")
    values = {"starts_at": starts_at, "move_message": message}
    if errors:
        return await _page(
            request, c, session, dossier_id, session_id, status=422, errors=errors, values=values
        )
    _booked, etag = await _session_of(c, session, dossier_id, session_id)
    reply = await c.backend.as_person(
        session,
        "scheduling",
        "POST",
        f"/sessions/{session_id}/move-request",
        json={"starts_at": starts_at, "message": message},
        headers={"If-Match": etag},
        expect=(200, 409, 422),
    )
    if reply.status != 200:
        # The slot was taken meanwhile, or the time is no longer a free one: choose again.
        code = reply.body.get("code", "") if isinstance(reply.body, dict) else ""
        errors["starts_at"] = "taken" if code != "session_started" else "started"
        return await _page(
            request, c, session, dossier_id, session_id, status=409, errors=errors, values=values
        )
    return RedirectResponse(
        f"/mon-bilan/{dossier_id}/seances/{session_id}/changer?fait=deplacee", status_code=303
    )


@router.post("/mon-bilan/{dossier_id}/seances/{session_id}/absence")
async def absence(
    request: Request,
    c: ConsoleDep,
    session: Beneficiary,
    dossier_id: UUID,
    session_id: UUID,
    form: CheckedForm,
) -> Response:
    errors: dict[str, str] = {}
    reason = str(form.get("reason", ""))
    if reason not in REASONS:
        errors["reason"] = "required"
    message = _message(form, errors, "absence_message")
    values = {"reason": reason, "absence_message": message}
    if errors:
        return await _page(
            request, c, session, dossier_id, session_id, status=422, errors=errors, values=values
        )
    _booked, etag = await _session_of(c, session, dossier_id, session_id)
    reply = await c.backend.as_person(
        session,
        "scheduling",
        "POST",
        f"/sessions/{session_id}/absence-notice",
        json={"reason": reason, "message": message},
        headers={"If-Match": etag},
        expect=(200, 409),
    )
    if reply.status != 200:
        errors["absence"] = "started"
        return await _page(
            request, c, session, dossier_id, session_id, status=409, errors=errors, values=values
        )
    return RedirectResponse(
        f"/mon-bilan/{dossier_id}/seances/{session_id}/changer?fait=absence", status_code=303
    )
