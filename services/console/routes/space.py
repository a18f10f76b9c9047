"""The beneficiary's own space: their bilan at a glance, the deontology notice, a session's
calendar entry. Every read goes to the services with the beneficiary's own token."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from icalendar import Calendar, Event

from services.console import overview
from services.console.deps import Beneficiary, CheckedForm, Console, ConsoleDep, MaybeSession
from services.console.i18n import _
from services.console.i18n import _ as translate  # dynamic texts, found by no extractor
from services.console.sessions import Session
from shared.auth import Role
from shared.web import Problem

router = APIRouter(include_in_schema=False)


@router.get("/")
async def home(request: Request, c: ConsoleDep, session: MaybeSession) -> Response:
    if session is None:
        return RedirectResponse("/connexion", status_code=303)
    if session.has_role(Role.BENEFICIARY):
        return RedirectResponse("/mon-bilan", status_code=303)
    return c.pages.render(request, "staff_home.html", session=session)


@router.get("/mon-bilan")
async def my_bilan(c: ConsoleDep, session: Beneficiary) -> Response:
    me = await c.backend.as_person(session, "dossier", "GET", f"/beneficiaries/{session.subject}")
    dossier_id = overview.choose_dossier(me.body.get("dossiers", []))
    if dossier_id is None:
        raise Problem(404, "no_dossier", "no bilan yet")
    return RedirectResponse(f"/mon-bilan/{dossier_id}", status_code=303)


async def _dossier(c: Console, session: Session, dossier_id: UUID) -> tuple[dict[str, Any], str]:
    reply = await c.backend.as_person(session, "dossier", "GET", f"/dossiers/{dossier_id}")
    return reply.body, reply.etag or '"0"'


@router.get("/mon-bilan/{dossier_id}")
async def bilan_at_a_glance(
    request: Request, c: ConsoleDep, session: Beneficiary, dossier_id: UUID
) -> Response:
    dossier, _etag = await _dossier(c, session, dossier_id)
    sessions = await c.backend.as_person(
        session, "scheduling", "GET", f"/dossiers/{dossier_id}/sessions", expect=(200, 404)
    )
    people = await c.backend.as_person(
        session,
        "scheduling",
        "GET",
        f"/dossiers/{dossier_id}/people-and-places",
        expect=(200, 404),
    )
    # Scheduling learns a dossier from the dossier service's events: moments after it opens
    # it may not know it yet (404), and there is simply nothing booked.
    booked = sessions.body if sessions.status == 200 else []
    directory = people.body if people.status == 200 else {"staff": [], "rooms": []}
    lines = overview.session_lines(booked, directory)
    now = c.clock.now()
    referent_id = dossier.get("referent_id")
    names = {s["staff_id"]: s["name"] for s in directory.get("staff", [])}
    all_steps = overview.steps(dossier)
    return c.pages.render(
        request,
        "bilan.html",
        session=session,
        dossier=dossier,
        phase=overview.status_label(dossier),
        referent=names.get(referent_id) if referent_id else None,
        steps=all_steps,
        next_step=overview.next_step(all_steps),
        upcoming=overview.upcoming(lines, now),
        past=overview.past(lines, now),
        phase_label=overview.phase_label,
    )


@router.get("/mon-bilan/{dossier_id}/deontologie")
async def deontology(
    request: Request, c: ConsoleDep, session: Beneficiary, dossier_id: UUID
) -> Response:
    dossier, _etag = await _dossier(c, session, dossier_id)
    notice = await c.backend.as_person(session, "dossier", "GET", "/deontology-notice")
    acknowledged = dossier.get("deontology_notice_version")
    return c.pages.render(
        request,
        "deontology.html",
        session=session,
        dossier=dossier,
        notice_version=notice.body["notice_version"],
        notice_text=translate(notice.body["text"]),
        acknowledged=acknowledged is not None and acknowledged >= notice.body["notice_version"],
    )


@router.post("/mon-bilan/{dossier_id}/deontologie")
async def acknowledge_deontology(
    c: ConsoleDep, session: Beneficiary, dossier_id: UUID, form: CheckedForm
) -> Response:
    _dossier_view, etag = await _dossier(c, session, dossier_id)
    version = str(form.get("notice_version", ""))
    if not version.isdigit():
        raise Problem(422, "invalid_form", "the notice version is missing")
    await c.backend.as_person(
        session,
        "dossier",
        "POST",
        f"/dossiers/{dossier_id}/deontology-acknowledgements",
        json={"notice_version": int(version)},
        headers={"If-Match": etag},
    )
    return RedirectResponse(f"/mon-bilan/{dossier_id}/deontologie?lu", status_code=303)


@router.get("/mon-bilan/{dossier_id}/seances/{session_id}.ics")
async def session_calendar_entry(
    c: ConsoleDep, session: Beneficiary, dossier_id: UUID, session_id: UUID
) -> Response:
    """ "Add to my calendar": one session as an iCalendar file."""
    found = await c.backend.as_person(session, "scheduling", "GET", f"/sessions/{session_id}")
    booked = found.body
    if booked["dossier_id"] != str(dossier_id):
        raise Problem(404, "not_found", "no such session")
    people = await c.backend.as_person(
        session, "scheduling", "GET", f"/dossiers/{dossier_id}/people-and-places"
    )
    (line,) = overview.session_lines([booked], people.body)
    starts = overview.parse_time(line.starts_at)
    calendar = Calendar()
    calendar.add("prodid", "-//Bilan//console//FR")
    calendar.add("version", "2.0")
    entry = Event()
    entry.add("uid", f"{line.session_id}@bilan")
    entry.add("dtstamp", c.clock.now())
    entry.add("dtstart", starts)
    entry.add("dtend", starts + timedelta(minutes=line.minutes))
    entry.add("summary", _("Bilan de compétences session"))
    if line.place:
        entry.add("location", line.place)
    elif line.join_link:
        entry.add("location", line.join_link)
    calendar.add_component(entry)
    return Response(
        calendar.to_ical(),
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="seance-{session_id}.ics"'},
    )


@router.post("/mon-bilan/{dossier_id}/seances/{session_id}/emargement")
async def sign_attendance(
    c: ConsoleDep, session: Beneficiary, dossier_id: UUID, session_id: UUID, _form: CheckedForm
) -> Response:
    """The beneficiary signs the attendance sheet of a session just held (émargement)."""
    found = await c.backend.as_person(session, "scheduling", "GET", f"/sessions/{session_id}")
    if found.body["dossier_id"] != str(dossier_id):
        raise Problem(404, "not_found", "no such session")
    await c.backend.as_person(
        session,
        "scheduling",
        "POST",
        f"/sessions/{session_id}/signatures",
        json={},
        headers={"If-Match": found.etag or '"0"'},
    )
    return RedirectResponse(f"/mon-bilan/{dossier_id}?emargement", status_code=303)
