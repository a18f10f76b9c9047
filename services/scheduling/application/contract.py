"""Translation of domain events into the integration contract (`events.md`).

Only ids, closed-list categories, times and durations cross: the join link of a remote
session, room and staff names, and the assessment reason stay in this service.
"""

from __future__ import annotations

from uuid import UUID

from services.scheduling.domain import sessions as s
from services.scheduling.domain import sites
from services.scheduling.domain import staff as st
from shared.contracts import scheduling as c
from shared.contracts.base import IntegrationEvent


def session_event(after: s.Session, event: s.Event) -> IntegrationEvent:
    """The contract event for one session event; `after` is the session once it applied."""
    ids = {"session_id": after.session_id, "dossier_id": after.dossier_id}
    if isinstance(event, s.SessionScheduled):
        return c.SessionScheduled(
            **ids,
            consultant_id=event.consultant_id,
            site_id=event.site_id,
            room_id=event.room_id,
            modality=event.modality,
            phase=event.phase,
            starts_at=event.starts_at,
            planned_minutes=event.planned_minutes,
            scheduled_at=event.scheduled_at,
        )
    if isinstance(event, s.SessionRescheduled):
        return c.SessionRescheduled(
            **ids,
            starts_at=event.starts_at,
            previous_starts_at=event.previous_starts_at,
            requested_by=event.requested_by,
            rescheduled_at=event.rescheduled_at,
        )
    if isinstance(event, s.SessionCancelled):
        return c.SessionCancelled(
            **ids,
            cancelled_by=event.cancelled_by,
            notice_hours=event.notice_hours,
            reason=event.reason,
            cancelled_at=event.cancelled_at,
        )
    if isinstance(event, s.NoShowRecorded):
        return c.NoShowRecorded(**ids, recorded_at=event.recorded_at)
    if isinstance(event, s.SessionHeld):
        return c.SessionHeld(
            **ids,
            consultant_id=after.consultant_id,
            site_id=after.site_id,
            phase=after.phase,
            modality=after.modality,
            started_at=event.started_at,
            duration_minutes=event.duration_minutes,
        )
    if isinstance(event, s.AttendanceSigned):
        return c.AttendanceSigned(**ids, signer_role=event.signer_role, signed_at=event.signed_at)
    return c.SessionReminderSent(**ids, channel="email", sent_at=event.sent_at)


def staff_event(staff_id: UUID, event: st.Event) -> IntegrationEvent:
    """The contract event for one staff event."""
    if isinstance(event, st.StaffMemberOnboarded):
        return c.StaffMemberOnboarded(
            staff_id=event.staff_id,
            roles=list(event.roles),
            site_ids=list(event.site_ids),
            contract=event.contract,
            onboarded_at=event.onboarded_at,
        )
    if isinstance(event, st.QualificationRecorded):
        return c.QualificationRecorded(
            staff_id=staff_id,
            qualification=event.qualification,
            habilitations=list(event.habilitations),
            recorded_at=event.recorded_at,
        )
    if isinstance(event, st.ContinuousTrainingCompleted):
        return c.ContinuousTrainingCompleted(
            staff_id=staff_id,
            title_code=event.title_code,
            hours=event.hours,
            completed_at=event.completed_at,
        )
    if isinstance(event, st.CompetenceEvaluated):
        return c.CompetenceEvaluated(
            staff_id=staff_id, outcome=event.outcome, evaluated_at=event.evaluated_at
        )
    return c.StaffMemberLeft(staff_id=staff_id, left_at=event.left_at)


def site_event(event: sites.SiteOpened) -> IntegrationEvent:
    return c.SiteOpened(
        site_id=event.site_id, name=event.name, region=event.region, opened_at=event.opened_at
    )


def room_event(event: sites.RoomRegistered) -> IntegrationEvent:
    return c.RoomRegistered(
        room_id=event.room_id,
        site_id=event.site_id,
        confidential=event.confidential,
        registered_at=event.registered_at,
    )
