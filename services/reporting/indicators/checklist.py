"""The per-dossier compliance checklist of indicators.md, for auditors sampling dossiers."""

from __future__ import annotations

from typing import Any

from .compute import DEFAULT_GRACE_DAYS
from .index import QueryEngine
from .rows import MAX_BILAN_MINUTES
from .stats import DAY_S, iso

CHECKS: tuple[str, ...] = (
    "deontology_before_first_session",
    "convention_before_first_session",
    "needs_analysis_and_programme_before_investigation",
    "three_phases_completed",
    "detailed_results_handed_over",
    "synthesis_delivered",
    "held_time_within_24h",
    "end_of_bilan_survey_sent",
    "follow_up_held",
    "working_documents_destroyed_on_time",
)


def _item(holds: bool, at: float | None) -> dict[str, Any]:
    return {"holds": holds, "at": iso(at) if holds else None}


def _earlier(fact_at: float | None, reference: float | None) -> bool:
    # Before the first session exists, a fact already recorded holds (it can only stay earlier).
    return fact_at is not None and (reference is None or fact_at < reference)


def checklist(
    engine: QueryEngine, dossier_id: str, *, grace_days: int = DEFAULT_GRACE_DAYS
) -> dict[str, Any] | None:
    """Which checks hold for the dossier and since when; `None` for a dossier never seen."""
    facts = engine.store.dossiers.get(dossier_id)
    row = engine.row(dossier_id)
    if facts is None or row is None:
        return None
    first = row.first_bilan_session_at
    investigation = row.investigation_started_at
    evidence = [facts.needs_analysis_at, facts.programme_at]
    evidence_at = None if None in evidence else max(t for t in evidence if t is not None)
    completed = [
        facts.phase_completed.get(ph) for ph in ("preliminary", "investigation", "conclusion")
    ]
    phases_at = None if None in completed else max(t for t in completed if t is not None)
    survey_sent = [
        float(s.sent[0])
        for s in engine.store.surveys.values()
        if s.sent is not None and s.sent[1] == "end_of_bilan" and s.sent[2] == dossier_id
    ]
    destroyed_on_time = False
    if row.ended_at is not None and row.destroyed_at is not None:
        limit = row.ended_at + grace_days * DAY_S
        if row.retentions:
            limit = max(limit, max(expires for _, expires in row.retentions))
        destroyed_on_time = row.destroyed_at <= limit
    items = {
        "deontology_before_first_session": _item(
            _earlier(facts.deontology_at, first), facts.deontology_at
        ),
        "convention_before_first_session": _item(
            _earlier(facts.convention_signed_at, first), facts.convention_signed_at
        ),
        "needs_analysis_and_programme_before_investigation": _item(
            evidence_at is not None and _earlier(evidence_at, investigation), evidence_at
        ),
        "three_phases_completed": _item(phases_at is not None, phases_at),
        "detailed_results_handed_over": _item(facts.results_at is not None, facts.results_at),
        "synthesis_delivered": _item(facts.synthesis_at is not None, facts.synthesis_at),
        "held_time_within_24h": {
            "holds": row.bilan_minutes <= MAX_BILAN_MINUTES,
            "at": None,
            "held_minutes": row.bilan_minutes,
        },
        "end_of_bilan_survey_sent": _item(bool(survey_sent), min(survey_sent, default=None)),
        "follow_up_held": _item(row.first_follow_up_at is not None, row.first_follow_up_at),
        "working_documents_destroyed_on_time": _item(destroyed_on_time, row.destroyed_at),
    }
    return {"dossier_id": dossier_id, "site_id": row.site_id, "checks": items}
