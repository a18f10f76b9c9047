"""The beneficiary's data (GDPR): the access export as a file and as a page, their requests
(rectification, restriction, objection, erasure), and who read their bilan content."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from services.console.deps import Beneficiary, CheckedForm, Console, ConsoleDep
from services.console.sessions import Session
from shared.web import Problem

router = APIRouter(include_in_schema=False)
REQUEST_KINDS = ("access", "rectification", "restriction", "objection", "erasure")
MAX_FIELD = 200


async def _staff_names(c: Console, session: Session, dossier_ids: list[str]) -> dict[str, str]:
    """Names of the staff the beneficiary meets (their referent and session leaders)."""
    names: dict[str, str] = {}
    for dossier_id in dossier_ids:
        reply = await c.backend.as_person(
            session,
            "scheduling",
            "GET",
            f"/dossiers/{dossier_id}/people-and-places",
            expect=(200, 404),
        )
        if reply.status == 200:
            names.update({s["staff_id"]: s["name"] for s in reply.body["staff"] if s["name"]})
    return names


@router.get("/mes-donnees")
async def my_data(request: Request, c: ConsoleDep, session: Beneficiary) -> Response:
    me = await c.backend.as_person(session, "dossier", "GET", f"/beneficiaries/{session.subject}")
    log = await c.backend.as_person(
        session, "dossier", "GET", f"/beneficiaries/{session.subject}/access-log"
    )
    names = await _staff_names(c, session, [d["dossier_id"] for d in me.body["dossiers"]])
    readings = sorted(log.body, key=lambda e: e["read_at"], reverse=True)
    return c.pages.render(
        request,
        "data.html",
        session=session,
        requests=me.body["data_requests"],
        readings=readings,
        names=names,
        kinds=REQUEST_KINDS,
        errors={},
    )


@router.get("/mes-donnees/export.json")
async def export_file(c: ConsoleDep, session: Beneficiary) -> Response:
    reply = await c.backend.as_person(
        session, "dossier", "GET", f"/beneficiaries/{session.subject}/export"
    )
    return Response(
        json.dumps(reply.body, ensure_ascii=False, indent=2),
        media_type="application/json",
        headers={"Content-Disposition": 'attachment; filename="mes-donnees-bilan.json"'},
    )


@router.get("/mes-donnees/export")
async def export_page(request: Request, c: ConsoleDep, session: Beneficiary) -> Response:
    reply = await c.backend.as_person(
        session, "dossier", "GET", f"/beneficiaries/{session.subject}/export"
    )
    export: dict[str, Any] = reply.body
    names = await _staff_names(c, session, [d["dossier_id"] for d in export["dossiers"]])
    return c.pages.render(request, "export.html", session=session, export=export, names=names)


@router.post("/mes-donnees/demandes")
async def data_request(c: ConsoleDep, session: Beneficiary, form: CheckedForm) -> Response:
    kind = str(form.get("kind", ""))
    if kind not in REQUEST_KINDS:
        raise Problem(422, "invalid_form", "choose the kind of request")
    body: dict[str, Any] = {"kind": kind}
    if kind == "rectification":
        for field in ("name", "email", "phone"):
            value = str(form.get(field, "")).strip()[:MAX_FIELD]
            if value:
                body[field] = value
        if len(body) == 1:
            raise Problem(422, "invalid_form", "a rectification names the corrected values")
    me = await c.backend.as_person(session, "dossier", "GET", f"/beneficiaries/{session.subject}")
    await c.backend.as_person(
        session,
        "dossier",
        "POST",
        f"/beneficiaries/{session.subject}/data-requests",
        json=body,
        headers={"If-Match": me.etag or '"0"'},
        expect=(201,),
    )
    return RedirectResponse("/mes-donnees?demande-recue", status_code=303)
