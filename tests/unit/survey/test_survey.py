"""Survey life cycle: single-use links, expiry, reminders, cancellation."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from services.survey.domain import survey as s
from services.survey.domain.errors import Gone, InvalidCommand, NotAllowedNow, NotFound
from services.survey.domain.questionnaire import Campaign, ValidAnswers

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ANSWERS = ValidAnswers(4, {"objectives_met": 8}, None, {"comments": "enc:v1:xxx"})


def fold(events: list[s.SurveyEvent], state: s.Survey | None = None) -> s.Survey:
    for event in events:
        state = s.evolve(state, event)
    assert state is not None
    return state


def open_survey(campaign: str = "end_of_bilan") -> s.Survey:
    dossier = None if campaign == "stakeholder" else uuid4()
    created = fold(
        s.decide(
            None,
            s.CreateSurvey(uuid4(), dossier, str(uuid4()), campaign, "beneficiary", 1),  # type: ignore[arg-type]
            T0,
        )
    )
    assert created.status == "created"
    return fold(s.decide(created, s.RecordInvitationSent("h1", timedelta(days=30)), T0), created)


def test_invitation_opens_the_answer_window_from_the_actual_sending() -> None:
    survey = open_survey()
    assert (survey.status, survey.sent_at, survey.expires_at) == (
        "open",
        T0,
        T0 + timedelta(days=30),
    )
    assert s.decide(survey, s.RecordInvitationSent("h9", timedelta(days=30)), T0) == []


def test_a_link_answers_once_then_every_link_is_spent() -> None:
    survey = open_survey()
    survey = fold(s.decide(survey, s.RecordReminderSent(1, "h2"), T0 + timedelta(days=7)), survey)
    answered_at = T0 + timedelta(days=8)
    (event,) = s.decide(survey, s.AnswerSurvey("h2", ANSWERS), answered_at)
    assert isinstance(event, s.SurveyAnswered)
    assert event.answered_at == answered_at
    survey = fold([event], survey)
    for token in ("h1", "h2"):
        with pytest.raises(NotAllowedNow) as second:
            s.decide(survey, s.AnswerSurvey(token, ANSWERS), answered_at)
        assert second.value.code == "survey_already_answered"


def test_an_unknown_link_learns_nothing_whatever_the_state() -> None:
    survey = open_survey()
    with pytest.raises(NotFound):
        s.decide(survey, s.AnswerSurvey("guess", ANSWERS), T0)
    answered = fold(s.decide(survey, s.AnswerSurvey("h1", ANSWERS), T0), survey)
    with pytest.raises(NotFound):
        s.decide(answered, s.AnswerSurvey("guess", ANSWERS), T0)


def test_after_expiry_the_link_is_gone_even_before_the_timer_fired() -> None:
    survey = open_survey()
    expiry = T0 + timedelta(days=30)
    with pytest.raises(Gone):
        s.decide(survey, s.AnswerSurvey("h1", ANSWERS), expiry)
    assert s.decide(survey, s.ExpireSurvey(), expiry - timedelta(seconds=1)) == []
    expired = fold(s.decide(survey, s.ExpireSurvey(), expiry), survey)
    assert expired.status == "expired"
    with pytest.raises(Gone):
        s.decide(expired, s.AnswerSurvey("h1", ANSWERS), expiry)
    assert s.decide(expired, s.ExpireSurvey(), expiry + timedelta(days=1)) == []


def test_an_answered_survey_never_expires() -> None:
    survey = open_survey()
    answered = fold(s.decide(survey, s.AnswerSurvey("h1", ANSWERS), T0), survey)
    assert s.decide(answered, s.ExpireSurvey(), T0 + timedelta(days=31)) == []


def test_reminders_are_counted_once_each_in_order() -> None:
    survey = open_survey()
    first = fold(s.decide(survey, s.RecordReminderSent(1, "h2"), T0), survey)
    assert first.reminders_sent == 1
    assert s.decide(first, s.RecordReminderSent(1, "h3"), T0) == []
    with pytest.raises(InvalidCommand):
        s.decide(first, s.RecordReminderSent(3, "h3"), T0)
    answered = fold(s.decide(first, s.AnswerSurvey("h1", ANSWERS), T0), first)
    assert s.decide(answered, s.RecordReminderSent(2, "h3"), T0) == []


def test_a_cancelled_survey_cannot_be_answered() -> None:
    survey = open_survey()
    cancelled = fold(s.decide(survey, s.CancelSurvey("beneficiary_erased"), T0), survey)
    assert cancelled.status == "cancelled"
    # Its real link is gone (410), an unknown one still learns nothing (404).
    with pytest.raises(Gone):
        s.decide(cancelled, s.AnswerSurvey("h1", ANSWERS), T0)
    with pytest.raises(NotFound):
        s.decide(cancelled, s.AnswerSurvey("guessed", ANSWERS), T0)
    assert s.decide(cancelled, s.CancelSurvey("beneficiary_erased"), T0) == []


def test_a_session_is_named_by_session_feedback_surveys_and_only_them() -> None:
    session = uuid4()
    feedback: Campaign = "session_feedback"
    with pytest.raises(InvalidCommand):
        s.decide(None, s.CreateSurvey(uuid4(), uuid4(), "x", feedback, "beneficiary", 1), T0)
    with pytest.raises(InvalidCommand):
        s.decide(
            None,
            s.CreateSurvey(uuid4(), uuid4(), "x", "end_of_bilan", "beneficiary", 1, session),
            T0,
        )
    (created,) = s.decide(
        None, s.CreateSurvey(uuid4(), uuid4(), "x", feedback, "beneficiary", 1, session), T0
    )
    assert s.evolve(None, created).session_id == session


def test_only_stakeholder_surveys_go_without_dossier() -> None:
    with pytest.raises(InvalidCommand):
        s.decide(None, s.CreateSurvey(uuid4(), None, "org", "end_of_bilan", "beneficiary", 1), T0)
    with pytest.raises(InvalidCommand):
        s.decide(None, s.CreateSurvey(uuid4(), uuid4(), "org", "stakeholder", "funder", 1), T0)
    assert open_survey("stakeholder").dossier_id is None
