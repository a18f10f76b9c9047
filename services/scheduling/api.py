"""HTTP routes: requests to commands and queries, results to bodies. No SQL here."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any
from uuid import UUID, uuid4

from fastapi import APIRouter, Depends, Header, Query, Response

from services.scheduling import schemas as b
from services.scheduling.application.access import LEADERS, MANAGERS, STAFF_READERS
from services.scheduling.application.calendars import CalendarService
from services.scheduling.application.directory import DirectoryService
from services.scheduling.application.sessions import ScheduleRequest, SessionService
from services.scheduling.domain import sessions as s
from services.scheduling.domain import staff as st
from shared.auth import Principal, Role, require_roles
from shared.inputs import BusinessDate
from shared.web import Problem

InternalService = Annotated[Principal, Depends(require_roles(Role.SERVICE))]
Manager = Annotated[Principal, Depends(require_roles(*MANAGERS))]
Admin = Annotated[Principal, Depends(require_roles(Role.ADMIN))]
StaffReader = Annotated[Principal, Depends(require_roles(*STAFF_READERS))]
TrainingReader = Annotated[Principal, Depends(require_roles(*MANAGERS, Role.QUALITY_LEAD))]
Scheduler = Annotated[Principal, Depends(require_roles(*MANAGERS, *LEADERS))]
Signer = Annotated[Principal, Depends(require_roles(Role.BENEFICIARY, *LEADERS))]
OwnBeneficiary = Annotated[Principal, Depends(require_roles(Role.BENEFICIARY))]
SessionReader = Annotated[Principal, Depends(require_roles(Role.BENEFICIARY, *MANAGERS, *LEADERS))]
IfMatch = Annotated[
    str | None,
    Header(description='The version read (ETag), e.g. "3": writes to a stale version get 409.'),
]


def expected_version(if_match: str | None) -> int:
    """The version named by `If-Match`; 428 without one (optimistic concurrency)."""
    if if_match is None:
        raise Problem(428, "precondition_required", 'send If-Match: "<version>" (the ETag read)')
    text = if_match.strip().removeprefix("W/").strip('"')
    if not text.isdigit():
        raise Problem(400, "bad_if_match", 'If-Match is "<version>", a decimal number')
    return int(text)


def session_out(state: s.Session, version: int, response: Response | None = None) -> b.SessionOut:
    if response is not None:
        response.headers["ETag"] = f'"{version}"'
    return b.SessionOut(
        session_id=state.session_id,
        dossier_id=state.dossier_id,
        site_id=state.site_id,
        consultant_id=state.consultant_id,
        room_id=state.room_id,
        modality=state.modality,
        phase=state.phase,
        starts_at=state.starts_at,
        planned_minutes=state.planned_minutes,
        status=state.status,
        join_link=state.join_link,
        held_started_at=state.held_started_at,
        held_minutes=state.held_minutes,
        signatures=b.Signatures(**state.signatures),
        version=version,
    )


def build_router(
    sessions: SessionService, directory: DirectoryService, calendars: CalendarService
) -> APIRouter:
    """Every route of the service."""
    router = APIRouter()
    _sites(router, directory)
    _staff(router, directory, calendars)
    _sessions(router, sessions, calendars, directory)
    _calendars(router, calendars)
    return router


def _sites(router: APIRouter, directory: DirectoryService) -> None:
    tags: list[str | Enum] = ["sites"]

    @router.post(
        "/sites",
        status_code=201,
        response_model=b.SiteOut,
        tags=tags,
        summary="Open a site (admin)",
    )
    async def open_site(body: b.OpenSiteBody, who: Admin) -> b.SiteOut:
        event = await directory.open_site(uuid4(), body.name, body.region)
        return b.SiteOut(**event.model_dump(exclude={"type"}))

    @router.get(
        "/sites",
        response_model=list[b.SiteOut],
        tags=tags,
        summary="The sites the caller's token covers",
    )
    async def list_sites(who: StaffReader) -> list[b.SiteOut]:
        rows = await directory.sites(who)
        return [b.SiteOut(**dict(r)) for r in rows]

    @router.post(
        "/sites/{site_id}/rooms",
        status_code=201,
        response_model=b.RoomOut,
        tags=tags,
        summary="Register a room, saying whether it is confidential",
    )
    async def register_room(site_id: UUID, body: b.RegisterRoomBody, who: Manager) -> b.RoomOut:
        event = await directory.register_room(who, site_id, body.name, body.confidential)
        return b.RoomOut(**event.model_dump(exclude={"type"}))

    @router.get(
        "/sites/{site_id}/rooms",
        response_model=list[b.RoomOut],
        tags=tags,
        summary="Rooms of a site",
    )
    async def list_rooms(site_id: UUID, who: StaffReader) -> list[b.RoomOut]:
        return [b.RoomOut(**dict(r)) for r in await directory.rooms(who, site_id)]


def _staff(router: APIRouter, directory: DirectoryService, calendars: CalendarService) -> None:
    tags: list[str | Enum] = ["staff"]

    @router.post(
        "/staff",
        status_code=201,
        response_model=b.StaffOut,
        tags=tags,
        summary="Onboard a staff member (roles, sites, contract)",
    )
    async def onboard(body: b.OnboardBody, who: Manager, response: Response) -> b.StaffOut:
        staff_id = body.staff_id or uuid4()
        await directory.onboard(
            who,
            staff_id,
            name=body.name,
            roles=tuple(body.roles),
            site_ids=tuple(body.site_ids),
            contract_type=body.contract,
            email=body.email,
        )
        return await _staff_out(who, staff_id, response)

    @router.put(
        "/staff/{staff_id}/email",
        response_model=b.StaffOut,
        tags=tags,
        summary="Set or change a staff member's work e-mail address (never published)",
        responses={409: {"description": "they left, or another staff member has it"}},
    )
    async def set_email(
        staff_id: UUID, body: b.EmailBody, who: Manager, response: Response
    ) -> b.StaffOut:
        await directory.set_email(who, staff_id, body.email)
        return await _staff_out(who, staff_id, response)

    @router.get(
        "/sites/{site_id}/staff",
        response_model=list[b.StaffOut],
        tags=tags,
        summary="Staff of a site, with their habilitations",
    )
    async def list_staff(site_id: UUID, who: TrainingReader) -> list[b.StaffOut]:
        rows = await directory.staff_of_site(who, site_id)
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
        tags=tags,
        summary="A staff member with qualifications, training and evaluations",
    )
    async def get_staff(staff_id: UUID, who: TrainingReader, response: Response) -> b.StaffOut:
        return await _staff_out(who, staff_id, response)

    async def _staff_out(who: Principal, staff_id: UUID, response: Response) -> b.StaffOut:
        row, records, name, email = await directory.staff_member(who, staff_id)
        response.headers["ETag"] = f'"{row["version"]}"'
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
                b.StaffRecordOut(**{k: r[k] for k in b.StaffRecordOut.model_fields})
                for r in records
            ],
        )

    async def _update(
        who: Principal,
        staff_id: UUID,
        if_match: str | None,
        command: st.Command,
        response: Response,
    ) -> b.StaffOut:
        await directory.update(who, staff_id, expected_version(if_match), command)
        return await _staff_out(who, staff_id, response)

    @router.post(
        "/staff/{staff_id}/qualifications",
        response_model=b.StaffOut,
        tags=tags,
        summary="Record a qualification and the habilitations it confers",
    )
    async def qualification(
        staff_id: UUID,
        body: b.QualificationBody,
        who: Manager,
        response: Response,
        if_match: IfMatch = None,
    ) -> b.StaffOut:
        registration = body.psychologist_registration
        command = st.RecordQualification(
            body.qualification,
            tuple(body.habilitations),
            body.recorded_at,
            registry=registration.registry if registration else None,
        )
        await directory.update(
            who,
            staff_id,
            expected_version(if_match),
            command,
            registration_number=registration.number if registration else None,
        )
        return await _staff_out(who, staff_id, response)

    @router.post(
        "/staff/{staff_id}/trainings",
        response_model=b.StaffOut,
        tags=tags,
        summary="Record a continuous training completed (ind. 22)",
    )
    async def training(
        staff_id: UUID,
        body: b.TrainingBody,
        who: Manager,
        response: Response,
        if_match: IfMatch = None,
    ) -> b.StaffOut:
        command = st.RecordTraining(body.title_code, body.hours, body.completed_at)
        return await _update(who, staff_id, if_match, command, response)

    @router.post(
        "/staff/{staff_id}/evaluations",
        response_model=b.StaffOut,
        tags=tags,
        summary="Record a competence evaluation (ind. 21)",
    )
    async def evaluation(
        staff_id: UUID,
        body: b.EvaluationBody,
        who: Manager,
        response: Response,
        if_match: IfMatch = None,
    ) -> b.StaffOut:
        command = st.EvaluateCompetence(body.outcome, body.evaluated_at)
        return await _update(who, staff_id, if_match, command, response)

    @router.post(
        "/staff/{staff_id}/leaving",
        response_model=b.StaffOut,
        tags=tags,
        summary="Record that a staff member left",
    )
    async def leaving(
        staff_id: UUID,
        body: b.LeavingBody,
        who: Manager,
        response: Response,
        if_match: IfMatch = None,
    ) -> b.StaffOut:
        return await _update(who, staff_id, if_match, st.RecordLeaving(body.left_at), response)

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
    ) -> list[b.StaffRef]:
        """The keyed blind index of the normalised address (`shared.blind_index`), never the
        address; only staff who have not left."""
        return [_ref(r) for r in await directory.active_by_email_index(index)]

    @router.get(
        "/internal/staff/{staff_id}",
        response_model=b.StaffRef,
        tags=internal,
        summary="A staff member's roles and sites, while they work here (the console)",
        responses={404: {"description": "unknown, or left"}},
    )
    async def staff_reference(staff_id: UUID, _who: InternalService) -> b.StaffRef:
        return _ref(await directory.active_member(staff_id))

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
    async def staff_contact(staff_id: UUID, _who: InternalService) -> b.StaffContact:
        found = await directory.contact(staff_id)
        return b.StaffContact(name=found.name, email=found.email)

    @router.get(
        "/staff/{staff_id}/free-slots",
        response_model=list[b.SlotOut],
        tags=tags,
        summary="Free slots in a staff member's working hours between two dates",
    )
    async def slots(
        staff_id: UUID,
        who: StaffReader,
        first: Annotated[BusinessDate, Query(alias="from", examples=["2026-03-09"])],
        last: Annotated[BusinessDate, Query(alias="to", examples=["2026-03-13"])],
        min_minutes: Annotated[int, Query(ge=15, le=600)] = 60,
    ) -> list[b.SlotOut]:
        found = await calendars.free_slots(who, staff_id, first, last, min_minutes)
        return [
            b.SlotOut(starts_at=x.starts_at, ends_at=x.ends_at, minutes=x.minutes) for x in found
        ]


def _ref(row: Any) -> b.StaffRef:
    return b.StaffRef(staff_id=row["staff_id"], roles=row["roles"], site_ids=row["site_ids"])


def _sessions(
    router: APIRouter,
    sessions: SessionService,
    calendars: CalendarService,
    directory: DirectoryService,
) -> None:
    tags: list[str | Enum] = ["sessions"]

    @router.post(
        "/dossiers/{dossier_id}/sessions",
        status_code=201,
        response_model=b.SessionOut,
        tags=tags,
        summary="Schedule a session of a dossier",
    )
    async def schedule(
        dossier_id: UUID, body: b.ScheduleBody, who: Scheduler, response: Response
    ) -> b.SessionOut:
        request = ScheduleRequest(**body.model_dump())
        state, version = await sessions.schedule(who, dossier_id, request)
        return session_out(state, version, response)

    @router.get(
        "/dossiers/{dossier_id}/sessions",
        response_model=list[b.SessionOut],
        tags=tags,
        summary="Sessions of a dossier",
    )
    async def list_sessions(dossier_id: UUID, who: SessionReader) -> list[b.SessionOut]:
        return [session_out(x, v) for x, v in await sessions.sessions_of(who, dossier_id)]

    @router.get(
        "/dossiers/{dossier_id}/people-and-places",
        response_model=b.PeopleAndPlacesOut,
        tags=tags,
        summary="Who leads a dossier's sessions, its referent, and where the sessions are",
    )
    async def people_and_places(dossier_id: UUID, who: SessionReader) -> b.PeopleAndPlacesOut:
        dossier = await sessions.dossier_for(who, dossier_id)
        booked = [
            (x.consultant_id, x.room_id) for x, _ in await sessions.sessions_of(who, dossier_id)
        ]
        names, places = await directory.people_and_places(dossier.referent_id, booked)
        return b.PeopleAndPlacesOut(
            referent_id=dossier.referent_id,
            staff=[b.NamedStaff(staff_id=k, name=v) for k, v in sorted(names.items())],
            rooms=[b.Place(room_id=k, place=v) for k, v in sorted(places.items())],
        )

    @router.get(
        "/sessions/{session_id}",
        response_model=b.SessionOut,
        tags=tags,
        summary="A session, with its version as ETag",
    )
    async def get_session(session_id: UUID, who: SessionReader, response: Response) -> b.SessionOut:
        state, version = await sessions.session_for(who, session_id)
        return session_out(state, version, response)

    @router.post(
        "/sessions/{session_id}/reschedule",
        response_model=b.SessionOut,
        tags=tags,
        summary="Move a session (who asked)",
    )
    async def reschedule(
        session_id: UUID,
        body: b.RescheduleBody,
        who: Scheduler,
        response: Response,
        if_match: IfMatch = None,
    ) -> b.SessionOut:
        state, version = await sessions.reschedule(
            who, session_id, expected_version(if_match), body.starts_at, body.requested_by
        )
        return session_out(state, version, response)

    @router.post(
        "/sessions/{session_id}/cancellation",
        response_model=b.SessionOut,
        tags=tags,
        summary="Cancel a session (by whom, why); notice is computed",
    )
    async def cancel(
        session_id: UUID,
        body: b.CancelBody,
        who: Scheduler,
        response: Response,
        if_match: IfMatch = None,
    ) -> b.SessionOut:
        state, version = await sessions.cancel(
            who, session_id, expected_version(if_match), body.cancelled_by, body.reason
        )
        return session_out(state, version, response)

    @router.post(
        "/sessions/{session_id}/move-request",
        response_model=b.SessionOut,
        tags=tags,
        summary="The beneficiary moves their own session to a free slot (consultant told)",
        responses={
            404: {"description": "not the caller's session"},
            409: {"description": "started, no longer planned, or the slot was taken"},
        },
    )
    async def move_request(
        session_id: UUID,
        body: b.MoveRequestBody,
        who: OwnBeneficiary,
        response: Response,
        if_match: IfMatch = None,
    ) -> b.SessionOut:
        state, version = await sessions.move_as_beneficiary(
            who, session_id, expected_version(if_match), body.starts_at, body.message
        )
        return session_out(state, version, response)

    @router.post(
        "/sessions/{session_id}/absence-notice",
        response_model=b.SessionOut,
        tags=tags,
        summary="The beneficiary warns they will not come: cancelled by them (consultant told)",
        responses={
            404: {"description": "not the caller's session"},
            409: {"description": "started, or no longer planned"},
        },
    )
    async def absence_notice(
        session_id: UUID,
        body: b.AbsenceNoticeBody,
        who: OwnBeneficiary,
        response: Response,
        if_match: IfMatch = None,
    ) -> b.SessionOut:
        state, version = await sessions.cancel_as_beneficiary(
            who, session_id, expected_version(if_match), body.reason, body.message
        )
        return session_out(state, version, response)

    @router.get(
        "/sessions/{session_id}/free-slots",
        response_model=list[b.SlotOut],
        tags=tags,
        summary="Free slots of the session's consultant, long enough for it (to move it)",
    )
    async def session_free_slots(
        session_id: UUID,
        who: SessionReader,
        first: Annotated[BusinessDate, Query(alias="from", examples=["2026-03-09"])],
        last: Annotated[BusinessDate, Query(alias="to", examples=["2026-03-13"])],
    ) -> list[b.SlotOut]:
        state, _dossier = await sessions.free_slots_for(who, session_id)
        found = await calendars.free_slots_of(
            state.consultant_id, first, last, state.planned_minutes
        )
        return [
            b.SlotOut(starts_at=x.starts_at, ends_at=x.ends_at, minutes=x.minutes) for x in found
        ]

    @router.post(
        "/sessions/{session_id}/no-show",
        response_model=b.SessionOut,
        tags=tags,
        summary="Record that the beneficiary did not come",
    )
    async def no_show(
        session_id: UUID, who: Scheduler, response: Response, if_match: IfMatch = None
    ) -> b.SessionOut:
        state, version = await sessions.record_no_show(who, session_id, expected_version(if_match))
        return session_out(state, version, response)

    @router.post(
        "/sessions/{session_id}/held",
        response_model=b.SessionOut,
        tags=tags,
        summary="Record that a session took place (actual start, duration)",
    )
    async def held(
        session_id: UUID,
        body: b.HeldBody,
        who: Scheduler,
        response: Response,
        if_match: IfMatch = None,
    ) -> b.SessionOut:
        state, version = await sessions.record_held(
            who, session_id, expected_version(if_match), body.started_at, body.duration_minutes
        )
        return session_out(state, version, response)

    @router.post(
        "/sessions/{session_id}/signatures",
        response_model=b.SessionOut,
        tags=tags,
        summary="Sign the attendance sheet (the beneficiary or the consultant)",
    )
    async def sign(
        session_id: UUID,
        body: b.SignBody,
        who: Signer,
        response: Response,
        if_match: IfMatch = None,
    ) -> b.SessionOut:
        state, version = await sessions.sign(
            who, session_id, expected_version(if_match), body.signed_at
        )
        return session_out(state, version, response)

    @router.get(
        "/dossiers/{dossier_id}/attendance-sheet.pdf",
        tags=tags,
        response_class=Response,
        summary="The dossier's attendance sheet (PDF): held sessions and both signatures",
        responses={200: {"content": {"application/pdf": {}}}},
    )
    async def attendance_sheet(dossier_id: UUID, who: Scheduler) -> Response:
        dossier = await sessions.dossier_for(who, dossier_id)
        pdf = await calendars.attendance_sheet(dossier)
        return Response(pdf, media_type="application/pdf")


def _calendars(router: APIRouter, calendars: CalendarService) -> None:
    tags: list[str | Enum] = ["calendars"]

    @router.post(
        "/staff/{staff_id}/calendar-feed",
        response_model=b.FeedOut,
        tags=tags,
        summary="Create or rotate the secret address of a staff member's calendar",
    )
    async def rotate(staff_id: UUID, who: StaffReader) -> b.FeedOut:
        secret = await calendars.rotate_feed_secret(who, staff_id)
        return b.FeedOut(url=f"/calendars/{secret}.ics")

    @router.get(
        "/calendars/{secret}.ics",
        tags=tags,
        response_class=Response,
        summary="iCalendar feed (RFC 5545), read with the secret in its address",
        responses={200: {"content": {"text/calendar": {}}}},
    )
    async def feed(secret: str) -> Response:
        return Response(await calendars.feed(secret), media_type="text/calendar; charset=utf-8")
