"""Every domain event becomes the contract event of events.md, and nothing internal leaks."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from services.scheduling.application import contract
from services.scheduling.domain import sessions as s
from services.scheduling.domain import staff as st
from shared.contracts.registry import event_type

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LINK = "https://visio.example/s/secret-token"


def test_session_events_translate_to_valid_contract_events_without_the_link() -> None:
    scheduled = s.SessionScheduled(
        session_id=uuid.uuid4(),
        dossier_id=uuid.uuid4(),
        site_id=uuid.uuid4(),
        consultant_id=uuid.uuid4(),
        room_id=None,
        modality="remote",
        phase="conclusion",
        starts_at=NOW + timedelta(days=1),
        planned_minutes=90,
        join_link=LINK,
        assessment_reason="other",
        scheduled_at=NOW,
    )
    later = NOW + timedelta(days=1, hours=2)
    events: list[s.Event] = [
        scheduled,
        s.SessionRescheduled(
            starts_at=NOW + timedelta(days=2),
            previous_starts_at=scheduled.starts_at,
            requested_by="provider",
            rescheduled_at=NOW,
        ),
        s.ReminderSent(offset_minutes=120, sent_at=NOW),
        s.SessionHeld(started_at=later, duration_minutes=80),
        s.AttendanceSigned(signer_role="consultant", signed_at=later),
    ]
    state = None
    names = []
    for event in events:
        state = s.evolve(state, event)
        published = contract.session_event(state, event)
        model = event_type(published.ce_type())
        again = model.model_validate_json(published.model_dump_json())
        assert again == published
        assert published.subject() == str(scheduled.session_id)
        assert published.partition_key() == str(scheduled.dossier_id)
        assert LINK not in published.model_dump_json()
        assert "assessment" not in published.model_dump_json()
        names.append(published.event_name)
    assert names == [
        "SessionScheduled",
        "SessionRescheduled",
        "SessionReminderSent",
        "SessionHeld",
        "AttendanceSigned",
    ]
    cancelled = s.SessionCancelled(
        cancelled_by="beneficiary", notice_hours=12.5, reason="illness", cancelled_at=NOW
    )
    assert contract.session_event(state, cancelled).event_name == "SessionCancelled"  # type: ignore[arg-type]
    no_show = s.NoShowRecorded(recorded_at=NOW)
    assert contract.session_event(state, no_show).event_name == "NoShowRecorded"  # type: ignore[arg-type]


def test_staff_events_translate_and_are_keyed_by_staff() -> None:
    staff_id = uuid.uuid4()
    events: list[st.Event] = [
        st.StaffMemberOnboarded(
            staff_id=staff_id,
            roles=["psychologist"],
            site_ids=[uuid.uuid4()],
            contract="subcontractor",
            onboarded_at=NOW,
        ),
        st.QualificationRecorded(
            qualification="master_psychologie",
            habilitations=["psychometric_tests"],
            recorded_at=NOW,
        ),
        st.ContinuousTrainingCompleted(title_code="ethique", hours=3.5, completed_at=NOW),
        st.CompetenceEvaluated(outcome="partially_meets", evaluated_at=NOW),
        st.StaffMemberLeft(left_at=NOW),
    ]
    for event in events:
        published = contract.staff_event(staff_id, event)
        assert published.partition_key() == str(staff_id)
        model = event_type(published.ce_type())
        assert model.model_validate_json(published.model_dump_json()) == published
