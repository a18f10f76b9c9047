"""The synthesis (read it, download it as a PDF once delivered: the beneficiary only) and the
consents to disclose it to a third party, which only the beneficiary gives."""

from __future__ import annotations

from typing import get_args
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from services.console.deps import Beneficiary, CheckedForm, ConsoleDep
from services.console.synthesis_pdf import synthesis_pdf
from shared.contracts import DisclosureRecipient
from shared.web import Problem

router = APIRouter(include_in_schema=False)
RECIPIENTS: tuple[str, ...] = get_args(DisclosureRecipient)


@router.get("/mon-bilan/{dossier_id}/synthese")
async def synthesis_page(
    request: Request, c: ConsoleDep, session: Beneficiary, dossier_id: UUID
) -> Response:
    dossier = await c.backend.as_person(session, "dossier", "GET", f"/dossiers/{dossier_id}")
    delivered = dossier.body.get("synthesis_delivered")
    text = None
    if delivered:
        reply = await c.backend.as_person(
            session, "dossier", "GET", f"/dossiers/{dossier_id}/synthesis", expect=(200, 404, 410)
        )
        text = reply.body if reply.status == 200 else None
    return c.pages.render(
        request,
        "synthesis.html",
        session=session,
        dossier=dossier.body,
        delivered=delivered,
        synthesis=text,
        recipients=RECIPIENTS,
        consents=dossier.body.get("disclosure_consents", []),
    )


@router.get("/mon-bilan/{dossier_id}/synthese.pdf")
async def synthesis_download(c: ConsoleDep, session: Beneficiary, dossier_id: UUID) -> Response:
    dossier = await c.backend.as_person(session, "dossier", "GET", f"/dossiers/{dossier_id}")
    delivered = dossier.body.get("synthesis_delivered")
    if not delivered:
        raise Problem(404, "not_found", "the synthesis is not delivered yet")
    reply = await c.backend.as_person(
        session, "dossier", "GET", f"/dossiers/{dossier_id}/synthesis"
    )
    pdf = synthesis_pdf(
        reply.body["content"], reply.body["synthesis_version"], delivered.get("delivered_at")
    )
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": 'attachment; filename="synthese-bilan.pdf"'},
    )


@router.post("/mon-bilan/{dossier_id}/consentements")
async def consent(
    c: ConsoleDep, session: Beneficiary, dossier_id: UUID, form: CheckedForm
) -> Response:
    recipient, action = str(form.get("recipient", "")), str(form.get("action", ""))
    if recipient not in RECIPIENTS or action not in ("give", "revoke"):
        raise Problem(422, "invalid_form", "choose a recipient")
    dossier = await c.backend.as_person(session, "dossier", "GET", f"/dossiers/{dossier_id}")
    headers = {"If-Match": dossier.etag or '"0"'}
    if action == "give":
        await c.backend.as_person(
            session,
            "dossier",
            "POST",
            f"/dossiers/{dossier_id}/disclosure-consents",
            json={"recipient": recipient},
            headers=headers,
        )
    else:
        await c.backend.as_person(
            session,
            "dossier",
            "DELETE",
            f"/dossiers/{dossier_id}/disclosure-consents/{recipient}",
            headers=headers,
        )
    return RedirectResponse(f"/mon-bilan/{dossier_id}/synthese", status_code=303)
