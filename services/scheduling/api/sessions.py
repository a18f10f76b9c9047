"""Sessions of a dossier: scheduling, moving, cancelling (also by the beneficiary),
no-show, held, attendance."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response

from services.scheduling.api import schemas as b
from services.scheduling.api.deps import (
    OwnBeneficiary,
    RunOnSession,
    Scheduler,
    Service,
    SessionReader,
    Signer,
    session_out,
)
from services.scheduling.application.sessions import (
    Cancel,
    Held,
    MoveAsBeneficiary,
    NoShow,
    NoticeOfAbsence,
    Reschedule,
    ScheduleRequest,
    Sign,
)
from shared.inputs import BusinessDate

router = APIRouter(tags=["sessions"])


@router.post(
    "/dossiers/{dossier_id}/sessions",
    status_code=201,
    response_model=b.SessionOut,
    summary="Schedule a session of a dossier",
)
async def schedule(
    dossier_id: UUID, body: b.ScheduleBody, who: Scheduler, svc: Service, response: Response
) -> b.SessionOut:
    request = ScheduleRequest(**body.model_dump())
    state, version = await svc.sessions.schedule(who, dossier_id, request)
    return session_out(state, version, response)


@router.get(
    "/dossiers/{dossier_id}/sessions",
    response_model=list[b.SessionOut],
    summary="Sessions of a dossier",
)
async def list_sessions(dossier_id: UUID, who: SessionReader, svc: Service) -> list[b.SessionOut]:
    return [session_out(x, v) for x, v in await svc.sessions.sessions_of(who, dossier_id)]


@router.get(
    "/dossiers/{dossier_id}/people-and-places",
    response_model=b.PeopleAndPlacesOut,
    summary="Who leads a dossier's sessions, its referent, and where the sessions are",
)
async def people_and_places(
    dossier_id: UUID, who: SessionReader, svc: Service
) -> b.PeopleAndPlacesOut:
    dossier = await svc.sessions.dossier_for(who, dossier_id)
    booked = [
        (x.consultant_id, x.room_id) for x, _ in await svc.sessions.sessions_of(who, dossier_id)
    ]
    names, places = await svc.directory.people_and_places(dossier.referent_id, booked)
    return b.PeopleAndPlacesOut(
        referent_id=dossier.referent_id,
        staff=[b.NamedStaff(staff_id=k, name=v) for k, v in sorted(names.items())],
        rooms=[b.Place(room_id=k, place=v) for k, v in sorted(places.items())],
    )


@router.get(
    "/sessions/{session_id}",
    response_model=b.SessionOut,
    summary="A session, with its version as ETag",
)
async def get_session(
    session_id: UUID, who: SessionReader, svc: Service, response: Response
) -> b.SessionOut:
    state, version = await svc.sessions.session_for(who, session_id)
    return session_out(state, version, response)


@router.post(
    "/sessions/{session_id}/reschedule",
    response_model=b.SessionOut,
    summary="Move a session (who asked)",
)
async def reschedule(
    session_id: UUID, body: b.RescheduleBody, who: Scheduler, run: RunOnSession
) -> b.SessionOut:
    return await run(session_id, Reschedule(body.starts_at, body.requested_by), who)


@router.post(
    "/sessions/{session_id}/cancellation",
    response_model=b.SessionOut,
    summary="Cancel a session (by whom, why); notice is computed",
)
async def cancel(
    session_id: UUID, body: b.CancelBody, who: Scheduler, run: RunOnSession
) -> b.SessionOut:
    return await run(session_id, Cancel(body.cancelled_by, body.reason), who)


@router.post(
    "/sessions/{session_id}/move-request",
    response_model=b.SessionOut,
    summary="The beneficiary moves their own session to a free slot (consultant told)",
    responses={
        404: {"description": "not the caller's session"},
        409: {"description": "started, no longer planned, or the slot was taken"},
    },
)
async def move_request(
    session_id: UUID, body: b.MoveRequestBody, who: OwnBeneficiary, run: RunOnSession
) -> b.SessionOut:
    return await run(session_id, MoveAsBeneficiary(body.starts_at, body.message), who)


@router.post(
    "/sessions/{session_id}/absence-notice",
    response_model=b.SessionOut,
    summary="The beneficiary warns they will not come: cancelled by them (consultant told)",
    responses={
        404: {"description": "not the caller's session"},
        409: {"description": "started, or no longer planned"},
    },
)
async def absence_notice(
    session_id: UUID, body: b.AbsenceNoticeBody, who: OwnBeneficiary, run: RunOnSession
) -> b.SessionOut:
    return await run(session_id, NoticeOfAbsence(body.reason, body.message), who)


@router.get(
    "/sessions/{session_id}/free-slots",
    response_model=list[b.SlotOut],
    summary="Free slots of the session's consultant, long enough for it (to move it)",
)
async def session_free_slots(
    session_id: UUID,
    who: SessionReader,
    svc: Service,
    first: Annotated[BusinessDate, Query(alias="from", examples=["2026-03-09"])],
    last: Annotated[BusinessDate, Query(alias="to", examples=["2026-03-13"])],
) -> list[b.SlotOut]:
    state, _dossier = await svc.sessions.free_slots_for(who, session_id)
    found = await svc.calendars.free_slots_of(
        state.consultant_id, first, last, state.planned_minutes
    )
    return [b.SlotOut(starts_at=x.starts_at, ends_at=x.ends_at, minutes=x.minutes) for x in found]


@router.post(
    "/sessions/{session_id}/no-show",
    response_model=b.SessionOut,
    summary="Record that the beneficiary did not come",
)
async def no_show(session_id: UUID, who: Scheduler, run: RunOnSession) -> b.SessionOut:
    return await run(session_id, NoShow(), who)


@router.post(
    "/sessions/{session_id}/held",
    response_model=b.SessionOut,
    summary="Record that a session took place (actual start, duration)",
)
async def held(
    session_id: UUID, body: b.HeldBody, who: Scheduler, run: RunOnSession
) -> b.SessionOut:
    return await run(session_id, Held(body.started_at, body.duration_minutes), who)


@router.post(
    "/sessions/{session_id}/signatures",
    response_model=b.SessionOut,
    summary="Sign the attendance sheet (the beneficiary or the consultant)",
)
async def sign(session_id: UUID, body: b.SignBody, who: Signer, run: RunOnSession) -> b.SessionOut:
    return await run(session_id, Sign(body.signed_at), who)


@router.get(
    "/dossiers/{dossier_id}/attendance-sheet.pdf",
    response_class=Response,
    summary="The dossier's attendance sheet (PDF): held sessions and both signatures",
    responses={200: {"content": {"application/pdf": {}}}},
)
async def attendance_sheet(dossier_id: UUID, who: Scheduler, svc: Service) -> Response:
    dossier = await svc.sessions.dossier_for(who, dossier_id)
    pdf = await svc.calendars.attendance_sheet(dossier)
    return Response(pdf, media_type="application/pdf")
