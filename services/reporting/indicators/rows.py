"""Per-dossier values derived from its facts, independent of any period: what the indexes sort."""

from __future__ import annotations

from dataclasses import dataclass

from ..facts.model import DossierFacts

BILAN_PHASES = frozenset({"preliminary", "investigation", "conclusion"})
MAX_BILAN_MINUTES = 1_440
"""24 hours: the most a bilan may last (Code du travail L6313-4)."""


@dataclass(frozen=True, slots=True)
class DossierRow:
    site_id: str | None
    enquiry_at: float | None
    preliminary_started_at: float | None
    investigation_started_at: float | None
    completed_at: float | None
    held_minutes: int | None
    abandoned_at: float | None
    abandon_reason: str | None
    abandon_phase: str | None
    three_phases_at: float | None
    """When all three PhaseCompleted, the synthesis and the detailed results were in."""
    three_phase_compliant: bool
    field_inquiries: int
    first_preliminary_session_at: float | None
    first_bilan_session_at: float | None
    convention_before_first_session: bool
    deontology_before_first_session: bool
    preliminary_evidence: bool
    """Needs analysis and personalised programme both earlier than the investigation start."""
    first_follow_up_at: float | None
    bilan_minutes: int
    session_starts: tuple[float, ...]
    no_show_times: tuple[float, ...]
    ended_at: float | None
    destroyed_at: float | None
    retentions: tuple[tuple[float, float], ...]
    """`(agreed_at, expires_at)` of retentions covering the working documents."""


def _before(fact_at: float | None, reference: float | None) -> bool:
    return fact_at is not None and reference is not None and fact_at < reference


def derive(d: DossierFacts) -> DossierRow:
    """The row of one dossier."""
    starts: list[float] = []
    first_preliminary: float | None = None
    first_bilan: float | None = None
    first_follow_up: float | None = None
    bilan_minutes = 0
    for started_at, phase, minutes in d.sessions.values():
        starts.append(started_at)
        if phase in BILAN_PHASES:
            bilan_minutes += minutes
            if first_bilan is None or started_at < first_bilan:
                first_bilan = started_at
            if phase == "preliminary" and (
                first_preliminary is None or started_at < first_preliminary
            ):
                first_preliminary = started_at
        elif phase == "follow_up" and (first_follow_up is None or started_at < first_follow_up):
            first_follow_up = started_at
    starts.sort()
    completed_at = None if d.completed is None else float(d.completed[0])
    three_parts = [
        d.phase_completed.get("preliminary"),
        d.phase_completed.get("investigation"),
        d.phase_completed.get("conclusion"),
        d.synthesis_at,
        d.results_at,
    ]
    three_at = None if None in three_parts else max(p for p in three_parts if p is not None)
    investigation = d.phase_started.get("investigation")
    abandoned_at = None if d.abandoned is None else float(d.abandoned[0])
    # Rule 7 (v1.1): a withdrawal ends the bilan too, and its documents are destroyed alike.
    ends = [t for t in (completed_at, abandoned_at, d.withdrawn_at) if t is not None]
    return DossierRow(
        site_id=d.site_id,
        enquiry_at=None if d.opened is None else float(d.opened[2]),
        preliminary_started_at=d.phase_started.get("preliminary"),
        investigation_started_at=investigation,
        completed_at=completed_at,
        held_minutes=None if d.completed is None else int(d.completed[1]),
        abandoned_at=abandoned_at,
        abandon_reason=None if d.abandoned is None else str(d.abandoned[1]),
        abandon_phase=None if d.abandoned is None else (str(d.abandoned[2]) or None),
        three_phases_at=three_at,
        three_phase_compliant=_before(three_at, completed_at),
        field_inquiries=len(d.field_inquiries),
        first_preliminary_session_at=first_preliminary,
        first_bilan_session_at=first_bilan,
        convention_before_first_session=_before(d.convention_signed_at, first_bilan),
        deontology_before_first_session=_before(d.deontology_at, first_bilan),
        preliminary_evidence=_before(d.needs_analysis_at, investigation)
        and _before(d.programme_at, investigation),
        first_follow_up_at=first_follow_up,
        bilan_minutes=bilan_minutes,
        session_starts=tuple(starts),
        no_show_times=tuple(sorted(d.no_shows.values())),
        ended_at=min(ends) if ends else None,
        destroyed_at=d.destroyed_at,
        retentions=tuple(sorted((float(a), float(e)) for a, e in d.retentions.values())),
    )
