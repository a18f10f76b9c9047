"""HTTP routes of beneficiaries: data-subject requests (GDPR), export, access log, and the
internal contact endpoint for the other services."""

from __future__ import annotations

import uuid
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Response

from services.dossier.adapters import access_log, dossier_index, email_index
from services.dossier.api import schemas as m
from services.dossier.api.deps import (
    DataProtection,
    DossierService,
    InternalService,
    RunOnBeneficiary,
    Service,
    Tx,
    reader_of,
    set_etag,
)
from services.dossier.api.problems import PROBLEMS
from services.dossier.application.mail_contacts import contact_for_dossier
from services.dossier.application.views import DESTROYED, request_view
from services.dossier.domain import beneficiary as b
from services.dossier.domain.errors import GONE, NOT_FOUND, refuse
from shared.auth import CurrentPrincipal, Principal, Role
from shared.db import Connection

router = APIRouter(tags=["beneficiaries and GDPR"], responses=PROBLEMS)


async def _own_or_data_protection(
    principal: Principal, beneficiary_id: UUID, conn: Connection
) -> None:
    """The person themselves, or whoever handles data-protection requests on a site of one of
    their dossiers: a person belongs to the sites of their dossiers, and another site's staff
    are answered as if the person did not exist (the dossiers' rule)."""
    if Role.BENEFICIARY in principal.roles and principal.subject == str(beneficiary_id):
        return
    if principal.has_any_role([Role.ADMIN, Role.QUALITY_LEAD]):
        if principal.all_sites:
            return
        sites = await dossier_index.dossiers_with_sites(conn, str(beneficiary_id))
        if any(principal.can_act_on_site(site_id) for _, _, site_id in sites):
            return
    raise refuse("beneficiary_not_found", "no such beneficiary", kind=NOT_FOUND)


def _exists(state: b.Beneficiary | None) -> None:
    if state is None:
        raise refuse("beneficiary_not_found", "no such beneficiary", kind=NOT_FOUND)


@router.get("/beneficiaries/{beneficiary_id}", summary="Dossiers and requests of a beneficiary")
async def get_beneficiary(
    beneficiary_id: UUID, who: CurrentPrincipal, svc: Service, conn: Tx, response: Response
) -> dict[str, Any]:
    await _own_or_data_protection(who, beneficiary_id, conn)
    loaded = await svc.commands.beneficiaries.load(str(beneficiary_id), conn=conn)
    _exists(loaded.state)
    state = loaded.state
    assert state is not None
    set_etag(response, loaded.version)
    return {
        "beneficiary_id": state.beneficiary_id,
        "erased_at": state.erased_at,
        "processing_restricted": state.restricted,
        # Staff see the person's dossiers on the sites their token covers only.
        "dossiers": [
            {"dossier_id": dossier_id, "status": status, "site_id": site_id}
            for dossier_id, status, site_id in await dossier_index.dossiers_with_sites(
                conn, str(beneficiary_id)
            )
            if who.subject == str(beneficiary_id) or who.can_act_on_site(site_id)
        ],
        "data_requests": [request_view(r, svc.clock.now()) for r in state.requests.values()],
    }


@router.post(
    "/beneficiaries/{beneficiary_id}/data-requests",
    status_code=201,
    response_model=m.CommandResult,
)
async def receive_data_request(
    beneficiary_id: UUID,
    body: m.ReceiveDataRequest,
    who: CurrentPrincipal,
    run: RunOnBeneficiary,
) -> m.CommandResult:
    """Register a GDPR request (art. 15 to 21), due one calendar month later (art. 12(3))."""
    await _own_or_data_protection(who, beneficiary_id, run.conn)
    request_id = str(uuid.uuid4())
    at = run.time(body.received_at)
    subject = str(beneficiary_id)

    async def seal(conn: Connection, field: str, value: str | None) -> str | None:
        if value is None:
            return None
        sealed = await run.svc.commands.keys.encrypt(
            subject, value, purpose=f"identity.{field}", conn=conn
        )
        return sealed.text

    async def build(c: Connection, state: b.Beneficiary | None) -> b.Command:
        if state is not None and state.erased_at is not None:
            raise refuse("beneficiary_erased", "this beneficiary's data was erased", kind=GONE)
        return b.ReceiveDataRequest(
            request_id,
            body.kind,
            at,
            await seal(c, "name", body.name),
            await seal(c, "email", body.email),
            await seal(c, "phone", body.phone),
        )

    result = await run(beneficiary_id, build, _exists)
    run.response.headers["Location"] = f"/beneficiaries/{beneficiary_id}/data-requests/{request_id}"
    return result


@router.post(
    "/beneficiaries/{beneficiary_id}/data-requests/{request_id}/fulfilment",
    response_model=m.CommandResult,
)
async def fulfil_data_request(
    beneficiary_id: UUID,
    request_id: UUID,
    who: DataProtection,
    run: RunOnBeneficiary,
) -> m.CommandResult:
    """Answer a request: rectification applies the values, erasure shreds the beneficiary's key
    and every dossier's content keys (refused while a bilan is under way), access points the
    person to their export."""
    await _own_or_data_protection(who, beneficiary_id, run.conn)
    now = run.svc.clock.now()

    async def build(c: Connection, _s: b.Beneficiary | None) -> b.Command:
        in_progress = await run.svc.commands.dossiers_in_progress(c, str(beneficiary_id))
        return b.FulfilDataRequest(str(request_id), in_progress, now)

    return await run(beneficiary_id, build, _exists)


@router.post(
    "/beneficiaries/{beneficiary_id}/data-requests/{request_id}/refusal",
    response_model=m.CommandResult,
)
async def refuse_data_request(
    beneficiary_id: UUID,
    request_id: UUID,
    body: m.RefuseDataRequest,
    who: DataProtection,
    run: RunOnBeneficiary,
) -> m.CommandResult:
    """Refuse with the legal ground (e.g. art17_3_b: a legal obligation to keep)."""
    await _own_or_data_protection(who, beneficiary_id, run.conn)
    command = b.RefuseDataRequest(str(request_id), body.legal_ground, run.svc.clock.now())

    async def build(_c: Connection, _s: b.Beneficiary | None) -> b.Command:
        return command

    return await run(beneficiary_id, build, _exists)


@router.post(
    "/beneficiaries/{beneficiary_id}/restriction/lifting",
    response_model=m.CommandResult,
    summary="Lift the restriction of processing (GDPR art. 18(3))",
)
async def lift_restriction(
    beneficiary_id: UUID,
    who: DataProtection,
    run: RunOnBeneficiary,
) -> m.CommandResult:
    """The reason for the restriction no longer holds (the accuracy was checked, the objection
    decided): processing resumes on every dossier of the person. Art. 18(3): tell them first."""
    await _own_or_data_protection(who, beneficiary_id, run.conn)
    command = b.LiftRestriction(run.svc.clock.now())

    async def build(_c: Connection, _s: b.Beneficiary | None) -> b.Command:
        return command

    return await run(beneficiary_id, build, _exists)


@router.get(
    "/beneficiaries/{beneficiary_id}/export", summary="Everything held on me (GDPR art. 15)"
)
async def export(
    beneficiary_id: UUID, who: CurrentPrincipal, svc: Service, conn: Tx
) -> dict[str, Any]:
    """The beneficiary's own export: identity, dossiers with the content that still exists,
    their event history, requests and the access log."""
    return await svc.reader.export(conn, str(beneficiary_id), reader_of(who))


@router.get("/beneficiaries/{beneficiary_id}/access-log", summary="Who read my bilan content")
async def read_access_log(
    beneficiary_id: UUID, who: CurrentPrincipal, svc: Service, conn: Tx
) -> list[dict[str, Any]]:
    await _own_or_data_protection(who, beneficiary_id, conn)
    return await access_log.entries(conn, str(beneficiary_id))


@router.get(
    "/internal/dossiers/{dossier_id}/contact",
    tags=["internal"],
    response_model=m.Contact,
    responses={
        404: {"description": "unknown dossier"},
        410: {"description": "erased, or processing restricted"},
    },
)
async def contact(dossier_id: UUID, _who: InternalService, svc: Service, conn: Tx) -> m.Contact:
    """A beneficiary's contact at send time, so that no other service stores it: 410 once
    erased, and while their processing is restricted (no mail about their bilan then)."""
    found = await contact_for_dossier(conn, svc.runtime, svc.reader, str(dossier_id))
    return m.Contact(name=found.name, email=found.email, phone=found.phone)


async def _contact_of(svc: DossierService, conn: Connection, state: b.Beneficiary) -> m.Contact:
    if state.erased_at is not None:
        raise refuse("beneficiary_erased", "this beneficiary's data was erased", kind=GONE)
    identity = await svc.reader.identity(conn, state)
    name, email = identity["name"], identity["email"]
    if name in (None, DESTROYED) or email in (None, DESTROYED):
        raise refuse("beneficiary_erased", "this beneficiary's data was erased", kind=GONE)
    assert name is not None
    assert email is not None
    phone = identity["phone"]
    return m.Contact(name=name, email=email, phone=None if phone == DESTROYED else phone)


@router.get(
    "/internal/beneficiaries",
    tags=["internal"],
    response_model=list[m.BeneficiaryRef],
    summary="Who holds an e-mail address, by its blind index (the console's sign-in)",
)
async def find_by_email_index(
    index: Annotated[
        str, Query(alias="email_index", pattern="^[0-9a-f]{64}$", description="HMAC, hex.")
    ],
    _who: InternalService,
    svc: Service,
    conn: Tx,
) -> list[m.BeneficiaryRef]:
    """The keyed blind index of the normalised address (`shared.blind_index`), never the
    address: the console finds the person without a plaintext search."""
    found = []
    for beneficiary_id in await email_index.holders(conn, index):
        ref = await _reference(svc, conn, beneficiary_id)
        if ref is not None:
            found.append(ref)
    return found


@router.get(
    "/internal/beneficiaries/{beneficiary_id}",
    tags=["internal"],
    response_model=m.BeneficiaryRef,
    responses={404: {"description": "unknown"}, 410: {"description": "erased"}},
)
async def beneficiary_reference(
    beneficiary_id: UUID, _who: InternalService, svc: Service, conn: Tx
) -> m.BeneficiaryRef:
    """A beneficiary's id and the sites of their dossiers: what the console's tokens say."""
    ref = await _reference(svc, conn, str(beneficiary_id))
    if ref is None:
        raise refuse("beneficiary_not_found", "no such beneficiary", kind=NOT_FOUND)
    return ref


@router.get(
    "/internal/beneficiaries/{beneficiary_id}/contact",
    tags=["internal"],
    response_model=m.Contact,
    responses={404: {"description": "unknown"}, 410: {"description": "erased"}},
)
async def beneficiary_contact(
    beneficiary_id: UUID, _who: InternalService, svc: Service, conn: Tx
) -> m.Contact:
    """As the dossier contact, by beneficiary id (the console's sign-in mail)."""
    state = (await svc.commands.beneficiaries.load(str(beneficiary_id), conn=conn)).state
    if state is None:
        raise refuse("beneficiary_not_found", "no such beneficiary", kind=NOT_FOUND)
    return await _contact_of(svc, conn, state)


async def _reference(
    svc: DossierService, conn: Connection, beneficiary_id: str
) -> m.BeneficiaryRef | None:
    state = (await svc.commands.beneficiaries.load(beneficiary_id, conn=conn)).state
    if state is None or state.erased_at is not None:
        return None
    sites = sorted(
        {site for _d, _s, site in await dossier_index.dossiers_with_sites(conn, beneficiary_id)}
    )
    return m.BeneficiaryRef(beneficiary_id=beneficiary_id, site_ids=sites)
