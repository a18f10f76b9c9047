"""The site manager's pages (issue 18): the team of their sites — onboarding, qualifications
and habilitations, continuous training, competence evaluations, departure — the rooms, and who
is the referent of each dossier. Everything goes through the scheduling and dossier services'
APIs with the manager's own token: those services decide which sites and people they may
touch (another site's id gets their 404), and each refusal is shown beside its field."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from services.console.deps import CheckedForm, ConsoleDep, SignedIn
from services.console.i18n import _ as translate
from services.console.i18n import day
from services.console.refusals import (
    FORM,
    REFUSED,
    business_time,
    place,
    refusal_of,
    today,
)
from services.console.sessions import Session
from services.console.vocabulary import N_
from shared.auth import Role
from shared.web import Problem

router = APIRouter(include_in_schema=False)
MANAGER_ROLES = (Role.SITE_MANAGER, Role.ADMIN)
ROLES = ("consultant", "psychologist", "site_manager", "quality_lead", "disability_referent")
CONTRACTS = ("employee", "subcontractor")
QUALIFICATIONS = (
    "psychologue",
    "master_psychologie",
    "master_psychologie_travail",
    "dess_psychologie",
    "doctorat_psychologie",
    "master_rh",
    "titre_conseiller_bilan",
    "referent_handicap",
    "autre_qualification",
)
HABILITATIONS = ("psychometric_tests",)
REGISTRIES = ("adeli", "rpps")
TRAININGS = (
    "deontologie_bilan",
    "psychometrie",
    "accueil_handicap",
    "entretien_explicitation",
    "marche_du_travail",
    "rgpd",
    "autre_formation",
)
OUTCOMES = ("meets", "partially_meets", "does_not_meet")
REASONS = ("initial", "unavailability", "beneficiary_request", "other")
REFERENT_ROLES = ("consultant", "psychologist")
MAX_TEAM = 100
DONE_MEMBER = ("accueil", "qualification", "formation", "evaluation", "depart")

WORDS = (
    N_("contract:employee"),
    N_("contract:subcontractor"),
    N_("qualification:psychologue"),
    N_("qualification:master_psychologie"),
    N_("qualification:master_psychologie_travail"),
    N_("qualification:dess_psychologie"),
    N_("qualification:doctorat_psychologie"),
    N_("qualification:master_rh"),
    N_("qualification:titre_conseiller_bilan"),
    N_("qualification:referent_handicap"),
    N_("qualification:autre_qualification"),
    N_("habilitation:psychometric_tests"),
    N_("registry:adeli"),
    N_("registry:rpps"),
    N_("training:deontologie_bilan"),
    N_("training:psychometrie"),
    N_("training:accueil_handicap"),
    N_("training:entretien_explicitation"),
    N_("training:marche_du_travail"),
    N_("training:rgpd"),
    N_("training:autre_formation"),
    N_("outcome:meets"),
    N_("outcome:partially_meets"),
    N_("outcome:does_not_meet"),
    N_("reason:initial"),
    N_("reason:unavailability"),
    N_("reason:beneficiary_request"),
    N_("reason:other"),
    N_("record:qualification"),
    N_("record:training"),
    N_("record:evaluation"),
)
"""Words built from the services' codes in the templates, for the catalogue's extraction."""

DATE_ERROR = N_("Give a date that has already come (day/month/year).")
ONBOARD_BY_CODE = {
    "email_in_use": ("email", N_("Another member of staff already signs in with this address.")),
    "site_unknown": ("site_ids", N_("Choose sites that are open.")),
    "roles_and_sites_required": ("roles", N_("Choose at least one role and one site.")),
    "staff_exists": (FORM, N_("This person is already in the team.")),
}
ONBOARD_BY_FIELD = {
    "name": ("name", N_("Give the person's name (at most 200 characters).")),
    "email": ("email", N_("Give a work e-mail address, such as claire.dubois@centre.fr.")),
    "roles": ("roles", N_("Choose at least one role.")),
    "site_ids": ("site_ids", N_("Choose at least one site.")),
    "contract": ("contract", N_("Choose the contract.")),
}
QUALIFICATION_BY_CODE = {
    "psychologist_title_required": (
        "qualification",
        N_("Psychometric tests need a psychologist's title (psychologue, master in psychology)."),
    ),
    "psychologist_registration_required": (
        "number",
        N_("Psychometric tests need the title's ADELI or RPPS number."),
    ),
    "registration_number_invalid": (
        "number",
        N_("An ADELI number has 9 digits, an RPPS number 11."),
    ),
    "registration_registry_required": (
        "registry",
        N_("Say whether the number is an ADELI or an RPPS number."),
    ),
    "time_in_future": ("recorded_at", DATE_ERROR),
    "time_invalid": ("recorded_at", DATE_ERROR),
    "staff_left": (FORM, N_("This person has left: their record is closed.")),
}
QUALIFICATION_BY_FIELD = {
    "qualification": ("qualification", N_("Choose the qualification.")),
    "habilitations": ("habilitations", N_("Choose habilitations from the list.")),
    "registry": ("registry", N_("Say whether the number is an ADELI or an RPPS number.")),
    "number": ("number", N_("An ADELI number has 9 digits, an RPPS number 11.")),
    "psychologist_registration": ("number", N_("An ADELI number has 9 digits, an RPPS number 11.")),
    "recorded_at": ("recorded_at", DATE_ERROR),
}
TRAINING_BY_CODE = {
    "hours_invalid": ("hours", N_("Give the hours, more than 0 and at most 1,000.")),
    "time_in_future": ("completed_at", DATE_ERROR),
    "staff_left": (FORM, N_("This person has left: their record is closed.")),
}
TRAINING_BY_FIELD = {
    "title_code": ("title_code", N_("Choose the training.")),
    "hours": ("hours", N_("Give the hours, more than 0 and at most 1,000.")),
    "completed_at": ("completed_at", DATE_ERROR),
}
EVALUATION_BY_CODE = {
    "time_in_future": ("evaluated_at", DATE_ERROR),
    "staff_left": (FORM, N_("This person has left: their record is closed.")),
}
EVALUATION_BY_FIELD = {
    "outcome": ("outcome", N_("Choose the outcome.")),
    "evaluated_at": ("evaluated_at", DATE_ERROR),
}
LEAVING_BY_CODE = {
    "time_in_future": ("left_at", DATE_ERROR),
    "time_invalid": ("left_at", N_("One leaves after joining: give a later date.")),
    "staff_left": (FORM, N_("This person has left: their record is closed.")),
}
LEAVING_BY_FIELD = {"left_at": ("left_at", DATE_ERROR)}
ROOM_BY_CODE = {"room_exists": ("room_name", N_("This room is already registered."))}
ROOM_BY_FIELD = {
    "name": ("room_name", N_("Give the room's name (at most 200 characters).")),
    "confidential": ("confidential", N_("Say whether the room keeps an interview confidential.")),
}
REFERENT_BY_CODE = {
    "referent_not_eligible": (
        "consultant_id",
        N_("Choose a consultant or psychologist who works at the dossier's site."),
    ),
    "consultant_unknown": (
        "consultant_id",
        N_("This person is not known to the dossier service yet: try again in a moment."),
    ),
    "already_referent": ("consultant_id", N_("This person is already the referent.")),
    "first_assignment_is_initial": (
        "reason",
        N_("The first referent of a dossier is named with the reason “first referent”."),
    ),
    "change_needs_reason": (
        "reason",
        N_("A change of referent says why: choose another reason than “first referent”."),
    ),
}
REFERENT_BY_FIELD = {
    "consultant_id": ("consultant_id", N_("Choose the referent.")),
    "reason": ("reason", N_("Choose the reason.")),
}


async def manager(session: SignedIn) -> Session:
    """A site manager (or an admin); the others get 403 in words."""
    if not any(session.has_role(role) for role in MANAGER_ROLES):
        raise Problem(403, "forbidden", "the team pages are for site managers")
    return session


Manager = Annotated[Session, Depends(manager)]


# --- reads ---------------------------------------------------------------------------------


async def _sites(c: ConsoleDep, session: Session) -> list[dict[str, Any]]:
    reply = await c.backend.as_person(session, "scheduling", "GET", "/sites")
    return list(reply.body)


async def _site(c: ConsoleDep, session: Session, site_id: UUID) -> dict[str, Any]:
    """The site, if the person's token covers it (else 404, as the services answer)."""
    for site in await _sites(c, session):
        if site["site_id"] == str(site_id):
            return site
    raise Problem(404, "not_found", "no such site")


async def _member(c: ConsoleDep, session: Session, staff_id: UUID | str) -> tuple[Any, str]:
    reply = await c.backend.as_person(session, "scheduling", "GET", f"/staff/{staff_id}")
    return reply.body, reply.etag or ""


async def _team(c: ConsoleDep, session: Session, site_id: UUID) -> list[dict[str, Any]]:
    """The site's staff with their names: the list has none, each detail has (read with the
    manager's token, as the service allows)."""
    listed = await c.backend.as_person(session, "scheduling", "GET", f"/sites/{site_id}/staff")
    rows = list(listed.body)[:MAX_TEAM]
    details = await asyncio.gather(*(_member(c, session, r["staff_id"]) for r in rows))
    team = [body for body, _etag in details]
    team.sort(key=lambda m: (m.get("left_at") is not None, (m.get("name") or "").lower()))
    return team


@router.get("/equipe/site")
async def my_sites(request: Request, c: ConsoleDep, session: Manager) -> Response:
    sites = await _sites(c, session)
    if len(sites) == 1:
        return RedirectResponse(f"/equipe/site/{sites[0]['site_id']}", status_code=303)
    return c.pages.render(request, "staff/team_sites.html", session=session, sites=sites)


async def _site_page(
    request: Request,
    c: ConsoleDep,
    session: Session,
    site_id: UUID,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    done: str | None = None,
) -> Response:
    site = await _site(c, session, site_id)
    team, rooms, sites = await asyncio.gather(
        _team(c, session, site_id),
        c.backend.as_person(session, "scheduling", "GET", f"/sites/{site_id}/rooms"),
        _sites(c, session),
    )
    return c.pages.render(
        request,
        "staff/team_site.html",
        status=status,
        session=session,
        site=site,
        sites=sites,
        team=team,
        rooms=rooms.body,
        roles=ROLES,
        contracts=CONTRACTS,
        errors=errors or {},
        values=values or {"site_ids": [str(site_id)], "contract": "employee"},
        done=done,
    )


@router.get("/equipe/site/{site_id}")
async def site_page(
    request: Request, c: ConsoleDep, session: Manager, site_id: UUID, fait: str | None = None
) -> Response:
    done = fait if fait in ("salle",) else None
    return await _site_page(request, c, session, site_id, done=done)


@router.post("/equipe/site/{site_id}/membres")
async def onboard(
    request: Request, c: ConsoleDep, session: Manager, site_id: UUID, form: CheckedForm
) -> Response:
    name = str(form.get("name", "")).strip()
    email = str(form.get("email", "")).strip()
    roles = [r for r in form.getlist("roles") if r in ROLES]
    site_ids = [str(s) for s in form.getlist("site_ids")]
    contract = str(form.get("contract", ""))
    values: dict[str, Any] = {
        "name": name,
        "email": email,
        "roles": roles,
        "site_ids": site_ids,
        "contract": contract,
    }
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = ONBOARD_BY_FIELD["name"][1]
    if not roles:
        errors["roles"] = ONBOARD_BY_FIELD["roles"][1]
    if not site_ids:
        errors["site_ids"] = ONBOARD_BY_FIELD["site_ids"][1]
    if contract not in CONTRACTS:
        errors["contract"] = ONBOARD_BY_FIELD["contract"][1]
    if errors:
        return await _site_page(
            request, c, session, site_id, status=422, errors=errors, values=values
        )
    body: dict[str, Any] = {
        "name": name,
        "roles": roles,
        "site_ids": site_ids,
        "contract": contract,
        **({"email": email} if email else {}),
    }
    reply = await c.backend.as_person(
        session, "scheduling", "POST", "/staff", json=body, expect=(201, *REFUSED)
    )
    if reply.status != 201:
        errors = place(refusal_of(reply), ONBOARD_BY_CODE, ONBOARD_BY_FIELD)
        return await _site_page(
            request, c, session, site_id, status=reply.status, errors=errors, values=values
        )
    return RedirectResponse(
        f"/equipe/membres/{reply.body['staff_id']}?fait=accueil", status_code=303
    )


@router.post("/equipe/site/{site_id}/salles")
async def add_room(
    request: Request, c: ConsoleDep, session: Manager, site_id: UUID, form: CheckedForm
) -> Response:
    name = str(form.get("room_name", "")).strip()
    confidential = str(form.get("confidential", ""))
    values: dict[str, Any] = {"room_name": name, "confidential": confidential}
    errors: dict[str, str] = {}
    if not name:
        errors["room_name"] = ROOM_BY_FIELD["name"][1]
    if confidential not in ("yes", "no"):
        errors["confidential"] = ROOM_BY_FIELD["confidential"][1]
    if errors:
        return await _site_page(
            request, c, session, site_id, status=422, errors=errors, values=values
        )
    reply = await c.backend.as_person(
        session,
        "scheduling",
        "POST",
        f"/sites/{site_id}/rooms",
        json={"name": name, "confidential": confidential == "yes"},
        expect=(201, *REFUSED),
    )
    if reply.status != 201:
        errors = place(refusal_of(reply), ROOM_BY_CODE, ROOM_BY_FIELD)
        return await _site_page(
            request, c, session, site_id, status=reply.status, errors=errors, values=values
        )
    return RedirectResponse(f"/equipe/site/{site_id}?fait=salle#salles", status_code=303)


# --- one member of staff -------------------------------------------------------------------


async def _member_page(
    request: Request,
    c: ConsoleDep,
    session: Session,
    staff_id: UUID,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    form_name: str | None = None,
    done: str | None = None,
) -> Response:
    member, _etag = await _member(c, session, staff_id)
    sites = {s["site_id"]: s["name"] for s in await _sites(c, session)}
    now_day = today(c.clock.now())
    return c.pages.render(
        request,
        "staff/team_member.html",
        status=status,
        session=session,
        member=member,
        site_names=sites,
        qualifications=QUALIFICATIONS,
        habilitations=HABILITATIONS,
        registries=REGISTRIES,
        trainings=TRAININGS,
        outcomes=OUTCOMES,
        today=now_day,
        errors=errors or {},
        values=values or {},
        form_name=form_name,
        done=done,
    )


@router.get("/equipe/membres/{staff_id}")
async def member_page(
    request: Request, c: ConsoleDep, session: Manager, staff_id: UUID, fait: str | None = None
) -> Response:
    done = fait if fait in DONE_MEMBER else None
    return await _member_page(request, c, session, staff_id, done=done)


async def _record(
    request: Request,
    c: ConsoleDep,
    session: Session,
    staff_id: UUID,
    *,
    form_name: str,
    path: str,
    body: dict[str, Any],
    values: dict[str, Any],
    errors: dict[str, str],
    by_code: dict[str, tuple[str, str]],
    by_field: dict[str, tuple[str, str]],
    done: str,
) -> Response:
    """Post one record of a staff member at the version read, or show the form again."""
    if not errors:
        _member_now, etag = await _member(c, session, staff_id)
        reply = await c.backend.as_person(
            session,
            "scheduling",
            "POST",
            f"/staff/{staff_id}/{path}",
            json=body,
            headers={"If-Match": etag},
            expect=(200, *REFUSED),
        )
        if reply.status == 200:
            return RedirectResponse(f"/equipe/membres/{staff_id}?fait={done}", status_code=303)
        errors = place(refusal_of(reply), by_code, by_field)
    return await _member_page(
        request,
        c,
        session,
        staff_id,
        status=422,
        errors=errors,
        values=values,
        form_name=form_name,
    )


def _day(form: FormData, field: str, c: ConsoleDep, errors: dict[str, str]) -> str | None:
    moment = business_time(str(form.get(field, "")), c.clock.now())
    if moment is None:
        errors[field] = DATE_ERROR
    return moment


@router.post("/equipe/membres/{staff_id}/qualifications")
async def qualification(
    request: Request, c: ConsoleDep, session: Manager, staff_id: UUID, form: CheckedForm
) -> Response:
    errors: dict[str, str] = {}
    code = str(form.get("qualification", ""))
    habilitations = [h for h in form.getlist("habilitations") if h in HABILITATIONS]
    registry = str(form.get("registry", ""))
    number = "".join(str(form.get("number", "")).split())  # "69 93 01234" as typed
    if code not in QUALIFICATIONS:
        errors["qualification"] = QUALIFICATION_BY_FIELD["qualification"][1]
    if registry not in ("", *REGISTRIES):
        errors["registry"] = QUALIFICATION_BY_FIELD["registry"][1]
    if number and not registry:
        errors["registry"] = QUALIFICATION_BY_FIELD["registry"][1]
    if registry and not number:
        errors["number"] = QUALIFICATION_BY_FIELD["number"][1]
    recorded_at = _day(form, "recorded_at", c, errors)
    body: dict[str, Any] = {
        "qualification": code,
        "habilitations": habilitations,
        "recorded_at": recorded_at,
    }
    if registry and number:
        # The service checks the digits of each register; its refusal is said beside the number.
        body["psychologist_registration"] = {"registry": registry, "number": number}
    values = {
        "qualification": code,
        "habilitations": habilitations,
        "registry": registry,
        "number": number,
        "recorded_at": str(form.get("recorded_at", "")),
    }
    return await _record(
        request,
        c,
        session,
        staff_id,
        form_name="qualification",
        path="qualifications",
        body=body,
        values=values,
        errors=errors,
        by_code=QUALIFICATION_BY_CODE,
        by_field=QUALIFICATION_BY_FIELD,
        done="qualification",
    )


@router.post("/equipe/membres/{staff_id}/formations")
async def training(
    request: Request, c: ConsoleDep, session: Manager, staff_id: UUID, form: CheckedForm
) -> Response:
    errors: dict[str, str] = {}
    title = str(form.get("title_code", ""))
    raw_hours = str(form.get("hours", "")).strip().replace(",", ".")
    if title not in TRAININGS:
        errors["title_code"] = TRAINING_BY_FIELD["title_code"][1]
    hours: float | None = None
    try:
        hours = float(raw_hours)
    except ValueError:
        errors["hours"] = TRAINING_BY_FIELD["hours"][1]
    completed_at = _day(form, "completed_at", c, errors)
    values = {
        "title_code": title,
        "hours": str(form.get("hours", "")),
        "completed_at": str(form.get("completed_at", "")),
    }
    return await _record(
        request,
        c,
        session,
        staff_id,
        form_name="training",
        path="trainings",
        body={"title_code": title, "hours": hours, "completed_at": completed_at},
        values=values,
        errors=errors,
        by_code=TRAINING_BY_CODE,
        by_field=TRAINING_BY_FIELD,
        done="formation",
    )


@router.post("/equipe/membres/{staff_id}/evaluations")
async def evaluation(
    request: Request, c: ConsoleDep, session: Manager, staff_id: UUID, form: CheckedForm
) -> Response:
    errors: dict[str, str] = {}
    outcome = str(form.get("outcome", ""))
    if outcome not in OUTCOMES:
        errors["outcome"] = EVALUATION_BY_FIELD["outcome"][1]
    evaluated_at = _day(form, "evaluated_at", c, errors)
    values = {"outcome": outcome, "evaluated_at": str(form.get("evaluated_at", ""))}
    return await _record(
        request,
        c,
        session,
        staff_id,
        form_name="evaluation",
        path="evaluations",
        body={"outcome": outcome, "evaluated_at": evaluated_at},
        values=values,
        errors=errors,
        by_code=EVALUATION_BY_CODE,
        by_field=EVALUATION_BY_FIELD,
        done="evaluation",
    )


@router.post("/equipe/membres/{staff_id}/depart")
async def leaving(
    request: Request, c: ConsoleDep, session: Manager, staff_id: UUID, form: CheckedForm
) -> Response:
    errors: dict[str, str] = {}
    left_at = _day(form, "left_at", c, errors)
    return await _record(
        request,
        c,
        session,
        staff_id,
        form_name="leaving",
        path="leaving",
        body={"left_at": left_at},
        values={"left_at": str(form.get("left_at", ""))},
        errors=errors,
        by_code=LEAVING_BY_CODE,
        by_field=LEAVING_BY_FIELD,
        done="depart",
    )


# --- referents -----------------------------------------------------------------------------


async def _referents_page(
    request: Request,
    c: ConsoleDep,
    session: Session,
    site_id: UUID,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    done: bool = False,
) -> Response:
    site = await _site(c, session, site_id)
    team, listed = await asyncio.gather(
        _team(c, session, site_id),
        c.backend.as_person(session, "dossier", "GET", "/dossiers?status=open&limit=500"),
    )
    names = {m["staff_id"]: m.get("name") for m in team}
    eligible = [
        m
        for m in team
        if m.get("left_at") is None and any(r in REFERENT_ROLES for r in m.get("roles", ()))
    ]
    dossiers = [d for d in listed.body if d.get("site_id") == str(site_id)]
    d_options = [
        (
            d["dossier_id"],
            translate(N_("Dossier {ref} opened on {date}")).format(
                ref=d["dossier_id"][:8], date=day(d["opened_at"])
            )
            + " — "
            + (
                translate(N_("referent: {name}")).format(name=names.get(d["referent_id"]) or "?")
                if d.get("referent_id")
                else translate(N_("no referent yet"))
            ),
        )
        for d in dossiers
    ]
    c_options = [
        (
            m["staff_id"],
            f"{m.get('name') or m['staff_id'][:8]} "
            f"({', '.join(translate(r) for r in m.get('roles', ()))})",
        )
        for m in eligible
    ]
    return c.pages.render(
        request,
        "staff/team_referents.html",
        status=status,
        session=session,
        site=site,
        dossiers=dossiers,
        d_options=d_options,
        c_options=c_options,
        names=names,
        eligible=eligible,
        reasons=REASONS,
        errors=errors or {},
        values=values or {},
        done=done,
    )


@router.get("/equipe/site/{site_id}/referents")
async def referents_page(
    request: Request, c: ConsoleDep, session: Manager, site_id: UUID, fait: str | None = None
) -> Response:
    return await _referents_page(request, c, session, site_id, done=fait == "referent")


@router.post("/equipe/site/{site_id}/referents")
async def assign_referent(
    request: Request, c: ConsoleDep, session: Manager, site_id: UUID, form: CheckedForm
) -> Response:
    dossier_id = str(form.get("dossier_id", ""))
    consultant_id = str(form.get("consultant_id", ""))
    reason = str(form.get("reason", ""))
    values = {"dossier_id": dossier_id, "consultant_id": consultant_id, "reason": reason}
    errors: dict[str, str] = {}
    try:
        UUID(dossier_id)
    except ValueError:
        errors["dossier_id"] = N_("Choose the dossier.")
    try:
        UUID(consultant_id)
    except ValueError:
        errors["consultant_id"] = REFERENT_BY_FIELD["consultant_id"][1]
    if reason not in REASONS:
        errors["reason"] = REFERENT_BY_FIELD["reason"][1]
    if not errors:
        dossier = await c.backend.as_person(session, "dossier", "GET", f"/dossiers/{dossier_id}")
        if dossier.body.get("site_id") != str(site_id):
            raise Problem(404, "not_found", "no such dossier on this site")
        reply = await c.backend.as_person(
            session,
            "dossier",
            "PUT",
            f"/dossiers/{dossier_id}/referent",
            json={"consultant_id": consultant_id, "reason": reason},
            headers={"If-Match": dossier.etag or ""},
            expect=(200, *REFUSED),
        )
        if reply.status == 200:
            return RedirectResponse(
                f"/equipe/site/{site_id}/referents?fait=referent", status_code=303
            )
        errors = place(refusal_of(reply), REFERENT_BY_CODE, REFERENT_BY_FIELD)
    return await _referents_page(
        request, c, session, site_id, status=422, errors=errors, values=values
    )
