"""The complaints register (Qualiopi ind. 31): receiving, listing, the steps of one complaint."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID, uuid4

from fastapi import APIRouter, Depends, Query, Response

from services.survey.adapters import known_dossiers, read_models
from services.survey.api.deps import (
    PROBLEM,
    STEP_ERRORS,
    Handler,
    NotFoundProblem,
    RunStep,
    Service,
    visible_record,
)
from services.survey.api.schemas import (
    ClosureIn,
    ComplaintAnswerIn,
    ComplaintIn,
    ComplaintOut,
    StepIn,
)
from services.survey.application.complaints import AnswerInClear, Step
from services.survey.domain import complaint as c
from shared.auth import CurrentPrincipal, Principal, Role
from shared.db import Connection
from shared.web import OnGuardedAggregate, Problem, Tx, set_etag

router = APIRouter(prefix="/complaints", tags=["complaints (ind. 31)"])


def complaint_out(
    state: c.Complaint, version: int, now: datetime, texts: dict[str, str | None] | None = None
) -> ComplaintOut:
    return ComplaintOut(
        complaint_id=state.complaint_id,
        site_id=state.site_id,
        dossier_id=state.dossier_id,
        complainant_role=state.complainant_role,
        category=state.category,
        channel=state.channel,
        status=state.status,
        received_at=state.received_at,
        acknowledge_due_at=state.acknowledge_due_at,
        answer_due_at=state.answer_due_at,
        acknowledged_at=state.acknowledged_at,
        answered_at=state.answered_at,
        closed_at=state.closed_at,
        resolution=state.resolution,
        acknowledgement_overdue=state.acknowledgement_overdue(now),
        answer_overdue=state.answer_overdue(now),
        version=version,
        **(texts or {}),
    )


def complaint_row_out(row: dict[str, Any], now: datetime) -> ComplaintOut:
    return ComplaintOut(
        **{k: v for k, v in row.items() if k in ComplaintOut.model_fields},
        acknowledgement_overdue=c.past_due(row["acknowledged_at"], row["acknowledge_due_at"], now),
        answer_overdue=c.past_due(row["answered_at"], row["answer_due_at"], now),
    )


async def _channel(conn: Connection, who: Principal, body: ComplaintIn) -> c.Channel:
    """Who may complain about what: a beneficiary as themselves, about a dossier of their own,
    through the web form; staff record a complaint received another way for someone else, on a
    site of theirs, naming the channel it came through."""
    dossier = None
    if body.dossier_id is not None:
        dossier = await known_dossiers.dossier_of(conn, body.dossier_id)
    if who.roles == {Role.BENEFICIARY}:
        if body.complainant_role != "beneficiary":
            raise Problem(403, "complain_as_yourself", "a beneficiary complains as the beneficiary")
        if body.dossier_id is None:
            raise Problem(422, "dossier_required", "name the dossier the complaint is about")
        if dossier is None or str(dossier["beneficiary_id"]) != who.subject:
            raise Problem(404, "dossier_not_found", "no such dossier")
        if dossier["site_id"] != str(body.site_id):
            raise Problem(422, "site_mismatch", "the dossier belongs to another site")
        if body.channel not in (None, "web_form"):
            raise Problem(
                422, "channel_is_web_form", "a complaint filed by its author comes by the web form"
            )
        return "web_form"
    if Role.BENEFICIARY in who.roles:
        raise Problem(403, "forbidden", "a token is either a beneficiary's or a staff member's")
    who.require_site(body.site_id)
    if body.channel is None:
        raise Problem(422, "channel_required", "say how the complaint was received")
    if body.dossier_id is not None and (dossier is None or dossier["site_id"] != str(body.site_id)):
        raise Problem(404, "dossier_not_found", "no such dossier on this site")
    return body.channel


NOT_FOUND = NotFoundProblem("complaint_not_found", "no such complaint")
ComplaintStep = RunStep[c.Complaint, Step, ComplaintOut]


async def on_complaint(service: Service, context: OnGuardedAggregate) -> ComplaintStep:
    return RunStep(service.complaints, complaint_out, NOT_FOUND, context, service.clock)


RunOnComplaint = Annotated[ComplaintStep, Depends(on_complaint)]
"""The dependency of a step of an existing complaint (transaction, If-Match, its answer)."""


@router.post(
    "",
    status_code=201,
    summary="Register a complaint (any role, for a site of the caller)",
    responses={403: PROBLEM, 422: PROBLEM},
)
async def receive(
    body: ComplaintIn, who: CurrentPrincipal, service: Service, conn: Tx, response: Response
) -> ComplaintOut:
    channel = await _channel(conn, who, body)
    complaint_id = uuid4()
    saved = await service.complaints.receive(
        conn,
        complaint_id=complaint_id,
        site_id=body.site_id,
        dossier_id=body.dossier_id,
        complainant_role=body.complainant_role,
        category=body.category,
        channel=channel,
        description=body.description,
        received_at=body.received_at,
        recorded_by=who.subject,
    )
    assert saved.state is not None
    set_etag(response, saved.version)
    response.headers["Location"] = f"/complaints/{complaint_id}"
    return complaint_out(saved.state, saved.version, service.clock.now())


@router.get("", summary="The register, for the caller's sites")
async def register(
    who: Handler,
    service: Service,
    conn: Tx,
    status: c.Status | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[ComplaintOut]:
    rows = await read_models.list_complaints(
        conn, status=status, all_sites=who.all_sites, sites=list(who.sites), limit=limit
    )
    now = service.clock.now()
    return [complaint_row_out(r, now) for r in rows]


@router.get("/overdue", summary="Complaints past their acknowledgement or answer deadline")
async def overdue(who: Handler, service: Service, conn: Tx) -> list[ComplaintOut]:
    now = service.clock.now()
    rows = await read_models.unfinished_complaints(
        conn, all_sites=who.all_sites, sites=list(who.sites)
    )
    found = [complaint_row_out(r, now) for r in rows]
    return [x for x in found if x.acknowledgement_overdue or x.answer_overdue]


@router.get("/{complaint_id}", summary="One complaint, with its texts", responses={404: PROBLEM})
async def one(
    complaint_id: UUID, who: Handler, service: Service, conn: Tx, response: Response
) -> ComplaintOut:
    loaded = await visible_record(service.complaints, conn, who, complaint_id, NOT_FOUND)
    assert loaded.state is not None
    set_etag(response, loaded.version)
    texts = await service.complaints.texts(loaded.state)
    return complaint_out(loaded.state, loaded.version, service.clock.now(), texts)


@router.get(
    "/{complaint_id}/status",
    summary="Where one's own complaint stands (whoever recorded it, e.g. the beneficiary)",
    responses={404: PROBLEM},
)
async def own_status(
    complaint_id: UUID, who: CurrentPrincipal, service: Service, conn: Tx, response: Response
) -> ComplaintOut:
    """The steps and deadlines of a complaint, for the person who filed it (the console's
    beneficiary space); anyone else's complaint is not found. No texts."""
    loaded = await service.complaints.load(conn, complaint_id)
    if loaded.state is None or loaded.state.recorded_by != who.subject:
        raise Problem(404, "complaint_not_found", "no such complaint")
    set_etag(response, loaded.version)
    return complaint_out(loaded.state, loaded.version, service.clock.now())


@router.post(
    "/{complaint_id}/acknowledgement", summary="Acknowledge receipt", responses=STEP_ERRORS
)
async def acknowledge(
    complaint_id: UUID,
    body: StepIn,
    who: Handler,
    run: RunOnComplaint,
) -> ComplaintOut:
    return await run(complaint_id, c.AcknowledgeComplaint(body.at), who)


@router.post("/{complaint_id}/answer", summary="Record the answer given", responses=STEP_ERRORS)
async def answer(
    complaint_id: UUID,
    body: ComplaintAnswerIn,
    who: Handler,
    run: RunOnComplaint,
) -> ComplaintOut:
    return await run(complaint_id, AnswerInClear(body.response, body.at), who)


@router.post("/{complaint_id}/closure", summary="Close with a resolution", responses=STEP_ERRORS)
async def close(
    complaint_id: UUID,
    body: ClosureIn,
    who: Handler,
    run: RunOnComplaint,
) -> ComplaintOut:
    return await run(complaint_id, c.CloseComplaint(body.resolution, body.at), who)
