"""The session rules, without I/O: gating, referent, room, conflicts, the 24-hour cap,
signatures."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from services.scheduling.domain.errors import Rejected, RejectionKind
from services.scheduling.domain.sessions import (
    Assessment,
    Booking,
    CancelSession,
    DossierFacts,
    Event,
    RecordNoShow,
    RecordSessionHeld,
    RescheduleSession,
    RoomFacts,
    ScheduleSession,
    Session,
    SessionCancelled,
    SessionHeld,
    SessionRescheduled,
    SessionScheduled,
    SignAttendance,
    StaffFacts,
    decide,
    evolve,
    fold,
)

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SITE = uuid.uuid4()
REFERENT = uuid.uuid4()
BENEFICIARY = uuid.uuid4()
ROOM = uuid.uuid4()
DOSSIER = DossierFacts(
    dossier_id=uuid.uuid4(),
    site_id=SITE,
    beneficiary_id=BENEFICIARY,
    convention_signed_at=NOW - timedelta(days=2),
    referent_id=REFERENT,
)
REFERENT_STAFF = StaffFacts(REFERENT, frozenset({"consultant"}), frozenset({SITE}))
CONFIDENTIAL_ROOM = RoomFacts(ROOM, SITE, confidential=True)
START = NOW + timedelta(days=3)


def schedule(**changes: object) -> ScheduleSession:
    command = ScheduleSession(
        session_id=uuid.uuid4(),
        phase="investigation",
        modality="in_person",
        consultant_id=REFERENT,
        room_id=ROOM,
        starts_at=START,
        planned_minutes=120,
        dossier=DOSSIER,
        consultant=REFERENT_STAFF,
        room=CONFIDENTIAL_ROOM,
    )
    return replace(command, **changes)  # type: ignore[arg-type]


def rejection(command: object, state: Session | None = None, now: datetime = NOW) -> Rejected:
    with pytest.raises(Rejected) as caught:
        decide(state, command, now)  # type: ignore[arg-type]
    return caught.value


def scheduled(command: ScheduleSession | None = None) -> Session:
    events = decide(None, command or schedule(), NOW)
    state = fold(events)
    assert state is not None
    return state


def held(state: Session, minutes: int = 120) -> Session:
    events = decide(
        state,
        RecordSessionHeld(started_at=state.starts_at, duration_minutes=minutes, dossier=DOSSIER),
        state.starts_at + timedelta(minutes=minutes),
    )
    return fold_onto(state, events)


def fold_onto(state: Session, events: Sequence[Event]) -> Session:
    for event in events:
        state = evolve(state, event)
    return state


def test_a_valid_session_is_scheduled_with_its_facts() -> None:
    command = schedule()
    (event,) = decide(None, command, NOW)
    assert isinstance(event, SessionScheduled)
    assert (event.site_id, event.room_id, event.consultant_id) == (SITE, ROOM, REFERENT)
    assert event.scheduled_at == NOW


def test_bilan_phase_needs_the_signed_convention() -> None:
    unsigned = replace(DOSSIER, convention_signed_at=None)
    refused = rejection(schedule(dossier=unsigned))
    assert (refused.kind, refused.code) == (RejectionKind.CONFLICT, "convention_not_signed")
    # The information meeting before the bilan needs no convention.
    (event,) = decide(None, schedule(dossier=unsigned, phase="information"), NOW)
    assert event.phase == "information"  # type: ignore[union-attr]


def test_only_the_referent_leads_unless_a_qualified_assessment_with_reason() -> None:
    other = uuid.uuid4()
    unqualified = StaffFacts(other, frozenset({"psychologist"}), frozenset({SITE}))
    refused = rejection(schedule(consultant_id=other, consultant=unqualified))
    assert refused.code == "not_the_referent"
    refused = rejection(
        schedule(
            consultant_id=other,
            consultant=unqualified,
            assessment=Assessment("habilitation_required"),
        )
    )
    assert refused.code == "not_qualified"
    qualified = replace(unqualified, habilitations=frozenset({"psychometric_tests"}))
    refused = rejection(
        schedule(
            consultant_id=other,
            consultant=qualified,
            assessment=Assessment("habilitation_required", "projective_tests"),
        )
    )
    assert refused.code == "habilitation_missing"
    (event,) = decide(
        None,
        schedule(
            consultant_id=other,
            consultant=qualified,
            assessment=Assessment("habilitation_required", "psychometric_tests"),
        ),
        NOW,
    )
    assert event.assessment_reason == "habilitation_required"  # type: ignore[union-attr]


def test_leader_must_be_an_active_consultant_of_the_site() -> None:
    assert rejection(schedule(consultant=None)).code == "consultant_unknown"
    gone = replace(REFERENT_STAFF, active=False)
    assert rejection(schedule(consultant=gone)).code == "consultant_unknown"
    manager = replace(REFERENT_STAFF, roles=frozenset({"site_manager"}))
    assert rejection(schedule(consultant=manager)).code == "not_a_consultant"
    elsewhere = replace(REFERENT_STAFF, site_ids=frozenset({uuid.uuid4()}))
    assert rejection(schedule(consultant=elsewhere)).code == "consultant_other_site"


def test_in_person_needs_a_confidential_room_of_the_dossier_site() -> None:
    open_plan = replace(CONFIDENTIAL_ROOM, confidential=False)
    assert rejection(schedule(room=open_plan)).code == "room_not_confidential"
    elsewhere = replace(CONFIDENTIAL_ROOM, site_id=uuid.uuid4())
    assert rejection(schedule(room=elsewhere)).code == "room_other_site"
    assert rejection(schedule(room_id=None, room=None)).code == "room_required"
    assert rejection(schedule(room=None)).code == "room_unknown"
    remote_with_room = schedule(modality="remote")
    assert rejection(remote_with_room).code == "room_for_remote"
    (event,) = decide(
        None, schedule(modality="remote", room_id=None, room=None, join_link="https://v/x"), NOW
    )
    assert event.room_id is None  # type: ignore[union-attr]
    assert event.join_link == "https://v/x"  # type: ignore[union-attr]


def test_no_double_booking_of_consultant_or_room() -> None:
    taken = uuid.uuid4()
    consultant_busy = Booking(taken, REFERENT, None, START + timedelta(minutes=60), 60)
    refused = rejection(schedule(bookings=(consultant_busy,)))
    assert (refused.kind, refused.code) == (RejectionKind.CONFLICT, "consultant_double_booked")
    assert refused.extra["conflicting_session_id"] == str(taken)
    room_busy = Booking(taken, uuid.uuid4(), ROOM, START - timedelta(minutes=30), 45)
    assert rejection(schedule(bookings=(room_busy,))).code == "room_double_booked"
    # Back to back is not a conflict.
    adjacent = Booking(taken, REFERENT, ROOM, START + timedelta(minutes=120), 60)
    assert decide(None, schedule(bookings=(adjacent,)), NOW)


def test_twenty_four_hour_cap_says_what_is_left() -> None:
    refused = rejection(schedule(bilan_minutes_used=1400, planned_minutes=60))
    assert (refused.kind, refused.code) == (RejectionKind.INVALID, "duration_cap_exceeded")
    assert refused.extra["remaining_minutes"] == 40
    assert "40 minutes" in refused.detail
    assert decide(None, schedule(bilan_minutes_used=1380, planned_minutes=60), NOW)
    # Follow-up time is outside the 24 hours.
    assert decide(None, schedule(bilan_minutes_used=1440, phase="follow_up"), NOW)


def test_held_time_is_capped_too_and_never_before_the_convention() -> None:
    state = scheduled()
    later = state.starts_at + timedelta(hours=3)
    over = RecordSessionHeld(state.starts_at, 90, DOSSIER, bilan_minutes_used=1400)
    assert rejection(over, state, later).code == "duration_cap_exceeded"
    signed_after = replace(DOSSIER, convention_signed_at=state.starts_at + timedelta(minutes=1))
    early = RecordSessionHeld(state.starts_at, 90, signed_after)
    assert rejection(early, state, later).code == "convention_not_signed"
    future = RecordSessionHeld(later + timedelta(hours=1), 90, DOSSIER)
    assert rejection(future, state, later).code == "held_in_future"
    (event,) = decide(state, RecordSessionHeld(state.starts_at, 90, DOSSIER), later)
    assert isinstance(event, SessionHeld)
    assert event.duration_minutes == 90


def test_dossier_end_stops_new_sessions_except_follow_up_after_completion() -> None:
    abandoned = replace(DOSSIER, abandoned_at=NOW)
    assert rejection(schedule(dossier=abandoned)).code == "dossier_ended"
    completed = replace(DOSSIER, completed_at=NOW)
    assert rejection(schedule(dossier=completed)).code == "dossier_ended"
    assert decide(None, schedule(dossier=completed, phase="follow_up"), NOW)


def test_withdrawal_stops_every_new_session() -> None:
    withdrawn = replace(DOSSIER, withdrawn_at=NOW)
    for phase in ("information", "preliminary", "follow_up"):
        assert rejection(schedule(dossier=withdrawn, phase=phase)).code == "dossier_ended"


def test_a_refused_convention_stops_bilan_sessions_until_another_is_signed() -> None:
    refused = replace(
        DOSSIER,
        convention_signed_at=None,
        convention_refused_at=NOW - timedelta(days=1),
    )
    assert rejection(schedule(dossier=refused)).code == "convention_refused"
    assert decide(None, schedule(dossier=refused, phase="information"), NOW)
    signed_again = replace(refused, convention_signed_at=NOW - timedelta(hours=1))
    assert decide(None, schedule(dossier=signed_again), NOW)


def test_reschedule_cancel_and_no_show() -> None:
    state = scheduled()
    new_start = START + timedelta(days=1)
    (moved,) = decide(state, RescheduleSession(new_start, "beneficiary"), NOW)
    assert isinstance(moved, SessionRescheduled)
    assert moved.previous_starts_at == START
    moved_state = fold_onto(state, [moved])
    assert (moved_state.starts_at, moved_state.revision) == (new_start, 1)
    clash = Booking(uuid.uuid4(), REFERENT, None, new_start, 30)
    assert rejection(RescheduleSession(new_start, "provider", (clash,)), state).code == (
        "consultant_double_booked"
    )
    (cancelled,) = decide(state, CancelSession("provider", "illness"), START - timedelta(hours=5))
    assert isinstance(cancelled, SessionCancelled)
    assert cancelled.notice_hours == 5.0
    gone = fold_onto(state, [cancelled])
    assert rejection(RescheduleSession(new_start, "provider"), gone).code == (
        "session_not_scheduled"
    )
    assert rejection(RecordNoShow(), state, START - timedelta(minutes=1)).code == (
        "session_not_started"
    )
    assert decide(state, RecordNoShow(), START + timedelta(minutes=20))


def test_signature_rules() -> None:
    state = scheduled()
    at = state.starts_at + timedelta(hours=2)
    beneficiary_signs = SignAttendance("beneficiary", BENEFICIARY, at, DOSSIER)
    assert rejection(beneficiary_signs, state, at).code == "session_not_held"
    done = held(state)
    impostor = SignAttendance("beneficiary", uuid.uuid4(), at, DOSSIER)
    assert rejection(impostor, done, at).kind == RejectionKind.FORBIDDEN
    other_consultant = SignAttendance("consultant", uuid.uuid4(), at, DOSSIER)
    assert rejection(other_consultant, done, at).code == "not_the_signer"
    before = SignAttendance("beneficiary", BENEFICIARY, START - timedelta(minutes=5), DOSSIER)
    assert rejection(before, done, at).code == "signature_time_invalid"
    events = decide(done, beneficiary_signs, at)
    signed = fold_onto(done, events)
    assert rejection(beneficiary_signs, signed, at).code == "already_signed"
    events = decide(signed, SignAttendance("consultant", REFERENT, at, DOSSIER), at)
    both = fold_onto(signed, events)
    assert set(both.signatures) == {"beneficiary", "consultant"}


def test_cap_minutes_follow_the_status() -> None:
    state = scheduled(schedule(planned_minutes=120))
    assert state.cap_minutes() == 120
    assert held(state, 75).cap_minutes() == 75
    (cancelled,) = decide(state, CancelSession("beneficiary", "other"), NOW)
    assert fold_onto(state, [cancelled]).cap_minutes() == 0
    info = scheduled(schedule(phase="information"))
    assert info.cap_minutes() == 0
