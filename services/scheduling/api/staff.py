"""Staff: onboarding, work addresses, records (qualifications, training, evaluations,
leaving), the console's internal look-ups, free slots."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any
from uuid import UUID, uuid4

from fastapi import APIRouter, Query, Response

from services.scheduling.api import schemas as b
from services.scheduling.api.deps import (
    InternalService,
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
        email=body.email,
    )
    return await _staff_out(svc, who, staff_id, response)


@router.put(
    "/staff/{staff_id}/email",
    response_model=b.StaffOut,
    summary="Set or change a staff member's work e-mail address (never published)",
    responses={409: {"description": "they left, or another staff member has it"}},
)
async def set_email(
    staff_id: UUID, body: b.EmailBody, who: Manager, svc: Service, response: Response
) -> b.StaffOut:
    await svc.directory.set_email(who, staff_id, body.email)
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
            **{
                k: r[k]
                for k in b.StaffOut.model_fields
                if k in r and k not in ("name", "email", "records")
            }
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
    row, records, name, email = await svc.directory.staff_member(who, staff_id)
    set_etag(response, row["version"])
    return b.StaffOut(
        staff_id=row["staff_id"],
        name=name,
        email=email,
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
        registration_number=registration.number if registration else None,
    )
    return await _update(svc, who, staff_id, if_match, command, response)


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


internal: list[str | Enum] = ["internal"]


@router.get(
    "/internal/staff",
    response_model=list[b.StaffRef],
    tags=internal,
    summary="Who signs in with an e-mail address, by its blind index (the console)",
)
async def find_by_email_index(
    index: Annotated[
        str, Query(alias="email_index", pattern="^[0-9a-f]{64}$", description="HMAC, hex.")
    ],
    _who: InternalService,
    svc: Service,
) -> list[b.StaffRef]:
    """The keyed blind index of the normalised address (`shared.blind_index`), never the
    address; only staff who have not left."""
    return [_ref(r) for r in await svc.directory.active_by_email_index(index)]


@router.get(
    "/internal/staff/{staff_id}",
    response_model=b.StaffRef,
    tags=internal,
    summary="A staff member's roles and sites, while they work here (the console)",
    responses={404: {"description": "unknown, or left"}},
)
async def staff_reference(staff_id: UUID, _who: InternalService, svc: Service) -> b.StaffRef:
    return _ref(await svc.directory.active_member(staff_id))


@router.get(
    "/internal/staff/{staff_id}/contact",
    response_model=b.StaffContact,
    tags=internal,
    summary="A staff member's name and work address, at send time",
    responses={
        404: {"description": "unknown, or no address recorded"},
        410: {"description": "left, or erased"},
    },
)
async def staff_contact(staff_id: UUID, _who: InternalService, svc: Service) -> b.StaffContact:
    found = await svc.directory.contact(staff_id)
    return b.StaffContact(name=found.name, email=found.email)


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


def _ref(row: Any) -> b.StaffRef:
    return b.StaffRef(staff_id=row["staff_id"], roles=row["roles"], site_ids=row["site_ids"])
