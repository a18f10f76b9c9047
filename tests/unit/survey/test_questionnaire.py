"""Answers are validated against the questionnaire version they were sent with."""

import pytest

from services.survey.domain.errors import InvalidCommand
from services.survey.domain.questionnaire import (
    DEFAULT_QUESTIONNAIRES,
    Question,
    Questionnaire,
    check_definition,
    questionnaire_from_dict,
    questionnaire_to_dict,
    validate_answers,
)

END = Questionnaire("end_of_bilan", 1, DEFAULT_QUESTIONNAIRES["end_of_bilan"])
SIX = Questionnaire("six_months", 1, DEFAULT_QUESTIONNAIRES["six_months"])
GOOD = {
    "overall_satisfaction": 4,
    "objectives_met": 8,
    "consultant_listening": 10,
    "tools_relevance": 0,
    "project_clarity": 7,
    "would_recommend": 9,
    "comments": "Très bon accompagnement, merci à Mme Dupont.",
}


def test_valid_answers_split_scores_from_free_text() -> None:
    valid = validate_answers(END, GOOD)
    assert valid.satisfaction_score == 4
    assert valid.scores == {
        "objectives_met": 8,
        "consultant_listening": 10,
        "tools_relevance": 0,
        "project_clarity": 7,
        "would_recommend": 9,
    }
    assert valid.free_text == {"comments": GOOD["comments"]}
    assert valid.situation is None


def test_optional_free_text_may_be_left_out() -> None:
    answers = {k: v for k, v in GOOD.items() if k != "comments"}
    assert validate_answers(END, answers).free_text == {}


@pytest.mark.parametrize(
    ("change", "code", "question"),
    [
        ({"overall_satisfaction": 6}, "invalid_answer", "overall_satisfaction"),
        ({"overall_satisfaction": 0}, "invalid_answer", "overall_satisfaction"),
        ({"objectives_met": 11}, "invalid_answer", "objectives_met"),
        ({"objectives_met": "8"}, "invalid_answer", "objectives_met"),
        ({"objectives_met": True}, "invalid_answer", "objectives_met"),
        ({"objectives_met": 7.5}, "invalid_answer", "objectives_met"),
        ({"objectives_met": None}, "missing_answer", "objectives_met"),
        ({"shoe_size": 42}, "unknown_question", "shoe_size"),
        ({"comments": "x" * 4001}, "invalid_answer", "comments"),
        ({"comments": 12}, "invalid_answer", "comments"),
    ],
)
def test_invalid_answers_are_refused_with_the_question(
    change: dict[str, object], code: str, question: str
) -> None:
    with pytest.raises(InvalidCommand) as refused:
        validate_answers(END, {**GOOD, **change})
    assert refused.value.code == code
    assert refused.value.extra["question"] == question


def test_six_month_answers_carry_the_situation_from_the_closed_list() -> None:
    answers = {"overall_satisfaction": 5, "situation": "new_job", "project_progress": 9}
    assert validate_answers(SIX, answers).situation == "new_job"
    with pytest.raises(InvalidCommand) as refused:
        validate_answers(SIX, {**answers, "situation": "astronaut"})
    assert refused.value.code == "invalid_answer"


def test_every_default_questionnaire_is_a_valid_definition() -> None:
    for campaign, questions in DEFAULT_QUESTIONNAIRES.items():
        check_definition(campaign, questions)


@pytest.mark.parametrize(
    ("campaign", "questions", "code"),
    [
        ("end_of_bilan", (), "empty_questionnaire"),
        ("end_of_bilan", (Question("q1", "score", "Q"),), "satisfaction_question_required"),
        (
            "end_of_bilan",
            (Question("s", "satisfaction", "S"), Question("s", "score", "Q")),
            "duplicate_question_code",
        ),
        ("end_of_bilan", (Question("Bad-Code", "satisfaction", "S"),), "bad_question_code"),
        ("six_months", (Question("s", "satisfaction", "S"),), "situation_question_required"),
        (
            "stakeholder",
            (Question("s", "satisfaction", "S"), Question("w", "situation", "W")),
            "situation_question_not_allowed",
        ),
        (
            "end_of_bilan",
            (Question("s", "satisfaction", "S"), Question("q", "score", "Q", max_score=20)),
            "bad_score_range",
        ),
    ],
)
def test_definitions_that_could_not_produce_the_contract_are_refused(
    campaign: str, questions: tuple[Question, ...], code: str
) -> None:
    with pytest.raises(InvalidCommand) as refused:
        check_definition(campaign, questions)  # type: ignore[arg-type]
    assert refused.value.code == code


def test_a_definition_survives_its_json_form() -> None:
    assert questionnaire_from_dict(questionnaire_to_dict(SIX)) == SIX


def test_the_satisfaction_question_is_shown_with_the_range_it_accepts() -> None:
    from services.survey.api.schemas import question_out
    from services.survey.domain.questionnaire import Question

    shown = question_out(Question("overall_satisfaction", "satisfaction", "Overall?"))
    assert (shown.min_score, shown.max_score) == (1, 5)
    score = question_out(Question("clarity", "score", "Clear?"))
    assert (score.min_score, score.max_score) == (0, 10)
