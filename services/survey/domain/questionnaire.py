"""Questionnaires: versioned definitions per campaign, and the validation of answers.

A questionnaire is immutable once published; editing one publishes the next version, and a
survey is always answered against the version it was sent with. Every questionnaire has exactly
one overall satisfaction question (1 to 5), because `SurveyAnswered` always carries a
`satisfaction_score`; the six-month one also asks the beneficiary's situation, in the closed
list of `SixMonthSituationReported`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, assert_never, get_args

from services.survey.domain.errors import InvalidCommand

Campaign = Literal["end_of_bilan", "six_months", "session_feedback", "stakeholder"]
CAMPAIGNS: tuple[Campaign, ...] = get_args(Campaign)
QuestionKind = Literal["satisfaction", "score", "situation", "text"]
Situation = Literal[
    "project_in_progress", "in_training", "new_job", "business_created", "unchanged", "other"
]
SITUATIONS: tuple[Situation, ...] = get_args(Situation)

CODE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
SCORE_MIN, SCORE_MAX = 0, 10
"""The contract's bounds for a question score (`QuestionScore`)."""
SATISFACTION_MIN, SATISFACTION_MAX = 1, 5
FREE_TEXT_MAX = 4000


@dataclass(frozen=True, slots=True)
class Question:
    """One question: a stable code, its kind, the wording shown, and the score range."""

    code: str
    kind: QuestionKind
    label: str
    required: bool = True
    min_score: int = SCORE_MIN
    max_score: int = SCORE_MAX

    @property
    def answer_range(self) -> tuple[int, int]:
        """The integers an answer may take: 1 to 5 for the satisfaction question (it becomes
        the contract's `satisfaction_score`), the question's own range for scores."""
        if self.kind == "satisfaction":
            return SATISFACTION_MIN, SATISFACTION_MAX
        return self.min_score, self.max_score


@dataclass(frozen=True, slots=True)
class Questionnaire:
    """A published version of a campaign's questionnaire."""

    campaign: Campaign
    version: int
    questions: tuple[Question, ...]

    def question(self, code: str) -> Question | None:
        return next((q for q in self.questions if q.code == code), None)


@dataclass(frozen=True, slots=True)
class ValidAnswers:
    """Answers that passed validation, split by what may leave the service and what may not."""

    satisfaction_score: int
    scores: dict[str, int]
    situation: Situation | None
    free_text: dict[str, str] = field(default_factory=dict)
    """Never published; the application encrypts it before storing."""


def check_definition(campaign: Campaign, questions: tuple[Question, ...]) -> None:
    """Refuse a definition that could not produce the contract's events."""
    if not questions:
        raise InvalidCommand("empty_questionnaire", "a questionnaire needs questions")
    codes = [q.code for q in questions]
    if len(set(codes)) != len(codes):
        raise InvalidCommand("duplicate_question_code", "question codes must be unique")
    for q in questions:
        if not CODE.match(q.code):
            raise InvalidCommand(
                "bad_question_code", "question codes are lower snake_case", question=q.code
            )
        if not q.label.strip():
            raise InvalidCommand("empty_label", "every question needs a wording", question=q.code)
        if q.kind == "score" and not (SCORE_MIN <= q.min_score < q.max_score <= SCORE_MAX):
            raise InvalidCommand(
                "bad_score_range",
                f"a score range must lie within {SCORE_MIN}..{SCORE_MAX}",
                question=q.code,
            )
    satisfaction = [q for q in questions if q.kind == "satisfaction"]
    if len(satisfaction) != 1 or not satisfaction[0].required:
        raise InvalidCommand(
            "satisfaction_question_required",
            "a questionnaire has exactly one required satisfaction question (1 to 5)",
        )
    situation = [q for q in questions if q.kind == "situation"]
    if campaign == "six_months":
        if len(situation) != 1 or not situation[0].required:
            raise InvalidCommand(
                "situation_question_required",
                "the six-month questionnaire has exactly one required situation question",
            )
    elif situation:
        raise InvalidCommand(
            "situation_question_not_allowed", "only the six-month questionnaire asks the situation"
        )


def validate_answers(questionnaire: Questionnaire, answers: Mapping[str, Any]) -> ValidAnswers:
    """Check answers against the questionnaire's version; refuse rather than guess."""
    for code in answers:
        if questionnaire.question(code) is None:
            raise InvalidCommand(
                "unknown_question",
                "an answer names a question this questionnaire lacks",
                question=code,
            )
    satisfaction: int | None = None
    scores: dict[str, int] = {}
    situation: Situation | None = None
    free_text: dict[str, str] = {}
    for q in questionnaire.questions:
        value = answers.get(q.code)
        if value is None or (isinstance(value, str) and not value.strip()):
            if q.required:
                raise InvalidCommand(
                    "missing_answer", "a required question was not answered", question=q.code
                )
            continue
        match q.kind:
            case "satisfaction":
                satisfaction = _integer(q, value, *q.answer_range)
            case "score":
                scores[q.code] = _integer(q, value, *q.answer_range)
            case "situation":
                if value not in SITUATIONS:
                    raise InvalidCommand(
                        "invalid_answer",
                        "the situation must be one of the listed ones",
                        question=q.code,
                        allowed=list(SITUATIONS),
                    )
                situation = value
            case "text":
                if not isinstance(value, str) or len(value) > FREE_TEXT_MAX:
                    raise InvalidCommand(
                        "invalid_answer",
                        f"free text must be a string of at most {FREE_TEXT_MAX} characters",
                        question=q.code,
                    )
                free_text[q.code] = value
            case _:
                assert_never(q.kind)
    assert satisfaction is not None, "check_definition guarantees a required satisfaction"
    return ValidAnswers(satisfaction, scores, situation, free_text)


def _integer(q: Question, value: Any, low: int, high: int) -> int:
    # bool is an int in Python; "true" is not a score.
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidCommand(
            "invalid_answer",
            f"the answer must be an integer from {low} to {high}",
            question=q.code,
            minimum=low,
            maximum=high,
        )
    return value


def questionnaire_to_dict(questionnaire: Questionnaire) -> dict[str, Any]:
    """The JSON stored for a version (and served to respondents)."""
    return {
        "campaign": questionnaire.campaign,
        "version": questionnaire.version,
        "questions": [
            {
                "code": q.code,
                "kind": q.kind,
                "label": q.label,
                "required": q.required,
                "min_score": q.min_score,
                "max_score": q.max_score,
            }
            for q in questionnaire.questions
        ],
    }


def questionnaire_from_dict(data: Mapping[str, Any]) -> Questionnaire:
    """The inverse of `questionnaire_to_dict`."""
    return Questionnaire(
        campaign=data["campaign"],
        version=int(data["version"]),
        questions=tuple(Question(**q) for q in data["questions"]),
    )


def _q(code: str, kind: QuestionKind, label: str, required: bool = True) -> Question:
    return Question(code, kind, label, required)


DEFAULT_QUESTIONNAIRES: dict[Campaign, tuple[Question, ...]] = {
    "end_of_bilan": (
        _q(
            "overall_satisfaction",
            "satisfaction",
            "Globalement, êtes-vous satisfait(e) de votre bilan ?",
        ),
        _q("objectives_met", "score", "Vos objectifs de départ ont-ils été atteints ?"),
        _q(
            "consultant_listening",
            "score",
            "Qualité de l'écoute et de l'accompagnement du consultant",
        ),
        _q("tools_relevance", "score", "Pertinence des outils et tests proposés"),
        _q("project_clarity", "score", "Clarté de votre projet à l'issue du bilan"),
        _q("would_recommend", "score", "Recommanderiez-vous ce bilan à un proche ?"),
        _q("comments", "text", "Vos remarques et suggestions", required=False),
    ),
    "six_months": (
        _q(
            "overall_satisfaction",
            "satisfaction",
            "Avec le recul, êtes-vous satisfait(e) de votre bilan ?",
        ),
        _q("situation", "situation", "Quelle est votre situation aujourd'hui ?"),
        _q("project_progress", "score", "Où en est la mise en œuvre de votre projet ?"),
        _q("comments", "text", "Vos remarques", required=False),
    ),
    "session_feedback": (
        _q("overall_satisfaction", "satisfaction", "Êtes-vous satisfait(e) de cette séance ?"),
        _q("session_usefulness", "score", "Utilité de la séance pour votre démarche"),
        _q("comments", "text", "Vos remarques", required=False),
    ),
    "stakeholder": (
        _q(
            "overall_satisfaction",
            "satisfaction",
            "Globalement, êtes-vous satisfait(e) de notre centre ?",
        ),
        _q("communication_quality", "score", "Qualité de nos échanges et de nos informations"),
        _q("responsiveness", "score", "Réactivité de nos équipes"),
        _q("comments", "text", "Vos remarques et suggestions d'amélioration", required=False),
    ),
}
"""Version 1 of each campaign, seeded at start-up; quality leads publish the next ones."""
