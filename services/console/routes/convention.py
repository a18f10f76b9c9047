"""The convention, read and signed online by the beneficiary: a simple electronic signature.
The dossier service records the signature (`method: electronic`, contract v1.1); the console
keeps the evidence: the signed-in identity, the time, the SHA-256 of the exact PDF shown and
signed (sent back with the form, checked against the document at signing), the session."""

from __future__ import annotations

import hashlib
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from services.console.deps import Beneficiary, CheckedForm, Console, ConsoleDep
from services.console.sessions import Session
from shared.web import Problem

router = APIRouter(include_in_schema=False)


async def _convention(
    c: Console, session: Session, dossier_id: UUID
) -> tuple[dict[str, object], dict[str, object], str]:
    reply = await c.backend.as_person(session, "dossier", "GET", f"/dossiers/{dossier_id}")
    convention = reply.body.get("convention")
    if not convention:
        raise Problem(404, "not_found", "no convention yet")
    return reply.body, convention, reply.etag or '"0"'


async def _document(c: Console, session: Session, dossier_id: UUID, convention_id: str) -> bytes:
    reply = await c.backend.as_person(
        session,
        "dossier",
        "GET",
        f"/dossiers/{dossier_id}/conventions/{convention_id}/document",
    )
    return reply.content


@router.get("/mon-bilan/{dossier_id}/convention")
async def convention_page(
    request: Request, c: ConsoleDep, session: Beneficiary, dossier_id: UUID
) -> Response:
    dossier, convention, _etag = await _convention(c, session, dossier_id)
    pdf = await _document(c, session, dossier_id, str(convention["convention_id"]))
    evidence = await c.console_pool().fetchrow(
        "SELECT signed_at, document_sha256 FROM convention_signatures WHERE convention_id = $1",
        UUID(str(convention["convention_id"])),
    )
    signatures = convention.get("signatures") or {}
    return c.pages.render(
        request,
        "convention.html",
        session=session,
        dossier=dossier,
        convention=convention,
        signed_by_me=isinstance(signatures, dict) and "beneficiary" in signatures,
        awaiting=convention.get("status") == "sent",
        document_sha256=hashlib.sha256(pdf).hexdigest(),
        evidence=evidence,
    )


@router.get("/mon-bilan/{dossier_id}/convention.pdf")
async def convention_document(c: ConsoleDep, session: Beneficiary, dossier_id: UUID) -> Response:
    _dossier, convention, _etag = await _convention(c, session, dossier_id)
    pdf = await _document(c, session, dossier_id, str(convention["convention_id"]))
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": 'inline; filename="convention-bilan.pdf"'},
    )


@router.post("/mon-bilan/{dossier_id}/convention")
async def sign_convention(
    c: ConsoleDep, session: Beneficiary, dossier_id: UUID, form: CheckedForm
) -> Response:
    if form.get("consent") != "yes":
        raise Problem(422, "invalid_form", "tick the box to sign")
    _dossier, convention, etag = await _convention(c, session, dossier_id)
    convention_id = str(convention["convention_id"])
    pdf = await _document(c, session, dossier_id, convention_id)
    digest = hashlib.sha256(pdf).hexdigest()
    # The person signs what they were shown: if the document changed meanwhile, they read again.
    if form.get("document_sha256") != digest:
        raise Problem(409, "refused", "the convention changed since it was shown")
    now = c.clock.now()
    await c.backend.as_person(
        session,
        "dossier",
        "POST",
        f"/dossiers/{dossier_id}/conventions/{convention_id}/signatures",
        json={"party": "beneficiary", "method": "electronic"},
        headers={"If-Match": etag},
    )
    await c.console_pool().execute(
        """INSERT INTO convention_signatures (convention_id, dossier_id, subject, signed_at,
                                              document_sha256, session_ref)
           VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (convention_id) DO NOTHING""",
        UUID(convention_id),
        dossier_id,
        session.subject,
        now,
        digest,
        session.id_hash,
    )
    return RedirectResponse(f"/mon-bilan/{dossier_id}/convention?signee", status_code=303)
