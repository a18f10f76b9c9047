"""Complaints: the beneficiary files one (the survey service's register, Qualiopi ind. 31)
and follows where it stands. The console keeps only the ids of what they filed."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from services.console.deps import Beneficiary, CheckedForm, ConsoleDep

router = APIRouter(include_in_schema=False)
CATEGORIES = ("organisation", "content", "consultant", "billing", "accessibility", "other")
MAX_TEXT = 4000


async def _page(
    request: Request,
    c: ConsoleDep,
    session: Beneficiary,
    dossier_id: UUID,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    dossier = await c.backend.as_person(session, "dossier", "GET", f"/dossiers/{dossier_id}")
    rows = await c.console_pool().fetch(
        """SELECT complaint_id FROM filed_complaints
           WHERE subject = $1 AND dossier_id = $2 ORDER BY filed_at DESC LIMIT 20""",
        session.subject,
        dossier_id,
    )
    complaints: list[dict[str, Any]] = []
    for row in rows:
        reply = await c.backend.as_person(
            session,
            "survey",
            "GET",
            f"/complaints/{row['complaint_id']}/status",
            expect=(200, 404),
        )
        if reply.status == 200:
            complaints.append(reply.body)
    return c.pages.render(
        request,
        "complaints.html",
        status=status,
        session=session,
        dossier=dossier.body,
        complaints=complaints,
        categories=CATEGORIES,
        errors=errors or {},
        values=values or {},
    )


@router.get("/mon-bilan/{dossier_id}/reclamations")
async def complaints_page(
    request: Request, c: ConsoleDep, session: Beneficiary, dossier_id: UUID
) -> Response:
    return await _page(request, c, session, dossier_id)


@router.post("/mon-bilan/{dossier_id}/reclamations")
async def file_complaint(
    request: Request, c: ConsoleDep, session: Beneficiary, dossier_id: UUID, form: CheckedForm
) -> Response:
    category = str(form.get("category", ""))
    description = str(form.get("description", "")).strip()
    errors = {}
    if category not in CATEGORIES:
        errors["category"] = "required"
    if not description:
        errors["description"] = "required"
    elif len(description) > MAX_TEXT:
        errors["description"] = "too_long"
    if errors:
        values = {"category": category, "description": description[:MAX_TEXT]}
        return await _page(
            request, c, session, dossier_id, status=422, errors=errors, values=values
        )
    dossier = await c.backend.as_person(session, "dossier", "GET", f"/dossiers/{dossier_id}")
    filed = await c.backend.as_person(
        session,
        "survey",
        "POST",
        "/complaints",
        json={
            "site_id": dossier.body["site_id"],
            "dossier_id": str(dossier_id),
            "complainant_role": "beneficiary",
            "category": category,
            "channel": "web_form",
            "description": description,
        },
        expect=(201,),
    )
    await c.console_pool().execute(
        """INSERT INTO filed_complaints (subject, complaint_id, dossier_id, filed_at)
           VALUES ($1, $2, $3, $4)""",
        session.subject,
        UUID(filed.body["complaint_id"]),
        dossier_id,
        c.clock.now(),
    )
    return RedirectResponse(f"/mon-bilan/{dossier_id}/reclamations?envoyee", status_code=303)
