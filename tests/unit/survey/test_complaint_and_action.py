"""Complaint register and improvement actions: steps in order, deadlines, overdue."""

from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

import pytest

from services.survey.domain import action as a
from services.survey.domain import complaint as c
from services.survey.domain.calendar import add_working_days, easter_sunday, is_working_day
from services.survey.domain.errors import InvalidCommand, NotAllowedNow

# Friday 6 March 2026, 10:00 in Paris (09:00 UTC).
FRIDAY = datetime(2026, 3, 6, 9, 0, tzinfo=UTC)


def receive(at: datetime = FRIDAY, policy: c.ComplaintPolicy | None = None) -> c.Complaint:
    (event,) = c.decide(
        None,
        c.ReceiveComplaint(
            uuid4(),
            uuid4(),
            None,
            "beneficiary",
            "organisation",
            "email",
            "enc:v1:x",
            at,
            "staff-1",
            policy or c.ComplaintPolicy(),
        ),
        at,
    )
    return c.evolve(None, event)


def step(state: c.Complaint, command: c.ComplaintCommand, now: datetime) -> c.Complaint:
    for event in c.decide(state, command, now):
        state = c.evolve(state, event)
    return state


def test_acknowledgement_is_due_two_working_days_later_skipping_the_weekend() -> None:
    complaint = receive()
    assert complaint.acknowledge_due_at == datetime(2026, 3, 10, 9, 0, tzinfo=UTC)  # Tuesday
    assert complaint.answer_due_at == FRIDAY + timedelta(days=15)


def test_working_days_skip_french_public_holidays() -> None:
    assert easter_sunday(2026) == date(2026, 4, 5)
    assert not is_working_day(date(2026, 4, 6))  # Easter Monday
    assert not is_working_day(date(2026, 5, 14))  # Ascension
    assert not is_working_day(date(2026, 5, 1))
    assert is_working_day(date(2026, 5, 4))
    # Thursday 30 April: 1 May (Friday) is a holiday, then the weekend: due Tuesday 5 May.
    thursday = datetime(2026, 4, 30, 14, 0, tzinfo=UTC)
    assert add_working_days(thursday, 2) == datetime(2026, 5, 5, 14, 0, tzinfo=UTC)
    # Received on a Saturday: Monday is the first working day.
    saturday = datetime(2026, 3, 7, 8, 0, tzinfo=UTC)
    assert add_working_days(saturday, 2) == datetime(2026, 3, 10, 8, 0, tzinfo=UTC)


def test_deadlines_follow_the_configured_policy() -> None:
    complaint = receive(policy=c.ComplaintPolicy(5, 30))
    assert complaint.acknowledge_due_at == datetime(2026, 3, 13, 9, 0, tzinfo=UTC)
    assert complaint.answer_due_at == FRIDAY + timedelta(days=30)


def test_overdue_until_acknowledged_and_answered() -> None:
    complaint = receive()
    late = complaint.acknowledge_due_at + timedelta(minutes=1)
    assert not complaint.acknowledgement_overdue(complaint.acknowledge_due_at)
    assert complaint.acknowledgement_overdue(late)
    acknowledged = step(complaint, c.AcknowledgeComplaint(None), late)
    assert acknowledged.acknowledged_at == late
    assert not acknowledged.acknowledgement_overdue(late + timedelta(days=30))
    assert acknowledged.answer_overdue(complaint.answer_due_at + timedelta(seconds=1))
    answered = step(acknowledged, c.AnswerComplaint("enc:v1:y", None), late + timedelta(days=1))
    assert not answered.answer_overdue(complaint.answer_due_at + timedelta(days=10))


def test_steps_happen_in_order_and_once() -> None:
    complaint = receive()
    now = FRIDAY + timedelta(days=1)
    with pytest.raises(NotAllowedNow) as early:
        c.decide(complaint, c.AnswerComplaint("enc:v1:y", None), now)
    assert early.value.code == "complaint_not_acknowledged"
    with pytest.raises(NotAllowedNow):
        c.decide(complaint, c.CloseComplaint("upheld", None), now)
    acknowledged = step(complaint, c.AcknowledgeComplaint(None), now)
    with pytest.raises(NotAllowedNow):
        c.decide(acknowledged, c.AcknowledgeComplaint(None), now)
    answered = step(acknowledged, c.AnswerComplaint("enc:v1:y", None), now)
    closed = step(answered, c.CloseComplaint("partially_upheld", None), now)
    assert (closed.status, closed.resolution, closed.closed_at) == (
        "closed",
        "partially_upheld",
        now,
    )
    with pytest.raises(NotAllowedNow):
        c.decide(closed, c.CloseComplaint("upheld", None), now)


def test_business_times_are_neither_in_the_future_nor_before_the_previous_step() -> None:
    complaint = receive()
    now = FRIDAY + timedelta(hours=2)
    with pytest.raises(InvalidCommand) as future:
        c.decide(complaint, c.AcknowledgeComplaint(now + timedelta(hours=1)), now)
    assert future.value.code == "time_in_future"
    with pytest.raises(InvalidCommand) as before:
        c.decide(complaint, c.AcknowledgeComplaint(FRIDAY - timedelta(hours=1)), now)
    assert before.value.code == "time_before_previous_step"


def test_improvement_action_deadline_and_completion() -> None:
    now = FRIDAY
    (opened,) = a.decide(
        None,
        a.OpenAction(
            uuid4(), "complaint", uuid4(), uuid4(), "owner", "enc:v1:d", now + timedelta(days=30)
        ),
        now,
    )
    action = a.evolve(None, opened)
    assert not action.overdue(now + timedelta(days=30))
    assert action.overdue(now + timedelta(days=30, seconds=1))
    (done,) = a.decide(action, a.CompleteAction(None), now + timedelta(days=31))
    completed = a.evolve(action, done)
    assert not completed.overdue(now + timedelta(days=60))
    with pytest.raises(NotAllowedNow):
        a.decide(completed, a.CompleteAction(None), now + timedelta(days=32))


@pytest.mark.parametrize(
    ("source", "source_id", "due_in", "code"),
    [
        ("complaint", None, timedelta(days=1), "source_id_required"),
        ("audit", None, timedelta(days=-1), "due_date_in_past"),
    ],
)
def test_improvement_action_refusals(
    source: a.Source, source_id: object, due_in: timedelta, code: str
) -> None:
    with pytest.raises(InvalidCommand) as refused:
        a.decide(
            None,
            a.OpenAction(uuid4(), source, None, None, "owner", "enc:v1:d", FRIDAY + due_in),
            FRIDAY,
        )
    assert refused.value.code == code


def test_an_audit_action_may_be_organisation_wide_without_source() -> None:
    (opened,) = a.decide(
        None,
        a.OpenAction(uuid4(), "audit", None, None, "o", "enc:v1:d", FRIDAY + timedelta(days=1)),
        FRIDAY,
    )
    assert isinstance(opened, a.ActionOpened)
    assert opened.site_id is None
