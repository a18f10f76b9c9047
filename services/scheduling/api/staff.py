"""Staff: onboarding, records (qualifications, training, evaluations, leaving), free slots."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID, uuid4

from fastapi import APIRouter, Query, Response

from services.scheduling.api import schemas as b
from services.scheduling.api.deps import (
    Manager,
    SchedulingService,
    Service,
    StaffReader,
    TrainingReader,
)
from services.scheduling.domain import staff as st
from shared.auth import Principal
from shared.inputs import BusinessDate
from shared.web import IfMatchHeader, parse_if_match, set_etag

router = APIRouter(tags=["staff"])


@router.post(
    "/staff",
    status_code=201,
    response_model=b.StaffOut,
    summary="Onboard a staff member (roles, sites, contract)",
)
async def onboard(
    body: b.OnboardBody, who: Manager, svc: Service, response: Response
) -> b.StaffOut:
    staff_id = body.staff_id or uuid4()
    await svc.directory.onboard(
        who,
        staff_id,
        name=body.name,
        roles=tuple(body.roles),
        site_ids=tuple(body.site_ids),
        contract_type=body.contract,
    )
    return await _staff_out(svc, who, staff_id, response)


@router.get(
    "/sites/{site_id}/staff",
    response_model=list[b.StaffOut],
    summary="Staff of a site, with their habilitations",
)
async def list_staff(site_id: UUID, who: TrainingReader, svc: Service) -> list[b.StaffOut]:
    rows = await svc.directory.staff_of_site(who, site_id)
    return [
        b.StaffOut(
            **{k: r[k] for k in b.StaffOut.model_fields if k in r and k not in ("name", "records")}
        )
        for r in rows
    ]


@router.get(
    "/staff/{staff_id}",
    response_model=b.StaffOut,
    summary="A staff member with qualifications, training and evaluations",
)
async def get_staff(
    staff_id: UUID, who: TrainingReader, svc: Service, response: Response
) -> b.StaffOut:
    return await _staff_out(svc, who, staff_id, response)


async def _staff_out(
    svc: SchedulingService, who: Principal, staff_id: UUID, response: Response
) -> b.StaffOut:
    row, records, name = await svc.directory.staff_member(who, staff_id)
    set_etag(response, row["version"])
    return b.StaffOut(
        staff_id=row["staff_id"],
        name=name,
        roles=row["roles"],
        site_ids=row["site_ids"],
        contract=row["contract"],
        habilitations=row["habilitations"],
        onboarded_at=row["onboarded_at"],
        left_at=row["left_at"],
        version=row["version"],
        records=[
            b.StaffRecordOut(**{k: r[k] for k in b.StaffRecordOut.model_fields}) for r in records
        ],
    )


async def _update(
    svc: SchedulingService,
    who: Principal,
    staff_id: UUID,
    if_match: str | None,
    command: st.Command,
    response: Response,
) -> b.StaffOut:
    await svc.directory.update(who, staff_id, parse_if_match(if_match), command)
    return await _staff_out(svc, who, staff_id, response)


@router.post(
    "/staff/{staff_id}/qualifications",
    response_model=b.StaffOut,
    summary="Record a qualification and the habilitations it confers",
)
async def qualification(
    staff_id: UUID,
    body: b.QualificationBody,
    who: Manager,
    svc: Service,
    response: Response,
    if_match: IfMatchHeader = None,
) -> b.StaffOut:
    registration = body.psychologist_registration
    command = st.RecordQualification(
        body.qualification,
        tuple(body.habilitations),
        body.recorded_at,
        registry=registration.registry if registration else None,
    )
    await svc.directory.update(
        who,
        staff_id,
        parse_if_match(if_match),
        command,
        registration_number=registration.number if registration else None,
    )
    return await _staff_out(svc, who, staff_id, response)


@router.post(
    "/staff/{staff_id}/trainings",
    response_model=b.StaffOut,
    summary="Record a continuous training completed (ind. 22)",
)
async def training(
    staff_id: UUID,
    body: b.TrainingBody,
    who: Manager,
    svc: Service,
    response: Response,
    if_match: IfMatchHeader = None,
) -> b.StaffOut:
    command = st.RecordTraining(body.title_code, body.hours, body.completed_at)
    return await _update(svc, who, staff_id, if_match, command, response)


@router.post(
    "/staff/{staff_id}/evaluations",
    response_model=b.StaffOut,
    summary="Record a competence evaluation (ind. 21)",
)
async def evaluation(
    staff_id: UUID,
    body: b.EvaluationBody,
    who: Manager,
    svc: Service,
    response: Response,
    if_match: IfMatchHeader = None,
) -> b.StaffOut:
    command = st.EvaluateCompetence(body.outcome, body.evaluated_at)
    return await _update(svc, who, staff_id, if_match, command, response)


@router.post(
    "/staff/{staff_id}/leaving",
    response_model=b.StaffOut,
    summary="Record that a staff member left",
)
async def leaving(
    staff_id: UUID,
    body: b.LeavingBody,
    who: Manager,
    svc: Service,
    response: Response,
    if_match: IfMatchHeader = None,
) -> b.StaffOut:
    return await _update(svc, who, staff_id, if_match, st.RecordLeaving(body.left_at), response)


@router.get(
    "/staff/{staff_id}/free-slots",
    response_model=list[b.SlotOut],
    summary="Free slots in a staff member's working hours between two dates",
)
async def slots(
    staff_id: UUID,
    who: StaffReader,
    svc: Service,
    first: Annotated[BusinessDate, Query(alias="from", examples=["2026-03-09"])],
    last: Annotated[BusinessDate, Query(alias="to", examples=["2026-03-13"])],
    min_minutes: Annotated[int, Query(ge=15, le=600)] = 60,
) -> list[b.SlotOut]:
    found = await svc.calendars.free_slots(who, staff_id, first, last, min_minutes)
    return [b.SlotOut(starts_at=x.starts_at, ends_at=x.ends_at, minutes=x.minutes) for x in found]
