"""Every indicator of indicators.md, computed for a half-open period `[from, to)` and a scope.

Each function reads one definition of indicators.md; the comments cite its wording where a
choice had to be made.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Any, get_args

from shared.contracts import AbandonReason, Phase, Situation, StaffRole

from ..facts.state import FactStore
from .index import QueryEngine, ScopeIndex, any_between
from .stats import DAY_S, HOUR_S, Figure, count, day_start, mean, median, rate

DEFAULT_GRACE_DAYS = 30
"""R6313-7: working documents are destroyed at the end of the bilan; a grace period allows for
the follow-up paperwork (configurable, 30 days by default)."""
EVALUATION_WINDOW_S = 365 * DAY_S

ABANDON_REASONS: tuple[str, ...] = get_args(AbandonReason)
PHASES: tuple[str, ...] = get_args(Phase)
SITUATIONS: tuple[str, ...] = get_args(Situation)
STAFF_ROLES: tuple[str, ...] = get_args(StaffRole)

INDICATOR_NAMES: tuple[str, ...] = (
    "beneficiaries_started",
    "bilans_completed",
    "bilans_abandoned",
    "abandonment_rate",
    "abandonment_causes",
    "satisfaction_mean",
    "satisfaction_rate",
    "survey_response_rate",
    "follow_up_rate_6m",
    "six_month_response_rate",
    "session_feedback_mean",
    "session_feedback_response_rate",
    "six_month_situations",
    "field_inquiries_per_bilan",
    "access_delay_days_median",
    "held_hours_mean",
    "dossiers_over_24h",
    "three_phase_compliance_rate",
    "convention_before_first_session_rate",
    "deontology_before_first_session_rate",
    "preliminary_evidence_rate",
    "no_show_rate",
    "complaints_received",
    "complaint_ack_hours_median",
    "complaint_answer_hours_median",
    "complaints_open",
    "improvement_actions_overdue",
    "staff_trained_rate",
    "staff_training_hours",
    "staff_evaluated_rate",
    "team_composition",
    "destruction_overdue",
    "data_requests_on_time_rate",
)
"""Every indicator of indicators.md, in its order, under its exact name."""


@dataclass(frozen=True, slots=True)
class Period:
    """`[start, end)` in POSIX seconds, from UTC dates."""

    start: float
    end: float

    @classmethod
    def of(cls, first: date, after_last: date) -> Period:
        return cls(day_start(first), day_start(after_last))


def compute(
    engine: QueryEngine,
    first: date,
    after_last: date,
    site: str | None,
    *,
    grace_days: int = DEFAULT_GRACE_DAYS,
) -> dict[str, Figure]:
    """Every indicator for `[first, after_last)` over the organisation (`site=None`) or a site."""
    p = Period.of(first, after_last)
    ix = engine.index(site)
    figures: dict[str, Figure] = {}
    figures.update(_bilans(ix, p))
    figures.update(_surveys(ix, p))
    figures.update(_delivery(ix, p))
    figures.update(_complaints(ix, p))
    figures.update(_staff(ix, p))
    figures["team_composition"] = _team(engine.store, ix, p, site)
    figures["destruction_overdue"] = _destruction(ix, p, grace_days)
    figures["data_requests_on_time_rate"] = _data_requests(engine.store, p)
    return {name: figures[name] for name in INDICATOR_NAMES}


def _bilans(ix: ScopeIndex, p: Period) -> dict[str, Figure]:
    completed = ix.completed.between(p.start, p.end)
    abandoned = ix.abandoned.between(p.start, p.end)
    reasons = Counter(reason for reason, _ in abandoned)
    phases = Counter(phase or "none" for _, phase in abandoned)
    follow_ups = ix.follow_up_due.between(p.start, p.end)
    delays = [d for d in ix.first_preliminary_session.between(p.start, p.end) if d is not None]
    return {
        "beneficiaries_started": count(ix.started.count(p.start, p.end)),
        "bilans_completed": count(len(completed)),
        "bilans_abandoned": count(len(abandoned)),
        "abandonment_rate": rate(len(abandoned), len(completed) + len(abandoned)),
        "abandonment_causes": {
            "value": {
                "by_reason_category": {r: reasons.get(r, 0) for r in ABANDON_REASONS},
                "by_phase_at_abandon": {ph: phases.get(ph, 0) for ph in (*PHASES, "none")},
            }
        },
        "follow_up_rate_6m": rate(sum(1 for held in follow_ups if held), len(follow_ups)),
        "field_inquiries_per_bilan": mean(sum(c[2] for c in completed), len(completed)),
        "access_delay_days_median": median(delays),
        "held_hours_mean": mean(sum(c[0] for c in completed) / 60, len(completed)),
        "three_phase_compliance_rate": rate(sum(1 for c in completed if c[1]), len(completed)),
    }


def _surveys(ix: ScopeIndex, p: Period) -> dict[str, Figure]:
    scores = ix.end_of_bilan_answers.between(p.start, p.end)
    eob = ix.end_of_bilan_sent.between(p.start, p.end)
    six = ix.six_months_sent.between(p.start, p.end)
    feedback = ix.session_feedback_answers.between(p.start, p.end)
    feedback_sent = ix.session_feedback_sent.between(p.start, p.end)
    situations = Counter(ix.situations.between(p.start, p.end))
    return {
        "satisfaction_mean": mean(sum(scores), len(scores)),
        "satisfaction_rate": rate(sum(1 for s in scores if s >= 4), len(scores)),
        "survey_response_rate": rate(sum(1 for answered in eob if answered), len(eob)),
        "six_month_response_rate": rate(sum(1 for answered in six if answered), len(six)),
        "session_feedback_mean": mean(sum(feedback), len(feedback)),
        "session_feedback_response_rate": rate(
            sum(1 for answered in feedback_sent if answered), len(feedback_sent)
        ),
        "six_month_situations": {"value": {s: situations.get(s, 0) for s in SITUATIONS}},
    }


def _delivery(ix: ScopeIndex, p: Period) -> dict[str, Figure]:
    first_sessions = ix.first_bilan_session.between(p.start, p.end)
    investigations = ix.investigation_started.between(p.start, p.end)
    held = ix.held.count(p.start, p.end)
    no_shows = ix.no_shows.count(p.start, p.end)
    return {
        # "counting every such dossier with a session in the period": any SessionHeld.
        "dossiers_over_24h": count(
            sum(1 for starts in ix.over_24h if any_between(starts, p.start, p.end))
        ),
        "convention_before_first_session_rate": rate(
            sum(1 for conv, _ in first_sessions if conv), len(first_sessions)
        ),
        "deontology_before_first_session_rate": rate(
            sum(1 for _, deon in first_sessions if deon), len(first_sessions)
        ),
        "preliminary_evidence_rate": rate(
            sum(1 for ok in investigations if ok), len(investigations)
        ),
        "no_show_rate": rate(no_shows, held + no_shows),
    }


def _complaints(ix: ScopeIndex, p: Period) -> dict[str, Figure]:
    received = [c for c in ix.complaints if p.start <= c[0] < p.end]
    ack = [(c[1] - c[0]) / HOUR_S for c in received if c[1] is not None]
    answer = [(c[2] - c[0]) / HOUR_S for c in received if c[2] is not None]
    still_open = sum(1 for c in ix.complaints if c[0] < p.end and (c[3] is None or c[3] >= p.end))
    overdue = sum(
        1
        for opened, due, done in ix.actions
        if opened < p.end and (done is None or done >= p.end) and due < p.end
    )
    return {
        "complaints_received": count(len(received)),
        "complaint_ack_hours_median": median(ack),
        "complaint_answer_hours_median": median(answer),
        "complaints_open": count(still_open),
        "improvement_actions_overdue": count(overdue),
    }


def _staff(ix: ScopeIndex, p: Period) -> dict[str, Figure]:
    population = [s for s in ix.staff if s[0] < p.end and (s[1] is None or s[1] >= p.start)]
    trained = 0
    hours: list[float] = []
    evaluated = 0
    since = p.end - EVALUATION_WINDOW_S
    for _, _, trainings, evaluations, _ in population:
        in_period = [h for at, h in trainings if p.start <= at < p.end]
        if in_period:
            trained += 1
            hours.extend(in_period)
        if any(since <= at < p.end for at in evaluations.values()):
            evaluated += 1
    return {
        "staff_trained_rate": rate(trained, len(population)),
        # fsum is exactly rounded, so the total does not depend on arrival order.
        "staff_training_hours": {"value": math.fsum(hours)},
        "staff_evaluated_rate": rate(evaluated, len(population)),
    }


def _team(store: FactStore, ix: ScopeIndex, p: Period, site: str | None) -> Figure:
    active = [s for s in store.staff.values() if s.onboarded is not None]
    active = [
        s
        for s in active
        if s.onboarded is not None
        and s.onboarded[0] < p.end
        and (s.left_at is None or s.left_at >= p.end)
    ]
    if site is not None:
        sites = {site}
    else:
        sites = {
            site_id
            for site_id, facts in store.sites.items()
            if facts.opened is not None and facts.opened[0] < p.end
        }
        sites.update(sid for s in active if s.onboarded is not None for sid in s.onboarded[2])
    by_site: dict[str, Any] = {}
    for site_id in sorted(sites):
        roles = Counter(
            role
            for s in active
            if s.onboarded is not None and site_id in s.onboarded[2]
            for role in s.onboarded[1]
        )
        by_site[site_id] = {
            "active_staff": sum(
                1 for s in active if s.onboarded is not None and site_id in s.onboarded[2]
            ),
            "by_role": {role: roles.get(role, 0) for role in STAFF_ROLES},
            "has_psychologist": roles.get("psychologist", 0) > 0,
            "has_disability_referent": roles.get("disability_referent", 0) > 0,
        }
    return {"value": by_site}


def _destruction(ix: ScopeIndex, p: Period, grace_days: int) -> Figure:
    deadline = p.end - grace_days * DAY_S
    overdue = 0
    for ended_at, destroyed_at, retentions in ix.ended:
        if ended_at >= deadline or (destroyed_at is not None and destroyed_at < p.end):
            continue
        # A retention covers the documents at `to` if agreed before `to` and not yet expired.
        if any(agreed < p.end and expires >= p.end for agreed, expires in retentions):
            continue
        overdue += 1
    return count(overdue)


def _data_requests(store: FactStore, p: Period) -> Figure:
    # Organisation-wide whatever the site filter (indicators.md).
    population = [
        r
        for r in store.data_requests.values()
        if r.received is not None and p.start <= r.received[0] < p.end and r.received[1] < p.end
    ]
    on_time = sum(
        1
        for r in population
        if r.received is not None and r.answered_at is not None and r.answered_at < r.received[1]
    )
    return rate(on_time, len(population))
