"""Domain events become exactly the contract's events, and nothing personal goes with them."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

from services.survey.application.contract import action_outbox, complaint_outbox, survey_outbox
from services.survey.application.surveys import SURVEY_CODEC
from services.survey.domain import action as a
from services.survey.domain import complaint as c
from services.survey.domain import survey as s
from services.survey.domain.questionnaire import ValidAnswers
from shared.contracts.base import IntegrationEvent
from shared.envelope import serialize_data
from shared.eventstore import StoredEvent

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SEALED = "enc:v1:c2VjcmV0"


def _run(campaign: str, situation: str | None) -> tuple[list[s.SurveyEvent], list[object]]:
    site = str(uuid4())
    state: s.Survey | None = None
    commands: list[tuple[s.SurveyCommand, datetime]] = [
        (s.CreateSurvey(uuid4(), uuid4(), site, campaign, "beneficiary", 1), T0),  # type: ignore[arg-type]
        (s.RecordInvitationSent("h1", timedelta(days=30)), T0),
        (s.RecordReminderSent(1, "h2"), T0 + timedelta(days=7)),
        (
            s.AnswerSurvey(
                "h2",
                ValidAnswers(5, {"objectives_met": 9}, situation, {"comments": SEALED}),  # type: ignore[arg-type]
            ),
            T0 + timedelta(days=8),
        ),
    ]
    events: list[s.SurveyEvent] = []
    published: list[object] = []
    for command, now in commands:
        for event in s.decide(state, command, now):
            state = s.evolve(state, event)
            events.append(event)
            published.extend(m.event for m in survey_outbox(state, event))
    return events, published


def test_an_end_of_bilan_survey_publishes_sent_reminder_answered() -> None:
    _, published = _run("end_of_bilan", None)
    assert [type(e).__name__ for e in published] == [
        "SurveySent",
        "SurveyReminderSent",
        "SurveyAnswered",
    ]
    for event in published:
        data = serialize_data(event)  # type: ignore[arg-type]
        assert SEALED.encode() not in data
        assert b"comments" not in data
        assert b"h2" not in data


def test_a_six_month_answer_also_reports_the_situation_under_the_survey_subject() -> None:
    _, published = _run("six_months", "new_job")
    last = published[-1]
    assert type(last).__name__ == "SixMonthSituationReported"
    assert last.ce_type() == "bilan.survey.SixMonthSituationReported.v2"  # type: ignore[attr-defined]
    # v2: keyed by its subject, the survey, like the survey's other events (rule 2).
    assert last.subject() == str(last.survey_id)  # type: ignore[attr-defined]
    assert last.partition_key() == str(last.survey_id)  # type: ignore[attr-defined]
    assert {e.partition_key() for e in published} == {str(last.survey_id)}  # type: ignore[attr-defined]


def test_a_session_feedback_survey_names_its_session_on_survey_sent() -> None:
    session = uuid4()
    state: s.Survey | None = None
    published: list[IntegrationEvent] = []
    for command in (
        s.CreateSurvey(uuid4(), uuid4(), "site", "session_feedback", "beneficiary", 1, session),
        s.RecordInvitationSent("h1", timedelta(days=30)),
    ):
        for event in s.decide(state, command, T0):
            state = s.evolve(state, event)
            published.extend(m.event for m in survey_outbox(state, event))
    (sent,) = published
    assert sent.to_json_dict()["session_id"] == str(session)
    # Any other campaign's SurveySent leaves the optional field out.
    _, others = _run("end_of_bilan", None)
    assert "session_id" not in others[0].to_json_dict()  # type: ignore[attr-defined]


def test_a_sent_survey_cancelled_publishes_survey_cancelled_one_never_sent_nothing() -> None:
    for sent, expected in ((True, ["SurveySent", "SurveyCancelled"]), (False, [])):
        state: s.Survey | None = None
        commands: list[s.SurveyCommand] = [
            s.CreateSurvey(uuid4(), uuid4(), str(uuid4()), "end_of_bilan", "beneficiary", 1)
        ]
        if sent:
            commands.append(s.RecordInvitationSent("h1", timedelta(days=30)))
        commands.append(s.CancelSurvey("dossier_withdrawn"))
        published: list[IntegrationEvent] = []
        for command in commands:
            for event in s.decide(state, command, T0):
                state = s.evolve(state, event)
                published.extend(m.event for m in survey_outbox(state, event))
        assert [type(e).__name__ for e in published] == expected
        if sent:
            cancelled = published[-1]
            assert cancelled.to_json_dict() == {
                "survey_id": str(state.survey_id),  # type: ignore[union-attr]
                "reason": "dossier_withdrawn",
                "cancelled_at": "2026-03-02T09:00:00Z",
            }


def test_complaint_and_action_events_carry_no_text() -> None:
    now = T0
    state: c.Complaint | None = None
    out: list[IntegrationEvent] = []
    for command in (
        c.ReceiveComplaint(
            uuid4(),
            uuid4(),
            None,
            "funder",
            "billing",
            "letter",
            SEALED,
            None,
            "u",
            c.ComplaintPolicy(),
        ),
        c.AcknowledgeComplaint(None),
        c.AnswerComplaint(SEALED, None),
        c.CloseComplaint("rejected", None),
    ):
        for event in c.decide(state, command, now):
            state = c.evolve(state, event)
            out.extend(m.event for m in complaint_outbox(state, event))
    action_state: a.ImprovementAction | None = None
    for action_command in (
        a.OpenAction(uuid4(), "other", None, None, "owner-7", SEALED, now + timedelta(days=9)),
        a.CompleteAction(None),
    ):
        for action_event in a.decide(action_state, action_command, now):
            action_state = a.evolve(action_state, action_event)
            messages = action_outbox(action_state, action_event)
            assert {m.site_id for m in messages} == {"org"}
            out.extend(m.event for m in messages)
    assert len(out) == 6
    for published in out:
        data = serialize_data(published)
        assert SEALED.encode() not in data
        assert b"owner-7" not in data


def test_stored_survey_events_read_back_identical() -> None:
    events, _ = _run("six_months", "in_training")
    codec = SURVEY_CODEC
    for version, event in enumerate(events, start=1):
        new = codec.encode(event)
        stored = StoredEvent("survey-x", version, new.event_id, new.type, new.data, {}, T0, version)
        assert codec.decode(stored) == event
