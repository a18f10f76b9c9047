"""Survey facts: who a survey was sent for, and its answers."""

from __future__ import annotations

from typing import Any

from shared.contracts import SurveyAnswered, SurveySent

from .model import SurveyFacts, least
from .store import Applier, FactStore, ts


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


APPLIERS: dict[Any, Applier] = {SurveySent: sent, SurveyAnswered: answered}
