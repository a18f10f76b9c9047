"""Whatever bookings are asked for, in any order, the accepted ones never overlap for one
consultant and never exceed the 24 hours of a dossier."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from services.scheduling.domain.errors import Rejected
from services.scheduling.domain.sessions import Booking, SessionScheduled, decide
from services.scheduling.domain.values import DURATION_CAP_MINUTES, overlaps
from tests.unit.scheduling.test_session_rules import NOW, REFERENT, schedule

requests = st.lists(
    st.tuples(st.integers(min_value=1, max_value=60 * 24 * 10), st.integers(15, 480)),
    max_size=30,
)


@settings(max_examples=200, deadline=None)
@given(requests)
def test_accepted_sessions_never_overlap_nor_exceed_the_cap(asked: list[tuple[int, int]]) -> None:
    accepted: list[SessionScheduled] = []
    refusals: set[str] = set()
    for offset, minutes in asked:
        bookings = tuple(
            Booking(e.session_id, e.consultant_id, e.room_id, e.starts_at, e.planned_minutes)
            for e in accepted
        )
        command = replace(
            schedule(),
            session_id=uuid.uuid4(),
            starts_at=NOW + timedelta(minutes=offset),
            planned_minutes=minutes,
            bookings=bookings,
            bilan_minutes_used=sum(e.planned_minutes for e in accepted),
        )
        try:
            (event,) = decide(None, command, NOW)
        except Rejected as refused:
            refusals.add(refused.code)
            continue
        assert isinstance(event, SessionScheduled)
        accepted.append(event)
    assert refusals <= {"consultant_double_booked", "room_double_booked", "duration_cap_exceeded"}
    assert sum(e.planned_minutes for e in accepted) <= DURATION_CAP_MINUTES
    for i, a in enumerate(accepted):
        assert a.consultant_id == REFERENT
        for b in accepted[i + 1 :]:
            assert not overlaps(a.starts_at, a.planned_minutes, b.starts_at, b.planned_minutes)


def test_overlap_is_half_open() -> None:
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert overlaps(start, 60, start + timedelta(minutes=59), 10)
    assert not overlaps(start, 60, start + timedelta(minutes=60), 10)
    assert not overlaps(start + timedelta(minutes=60), 10, start, 60)
