"""Survey facts: who a survey was sent for, and its answers."""

from __future__ import annotations

from typing import Any

from shared.contracts import SurveyAnswered, SurveyCancelled, SurveySent

from .model import SurveyFacts, earliest, least
from .state import Applier, FactStore, ts


def sent(store: FactStore, _ce_id: str, e: SurveySent) -> None:
    s = store.touch("survey", str(e.survey_id), SurveyFacts)
    s.sent = least(s.sent, [ts(e.sent_at), e.campaign, str(e.dossier_id or "")])


def answered(store: FactStore, ce_id: str, e: SurveyAnswered) -> None:
    s = store.touch("survey", str(e.survey_id), SurveyFacts)
    s.answers[ce_id] = [
        ts(e.answered_at),
        e.campaign,
        e.satisfaction_score,
        str(e.dossier_id or ""),
    ]


def cancelled(store: FactStore, _ce_id: str, e: SurveyCancelled) -> None:
    s = store.touch("survey", str(e.survey_id), SurveyFacts)
    s.cancelled_at = earliest(s.cancelled_at, ts(e.cancelled_at))


APPLIERS: dict[Any, Applier] = {
    SurveySent: sent,
    SurveyAnswered: answered,
    SurveyCancelled: cancelled,
}
