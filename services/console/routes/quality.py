"""The quality lead's pages (issue 18): the complaints register and each complaint's workflow
(receipt, acknowledgement, answer, closing, within the deadlines the survey service sets and
enforces), the improvement actions, and the survey results. Read and written through the
survey service's API with the person's own token: it limits the register to their sites and
gives the free text of a survey only to the roles it allows (the page shows what it gets)."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from services.console.deps import CheckedForm, ConsoleDep, SignedIn
from services.console.refusals import (
    FORM,
    REFUSED,
    business_time,
    place,
    refusal_of,
    step_time,
    today,
)
from services.console.sessions import Session
from services.console.vocabulary import N_
from shared.auth import Role
from shared.web import Problem

router = APIRouter(include_in_schema=False)
HANDLER_ROLES = (Role.QUALITY_LEAD, Role.SITE_MANAGER, Role.ADMIN)
"""Who the survey service lets handle complaints and read survey scores."""
ACTION_ROLES = (Role.QUALITY_LEAD, Role.ADMIN)
"""Who the survey service lets open and complete improvement actions."""
STATUSES = ("received", "acknowledged", "answered", "closed")
ROLES = ("beneficiary", "funder", "employer", "staff", "other")
CATEGORIES = ("organisation", "content", "consultant", "billing", "accessibility", "other")
CHANNELS = ("email", "letter", "phone", "in_person", "web_form", "other")
RESOLUTIONS = ("upheld", "partially_upheld", "rejected")
SOURCES = ("complaint", "survey", "abandonment", "audit", "other")
MAX_TEXT = 4000

WORDS = (
    N_("complainant:beneficiary"),
    N_("complainant:funder"),
    N_("complainant:employer"),
    N_("complainant:staff"),
    N_("complainant:other"),
    N_("channel:email"),
    N_("channel:letter"),
    N_("channel:phone"),
    N_("channel:in_person"),
    N_("channel:web_form"),
    N_("channel:other"),
    N_("resolution:upheld"),
    N_("resolution:partially_upheld"),
    N_("resolution:rejected"),
    N_("source:complaint"),
    N_("source:survey"),
    N_("source:abandonment"),
    N_("source:audit"),
    N_("source:other"),
    N_("campaign:end_of_bilan"),
    N_("campaign:six_months"),
    N_("campaign:session_feedback"),
    N_("campaign:stakeholder"),
    N_("respondent:beneficiary"),
    N_("respondent:funder"),
    N_("respondent:employer"),
    N_("respondent:staff"),
)
"""Words built from the survey service's codes in the templates (for the extraction)."""

DATE_ERROR = N_("Give a date that has already come (day/month/year).")
TEXT_ERROR = N_("Write it (at most 4,000 characters).")
STEP_BY_CODE = {
    "complaint_already_acknowledged": (FORM, N_("This complaint is already acknowledged.")),
    "complaint_not_acknowledged": (FORM, N_("Acknowledge the complaint before answering it.")),
    "complaint_already_answered": (FORM, N_("This complaint is already answered.")),
    "complaint_not_answered": (FORM, N_("Answer the complaint before closing it.")),
    "complaint_already_closed": (FORM, N_("This complaint is closed.")),
    "time_before_previous_step": (
        "at",
        N_("A step comes after the previous one: give a later date."),
    ),
    "time_in_future": ("at", DATE_ERROR),
}
STEP_BY_FIELD = {
    "response": ("response", TEXT_ERROR),
    "resolution": ("resolution", N_("Choose the outcome.")),
    "at": ("at", DATE_ERROR),
}
RECEIVE_BY_CODE = {
    "channel_required": ("channel", N_("Say how the complaint was received.")),
    "dossier_not_found": ("dossier_id", N_("No such dossier at this site.")),
    "time_in_future": ("received_at", DATE_ERROR),
}
RECEIVE_BY_FIELD = {
    "site_id": ("site_id", N_("Choose the site.")),
    "dossier_id": ("dossier_id", N_("Give the dossier's identifier, or leave it empty.")),
    "complainant_role": ("complainant_role", N_("Say who complains.")),
    "category": ("category", N_("Choose what it is about.")),
    "channel": ("channel", N_("Say how the complaint was received.")),
    "description": ("description", TEXT_ERROR),
    "received_at": ("received_at", DATE_ERROR),
}
ACTION_BY_CODE = {
    "source_id_required": ("source_id", N_("This source needs the identifier of its record.")),
    "due_date_in_past": ("due_at", N_("The due date comes after today.")),
    "organisation_wide": (
        "site_id",
        N_("Only someone covering every site opens an organisation-wide action."),
    ),
    "action_already_completed": (FORM, N_("This action is already completed.")),
}
ACTION_BY_FIELD = {
    "source": ("source", N_("Choose where the action comes from.")),
    "source_id": ("source_id", N_("Give the record's identifier, or leave it empty.")),
    "site_id": ("site_id", N_("Choose the site.")),
    "owner_id": ("owner_id", N_("Choose who is responsible.")),
    "description": ("description", TEXT_ERROR),
    "due_at": ("due_at", N_("Give the due date (day/month/year).")),
    "at": (FORM, DATE_ERROR),
}


def _requires(session: Session, roles: tuple[Role, ...]) -> Session:
    if not any(session.has_role(role) for role in roles):
        raise Problem(403, "forbidden", "the quality pages are for quality leads")
    return session


async def handler(session: SignedIn) -> Session:
    return _requires(session, HANDLER_ROLES)


async def action_lead(session: SignedIn) -> Session:
    return _requires(session, ACTION_ROLES)


Handler = Annotated[Session, Depends(handler)]
ActionLead = Annotated[Session, Depends(action_lead)]


async def _site_names(c: ConsoleDep, session: Session) -> dict[str, str]:
    reply = await c.backend.as_person(session, "scheduling", "GET", "/sites")
    return {s["site_id"]: s["name"] for s in reply.body}


def _text(value: object) -> str:
    return str(value or "").strip()


# --- the complaints register ---------------------------------------------------------------


async def _register_page(
    request: Request,
    c: ConsoleDep,
    session: Session,
    *,
    status_filter: str | None = None,
    status: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
) -> Response:
    query = urlencode({"limit": 200, **({"status": status_filter} if status_filter else {})})
    complaints, sites = await asyncio.gather(
        c.backend.as_person(session, "survey", "GET", f"/complaints?{query}"),
        _site_names(c, session),
    )
    now_day = today(c.clock.now())
    return c.pages.render(
        request,
        "quality/complaints.html",
        status=status,
        session=session,
        complaints=complaints.body,
        sites=sites,
        statuses=STATUSES,
        status_filter=status_filter or "",
        roles=ROLES,
        categories=CATEGORIES,
        channels=[x for x in CHANNELS if x != "web_form"],
        errors=errors or {},
        values=values or {"received_at": now_day},
    )


@router.get("/qualite/reclamations")
async def register(
    request: Request, c: ConsoleDep, session: Handler, statut: str | None = None
) -> Response:
    return await _register_page(
        request, c, session, status_filter=statut if statut in STATUSES else None
    )


@router.post("/qualite/reclamations")
async def receive(request: Request, c: ConsoleDep, session: Handler, form: CheckedForm) -> Response:
    values = {
        k: _text(form.get(k))
        for k in (
            "site_id",
            "dossier_id",
            "complainant_role",
            "category",
            "channel",
            "description",
            "received_at",
        )
    }
    errors: dict[str, str] = {}
    for field, allowed in (
        ("complainant_role", ROLES),
        ("category", CATEGORIES),
        ("channel", CHANNELS),
    ):
        if values[field] not in allowed:
            errors[field] = RECEIVE_BY_FIELD[field][1]
    if not values["site_id"]:
        errors["site_id"] = RECEIVE_BY_FIELD["site_id"][1]
    if not values["description"] or len(values["description"]) > MAX_TEXT:
        errors["description"] = TEXT_ERROR
    dated, received_at = step_time(values["received_at"], c.clock.now())
    if not dated:
        errors["received_at"] = DATE_ERROR
    if errors:
        return await _register_page(request, c, session, status=422, errors=errors, values=values)
    body = {
        "site_id": values["site_id"],
        "dossier_id": values["dossier_id"] or None,
        "complainant_role": values["complainant_role"],
        "category": values["category"],
        "channel": values["channel"],
        "description": values["description"],
        "received_at": received_at,
    }
    reply = await c.backend.as_person(
        # 404: the dossier named is not one of this site's; said beside it.
        session,
        "survey",
        "POST",
        "/complaints",
        json=body,
        expect=(201, 404, *REFUSED),
    )
    if reply.status != 201:
        errors = place(refusal_of(reply), RECEIVE_BY_CODE, RECEIVE_BY_FIELD)
        return await _register_page(
            request, c, session, status=reply.status, errors=errors, values=values
        )
    return RedirectResponse(
        f"/qualite/reclamations/{reply.body['complaint_id']}?fait=recue", status_code=303
    )


async def _complaint_page(
    request: Request,
    c: ConsoleDep,
    session: Session,
    complaint_id: UUID,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    done: str | None = None,
) -> Response:
    complaint, sites = await asyncio.gather(
        c.backend.as_person(session, "survey", "GET", f"/complaints/{complaint_id}"),
        _site_names(c, session),
    )
    return c.pages.render(
        request,
        "quality/complaint.html",
        status=status,
        session=session,
        complaint=complaint.body,
        sites=sites,
        resolutions=RESOLUTIONS,
        can_open_action=any(session.has_role(r) for r in ACTION_ROLES),
        today=today(c.clock.now()),
        errors=errors or {},
        values=values or {},
        done=done,
    )


@router.get("/qualite/reclamations/{complaint_id}")
async def complaint_page(
    request: Request, c: ConsoleDep, session: Handler, complaint_id: UUID, fait: str | None = None
) -> Response:
    done = fait if fait in ("recue", "accusee", "repondue", "close") else None
    return await _complaint_page(request, c, session, complaint_id, done=done)


STEPS = {
    "accuse": ("acknowledgement", "accusee"),
    "reponse": ("answer", "repondue"),
    "cloture": ("closure", "close"),
}


@router.post("/qualite/reclamations/{complaint_id}/{step}")
async def complaint_step(
    request: Request,
    c: ConsoleDep,
    session: Handler,
    complaint_id: UUID,
    step: str,
    form: CheckedForm,
) -> Response:
    if step not in STEPS:
        raise Problem(404, "not_found", "no such step")
    path, done = STEPS[step]
    values = {k: _text(form.get(k)) for k in ("at", "response", "resolution")}
    errors: dict[str, str] = {}
    dated, at = step_time(values["at"], c.clock.now())
    if not dated:
        errors["at"] = DATE_ERROR
    body: dict[str, Any] = {"at": at}
    if step == "reponse":
        if not values["response"] or len(values["response"]) > MAX_TEXT:
            errors["response"] = TEXT_ERROR
        body["response"] = values["response"]
    if step == "cloture":
        if values["resolution"] not in RESOLUTIONS:
            errors["resolution"] = STEP_BY_FIELD["resolution"][1]
        body["resolution"] = values["resolution"]
    if not errors:
        current = await c.backend.as_person(session, "survey", "GET", f"/complaints/{complaint_id}")
        reply = await c.backend.as_person(
            session,
            "survey",
            "POST",
            f"/complaints/{complaint_id}/{path}",
            json=body,
            headers={"If-Match": current.etag or ""},
            expect=(200, *REFUSED),
        )
        if reply.status == 200:
            return RedirectResponse(
                f"/qualite/reclamations/{complaint_id}?fait={done}", status_code=303
            )
        errors = place(refusal_of(reply), STEP_BY_CODE, STEP_BY_FIELD)
    return await _complaint_page(
        request, c, session, complaint_id, status=422, errors=errors, values=values
    )


# --- improvement actions -------------------------------------------------------------------


async def _actions_page(
    request: Request,
    c: ConsoleDep,
    session: Session,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    done: str | None = None,
) -> Response:
    actions, sites = await asyncio.gather(
        c.backend.as_person(session, "survey", "GET", "/improvement-actions?limit=200"),
        _site_names(c, session),
    )
    listed = list(actions.body)
    listed.sort(key=lambda a: (a.get("completed_at") is not None, a["due_at"]))
    defaults = {"owner_id": session.subject, "source": request.query_params.get("source", "")}
    source_id = request.query_params.get("source_id", "")
    if source_id:
        defaults["source_id"] = source_id
    site = request.query_params.get("site", "")
    if site:
        defaults["site_id"] = site
    return c.pages.render(
        request,
        "quality/actions.html",
        status=status,
        session=session,
        actions=listed,
        sites=sites,
        sources=SOURCES,
        organisation_wide="*" in session.sites,
        errors=errors or {},
        values=values or defaults,
        done=done,
    )


@router.get("/qualite/actions")
async def actions_page(
    request: Request, c: ConsoleDep, session: ActionLead, fait: str | None = None
) -> Response:
    done = fait if fait in ("ouverte", "terminee") else None
    return await _actions_page(request, c, session, done=done)


@router.post("/qualite/actions")
async def open_action(
    request: Request, c: ConsoleDep, session: ActionLead, form: CheckedForm
) -> Response:
    values = {
        k: _text(form.get(k))
        for k in ("source", "source_id", "site_id", "owner_id", "description", "due_at")
    }
    errors: dict[str, str] = {}
    if values["source"] not in SOURCES:
        errors["source"] = ACTION_BY_FIELD["source"][1]
    if not values["owner_id"] or len(values["owner_id"]) > 100:
        errors["owner_id"] = ACTION_BY_FIELD["owner_id"][1]
    if not values["description"] or len(values["description"]) > MAX_TEXT:
        errors["description"] = TEXT_ERROR
    due_at = business_time(values["due_at"], c.clock.now())
    if due_at is None:
        errors["due_at"] = ACTION_BY_FIELD["due_at"][1]
    if values["source_id"]:
        try:
            UUID(values["source_id"])
        except ValueError:
            errors["source_id"] = ACTION_BY_FIELD["source_id"][1]
    if errors:
        return await _actions_page(request, c, session, status=422, errors=errors, values=values)
    body = {
        "source": values["source"],
        "source_id": values["source_id"] or None,
        "site_id": values["site_id"] or None,
        "owner_id": values["owner_id"],
        "description": values["description"],
        "due_at": due_at,
    }
    reply = await c.backend.as_person(
        session,
        "survey",
        "POST",
        "/improvement-actions",
        json=body,
        expect=(201, 403, *REFUSED),
    )
    if reply.status == 403:
        # An organisation-wide action by someone limited to their sites: said beside the site.
        errors = {"site_id": ACTION_BY_CODE["organisation_wide"][1]}
        return await _actions_page(request, c, session, status=403, errors=errors, values=values)
    if reply.status != 201:
        errors = place(refusal_of(reply), ACTION_BY_CODE, ACTION_BY_FIELD)
        return await _actions_page(
            request, c, session, status=reply.status, errors=errors, values=values
        )
    return RedirectResponse("/qualite/actions?fait=ouverte", status_code=303)


@router.post("/qualite/actions/{action_id}/terminee")
async def complete_action(
    request: Request, c: ConsoleDep, session: ActionLead, action_id: UUID, form: CheckedForm
) -> Response:
    current = await c.backend.as_person(
        session, "survey", "GET", f"/improvement-actions/{action_id}"
    )
    reply = await c.backend.as_person(
        session,
        "survey",
        "POST",
        f"/improvement-actions/{action_id}/completion",
        json={},
        headers={"If-Match": current.etag or ""},
        expect=(200, *REFUSED),
    )
    if reply.status != 200:
        errors = place(refusal_of(reply), ACTION_BY_CODE, ACTION_BY_FIELD)
        return await _actions_page(request, c, session, status=reply.status, errors=errors)
    return RedirectResponse("/qualite/actions?fait=terminee", status_code=303)


# --- survey results ------------------------------------------------------------------------


@router.get("/qualite/enquetes")
async def surveys_page(request: Request, c: ConsoleDep, session: Handler) -> Response:
    surveys, sites = await asyncio.gather(
        c.backend.as_person(session, "survey", "GET", "/surveys?status=answered&limit=200"),
        _site_names(c, session),
    )
    answered = list(surveys.body)
    scores = [s["satisfaction_score"] for s in answered if s.get("satisfaction_score")]
    mean = sum(scores) / len(scores) if scores else None
    return c.pages.render(
        request,
        "quality/surveys.html",
        session=session,
        surveys=answered,
        sites=sites,
        mean=None if mean is None else f"{mean:.1f}".replace(".", ","),
    )


@router.get("/qualite/enquetes/{survey_id}")
async def survey_page(
    request: Request, c: ConsoleDep, session: Handler, survey_id: UUID
) -> Response:
    survey, sites = await asyncio.gather(
        c.backend.as_person(session, "survey", "GET", f"/surveys/{survey_id}"),
        _site_names(c, session),
    )
    return c.pages.render(
        request, "quality/survey.html", session=session, survey=survey.body, sites=sites
    )
