"""Per-scope sorted arrays of the facts, so that a query over any period is a few bisections.

A scope is the whole organisation (`None`) or one site. The index holds no period: building it
costs a pass over the facts (done once per projection version and scope), answering a period
costs `O(log n)` per count plus the size of the slices that medians and breakdowns need.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..facts.state import FactStore
from .rows import MAX_BILAN_MINUTES, DossierRow, derive

FOLLOW_UP_DELAY_S = 182 * 86_400.0
"""The follow-up interview is due six months (182 days) after completion."""


class Timeline:
    """Values sorted by time; `between(a, b)` is the slice with time in `[a, b)`."""

    __slots__ = ("times", "values")

    def __init__(self, pairs: Iterable[tuple[float, Any]]) -> None:
        ordered = sorted(pairs, key=lambda pair: pair[0])
        self.times = [t for t, _ in ordered]
        self.values = [v for _, v in ordered]

    def bounds(self, start: float, end: float) -> tuple[int, int]:
        return bisect_left(self.times, start), bisect_left(self.times, end)

    def count(self, start: float, end: float) -> int:
        lo, hi = self.bounds(start, end)
        return max(hi - lo, 0)

    def between(self, start: float, end: float) -> Sequence[Any]:
        lo, hi = self.bounds(start, end)
        return self.values[lo:hi] if hi > lo else []


def any_between(sorted_times: Sequence[float], start: float, end: float) -> bool:
    i = bisect_left(sorted_times, start)
    return i < len(sorted_times) and sorted_times[i] < end


@dataclass(slots=True)
class ScopeIndex:
    """Everything one scope's queries need."""

    started: Timeline
    completed: Timeline
    """`completed_at -> (held_minutes, three_phase_compliant, field_inquiries)`."""
    abandoned: Timeline
    """`abandoned_at -> (reason_category, phase_at_abandon)`."""
    follow_up_due: Timeline
    """`completed_at + 182 days -> follow-up held`."""
    first_preliminary_session: Timeline
    """`started_at -> access delay in days (None without DossierOpened)`."""
    first_bilan_session: Timeline
    """`started_at -> (convention earlier, deontology earlier)`."""
    investigation_started: Timeline
    held: Timeline
    no_shows: Timeline
    over_24h: list[tuple[float, ...]]
    """Session start times of each dossier whose bilan sessions exceed 1,440 minutes."""
    ended: list[tuple[float, float | None, tuple[tuple[float, float], ...]]]
    """`(ended_at, destroyed_at, retentions)` of every completed, abandoned or withdrawn dossier."""
    end_of_bilan_sent: Timeline
    """`sent_at -> answered`, surveys cancelled left out (as for every `*_sent`)."""
    six_months_sent: Timeline
    session_feedback_sent: Timeline
    end_of_bilan_answers: Timeline
    """`answered_at -> satisfaction_score` (as for every `*_answers`)."""
    session_feedback_answers: Timeline
    situations: Timeline
    complaints: list[tuple[float, float | None, float | None, float | None]] = field(
        default_factory=list
    )
    """`(received_at, acknowledged_at, answered_at, closed_at)`."""
    actions: list[tuple[float, float, float | None]] = field(default_factory=list)
    """`(opened_at, due_at, completed_at)`."""
    staff: list[tuple[float, float | None, list[Any], dict[str, Any], list[str]]] = field(
        default_factory=list
    )
    """`(onboarded_at, left_at, trainings, evaluations, roles)`."""


class QueryEngine:
    """Keeps derived rows and scope indexes in step with a fact store."""

    def __init__(self, store: FactStore) -> None:
        self.store = store
        self._rows: dict[str, DossierRow] = {}
        self._indexes: dict[str | None, tuple[int, ScopeIndex]] = {}

    def reset(self, store: FactStore) -> None:
        """Follow another fact store (after a rebuild switched projections)."""
        self.store = store
        self._rows.clear()
        self._indexes.clear()

    def row(self, dossier_id: str) -> DossierRow | None:
        self._refresh_rows()
        return self._rows.get(dossier_id)

    def index(self, site: str | None) -> ScopeIndex:
        """The index of the organisation (`None`) or of one site, as of the store's version."""
        cached = self._indexes.get(site)
        if cached is not None and cached[0] == self.store.version:
            return cached[1]
        self._refresh_rows()
        built = self._build(site)
        self._indexes[site] = (self.store.version, built)
        return built

    def _refresh_rows(self) -> None:
        changed = self.store.changed_dossiers
        if not changed:
            return
        dossiers = self.store.dossiers
        for dossier_id in changed:
            self._rows[dossier_id] = derive(dossiers[dossier_id])
        changed.clear()

    def _build(self, site: str | None) -> ScopeIndex:
        rows = [r for r in self._rows.values() if site is None or r.site_id == site]
        sites = {d: r.site_id for d, r in self._rows.items()}
        return ScopeIndex(
            started=Timeline(
                (r.preliminary_started_at, None)
                for r in rows
                if r.preliminary_started_at is not None
            ),
            completed=Timeline(
                (r.completed_at, (r.held_minutes, r.three_phase_compliant, r.field_inquiries))
                for r in rows
                if r.completed_at is not None
            ),
            abandoned=Timeline(
                (r.abandoned_at, (r.abandon_reason, r.abandon_phase))
                for r in rows
                if r.abandoned_at is not None
            ),
            follow_up_due=Timeline(
                (r.completed_at + FOLLOW_UP_DELAY_S, r.first_follow_up_at is not None)
                for r in rows
                if r.completed_at is not None
            ),
            first_preliminary_session=Timeline(
                (
                    r.first_preliminary_session_at,
                    None
                    if r.enquiry_at is None
                    else (r.first_preliminary_session_at - r.enquiry_at) / 86_400.0,
                )
                for r in rows
                if r.first_preliminary_session_at is not None
            ),
            first_bilan_session=Timeline(
                (
                    r.first_bilan_session_at,
                    (r.convention_before_first_session, r.deontology_before_first_session),
                )
                for r in rows
                if r.first_bilan_session_at is not None
            ),
            investigation_started=Timeline(
                (r.investigation_started_at, r.preliminary_evidence)
                for r in rows
                if r.investigation_started_at is not None
            ),
            held=Timeline((t, None) for r in rows for t in r.session_starts),
            no_shows=Timeline((t, None) for r in rows for t in r.no_show_times),
            over_24h=[r.session_starts for r in rows if r.bilan_minutes > MAX_BILAN_MINUTES],
            ended=[
                (r.ended_at, r.destroyed_at, r.retentions) for r in rows if r.ended_at is not None
            ],
            **self._surveys(site, sites),
            complaints=[
                (float(c.received[0]), c.acknowledged_at, c.answered_at, c.closed_at)
                for c in self.store.complaints.values()
                if c.received is not None and (site is None or c.received[1] == site)
            ],
            actions=[
                (float(a.opened[0]), float(a.opened[1]), a.completed_at)
                for a in self.store.actions.values()
                if a.opened is not None and (site is None or a.opened[2] == site)
            ],
            staff=[
                (
                    float(s.onboarded[0]),
                    s.left_at,
                    list(s.trainings.values()),
                    s.evaluations,
                    list(s.onboarded[1]),
                )
                for s in self.store.staff.values()
                if s.onboarded is not None and (site is None or site in s.onboarded[2])
            ],
        )

    def _surveys(self, site: str | None, sites: dict[str, str | None]) -> dict[str, Timeline]:
        sent: dict[str, list[tuple[float, bool]]] = {
            "end_of_bilan": [],
            "six_months": [],
            "session_feedback": [],
        }
        answers: dict[str, list[tuple[float, int]]] = {"end_of_bilan": [], "session_feedback": []}
        situations: list[tuple[float, str]] = []
        for survey in self.store.surveys.values():
            sent_dossier = "" if survey.sent is None else survey.sent[2]
            if (
                survey.sent is not None
                # "not cancelled (no SurveyCancelled up to the query)": no longer awaited.
                and survey.cancelled_at is None
                and (site is None or sites.get(sent_dossier) == site)
            ):
                population = sent.get(survey.sent[1])
                if population is not None:
                    population.append((float(survey.sent[0]), bool(survey.answers)))
            for answered_at, campaign, score, dossier_id in survey.answers.values():
                scores = answers.get(campaign)
                if scores is None:
                    continue
                if site is None or sites.get(dossier_id or sent_dossier) == site:
                    scores.append((answered_at, score))
        for dossier_id, dossier in self.store.dossiers.items():
            if dossier.situations and (site is None or sites.get(dossier_id) == site):
                situations.extend((t, s) for t, s in dossier.situations.values())
        return {
            "end_of_bilan_sent": Timeline(sent["end_of_bilan"]),
            "six_months_sent": Timeline(sent["six_months"]),
            "session_feedback_sent": Timeline(sent["session_feedback"]),
            "end_of_bilan_answers": Timeline(answers["end_of_bilan"]),
            "session_feedback_answers": Timeline(answers["session_feedback"]),
            "situations": Timeline(situations),
        }
