"""The convention, read and signed online by the beneficiary: a simple electronic signature.
The dossier service records the signature (`method: electronic`, contract v1.1); the console
keeps the evidence: the signed-in identity, the time, the SHA-256 of the exact PDF shown and
signed (sent back with the form, checked against the document at signing), the session; once
signed, the PDF carries that evidence on a last page (`convention_certificate`). Withdrawal
within the funding route's period, after a confirmation step."""

from __future__ import annotations

import hashlib
from datetime import datetime
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from services.console.convention_certificate import SignatureEvidence, with_certificate
from services.console.deps import Beneficiary, CheckedForm, Console, ConsoleDep
from services.console.i18n import parse_moment
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
    withdrawal_until, may_withdraw = _withdrawal(convention)
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
        withdrawn=convention.get("status") == "withdrawn",
        withdrawal_until=withdrawal_until,
        may_withdraw=may_withdraw,
    )


async def signed_document(
    c: Console, session: Session, dossier: dict[str, object], convention: dict[str, object]
) -> bytes:
    """The convention's PDF; signed online, with its certificate of signature as last page."""
    convention_id = str(convention["convention_id"])
    dossier_id = UUID(str(dossier["dossier_id"]))
    pdf = await _document(c, session, dossier_id, convention_id)
    signatures = convention.get("signatures") or {}
    if not (isinstance(signatures, dict) and "beneficiary" in signatures):
        return pdf
    row = await c.console_pool().fetchrow(
        """SELECT subject, signed_at, document_sha256, session_ref
           FROM convention_signatures WHERE convention_id = $1""",
        UUID(convention_id),
    )
    if row is None:
        return pdf  # signed on paper, or before the console: no online evidence to certify
    # The name as the dossier service holds it now, read with the person's own token.
    export = await c.backend.as_person(
        session, "dossier", "GET", f"/beneficiaries/{dossier['beneficiary_id']}/export"
    )
    name = str((export.body.get("identity") or {}).get("name") or "")
    return with_certificate(
        pdf,
        SignatureEvidence(
            convention_id=convention_id,
            signer_name=name,
            subject=row["subject"],
            signed_at=row["signed_at"],
            document_sha256=row["document_sha256"],
            session_ref=bytes(row["session_ref"]),
        ),
    )


@router.get("/mon-bilan/{dossier_id}/convention.pdf")
async def convention_document(c: ConsoleDep, session: Beneficiary, dossier_id: UUID) -> Response:
    dossier, convention, _etag = await _convention(c, session, dossier_id)
    pdf = await signed_document(c, session, dossier, convention)
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


WITHDRAWAL_REFUSALS = ("withdrawal_period_over", "no_withdrawal_right", "convention_not_signed")


def _withdrawal(convention: dict[str, object]) -> tuple[datetime | None, bool]:
    """Until when the beneficiary may withdraw (None: the route gives no withdrawal), and
    whether they still may, by the dossier service's clock (the business time)."""
    until = parse_moment(convention.get("withdrawal_until"))
    return until, until is not None and convention.get("withdrawal_open") is True


@router.get("/mon-bilan/{dossier_id}/convention/retractation")
async def withdrawal_page(
    request: Request, c: ConsoleDep, session: Beneficiary, dossier_id: UUID
) -> Response:
    """The confirmation step: what withdrawing means, until when, and the button."""
    dossier, convention, _etag = await _convention(c, session, dossier_id)
    until, still_open = _withdrawal(convention)
    return c.pages.render(
        request,
        "withdrawal.html",
        session=session,
        dossier=dossier,
        convention=convention,
        until=until,
        still_open=still_open,
        refused=None,
    )


@router.post("/mon-bilan/{dossier_id}/convention/retractation")
async def withdraw(
    request: Request, c: ConsoleDep, session: Beneficiary, dossier_id: UUID, form: CheckedForm
) -> Response:
    dossier, convention, etag = await _convention(c, session, dossier_id)
    until, _still_open = _withdrawal(convention)
    if form.get("confirm") != "yes":
        raise Problem(422, "invalid_form", "confirm the withdrawal")
    reply = await c.backend.as_person(
        session,
        "dossier",
        "POST",
        f"/dossiers/{dossier_id}/conventions/{convention['convention_id']}/withdrawal",
        json={},
        headers={"If-Match": etag},
        expect=(200, 409, 422),
    )
    code = reply.body.get("code") if isinstance(reply.body, dict) else None
    if reply.status != 200 and code in WITHDRAWAL_REFUSALS:
        # Refused by the rule (the period ended, or the route gives none): said in words, on the
        # same page; nothing changed.
        return c.pages.render(
            request,
            "withdrawal.html",
            status=409,
            session=session,
            dossier=dossier,
            convention=convention,
            until=until,
            still_open=False,
            refused=code,
        )
    if reply.status != 200:
        raise Problem(409, "refused", "the withdrawal was refused", upstream=code)
    return RedirectResponse(f"/mon-bilan/{dossier_id}/convention?retractation", status_code=303)
