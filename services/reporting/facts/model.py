"""The facts the reporting service keeps, per entity, from which every indicator is computed.

Events of one dossier arrive across three topics in any order, and may be redelivered. So the
projection never keeps "the state after the last event": it keeps facts that are merged
commutatively and idempotently -- the earliest time of a one-off fact, and repeatable facts
keyed by the `ce_id` of the event that reported them. Applying the same events in any order,
any number of times, gives the same facts. Indicators are computed from facts at query time.

Times are POSIX seconds (floats): cheap to compare and sort, and plain JSON when persisted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Fact = list[Any]
"""A small record kept as a JSON-friendly list (e.g. `[started_at, phase, minutes]`)."""


def earliest(current: float | None, candidate: float) -> float:
    """The earlier of two times: what a one-off fact keeps whatever the arrival order."""
    return candidate if current is None or candidate < current else current


def least(current: Fact | None, candidate: Fact) -> Fact:
    """The smallest of two records (by time first): a deterministic pick among duplicates."""
    return candidate if current is None or candidate < current else current


@dataclass(slots=True)
class DossierFacts:
    """What is known of one dossier (contract events keyed by `dossier_id`)."""

    opened: Fact | None = None
    """`[opened_at, site_id, enquiry_received_at]` from `DossierOpened`."""
    funding: Fact | None = None
    """`[opened_at, funding_route]` from `DossierOpened` (the BPF's trainee types and lines)."""
    phase_started: dict[str, float] = field(default_factory=dict)
    phase_completed: dict[str, float] = field(default_factory=dict)
    convention_signed_at: float | None = None
    conventions: dict[str, Fact] = field(default_factory=dict)
    """`convention_id -> [drafted_at, price_cents, duration_minutes]` from `ConventionDrafted`."""
    signed_conventions: dict[str, float] = field(default_factory=dict)
    """`convention_id -> signed_at` of each `ConventionSigned`."""
    deontology_at: float | None = None
    needs_analysis_at: float | None = None
    programme_at: float | None = None
    synthesis_at: float | None = None
    results_at: float | None = None
    completed: Fact | None = None
    """`[completed_at, held_minutes]`."""
    abandoned: Fact | None = None
    """`[abandoned_at, reason_category, phase_at_abandon or ""]`."""
    withdrawn_at: float | None = None
    """Earliest `WithdrawalExercised`: the bilan ended there (rule 7, the BPF's revenue)."""
    destroyed_at: float | None = None
    retentions: dict[str, Fact] = field(default_factory=dict)
    """`ce_id -> [agreed_at, expires_at]`, only retentions covering the working documents."""
    sessions: dict[str, Fact] = field(default_factory=dict)
    """`ce_id -> [started_at, phase, duration_minutes]` of each `SessionHeld`."""
    session_leads: dict[str, str] = field(default_factory=dict)
    """`ce_id -> consultant_id` of each `SessionHeld` (the BPF's staff hours)."""
    no_shows: dict[str, float] = field(default_factory=dict)
    """`ce_id -> recorded_at` of each `NoShowRecorded`."""
    field_inquiries: dict[str, float] = field(default_factory=dict)
    situations: dict[str, Fact] = field(default_factory=dict)
    """`ce_id -> [reported_at, situation]` of each `SixMonthSituationReported`."""

    @property
    def site_id(self) -> str | None:
        return None if self.opened is None else str(self.opened[1])


@dataclass(slots=True)
class SurveyFacts:
    """One survey: when and why it was sent, and its answers."""

    sent: Fact | None = None
    """`[sent_at, campaign, dossier_id or ""]`."""
    answers: dict[str, Fact] = field(default_factory=dict)
    """`ce_id -> [answered_at, campaign, satisfaction_score, dossier_id or ""]`."""
    cancelled_at: float | None = None
    """Earliest `SurveyCancelled`: no longer waiting for an answer (left out of the rates)."""


@dataclass(slots=True)
class ComplaintFacts:
    received: Fact | None = None
    """`[received_at, site_id]`."""
    acknowledged_at: float | None = None
    answered_at: float | None = None
    closed_at: float | None = None


@dataclass(slots=True)
class ActionFacts:
    opened: Fact | None = None
    """`[opened_at, due_at, site_id or ""]`."""
    completed_at: float | None = None


@dataclass(slots=True)
class StaffFacts:
    onboarded: Fact | None = None
    """`[onboarded_at, sorted roles, sorted site_ids]`."""
    contract: Fact | None = None
    """`[onboarded_at, contract]` from `StaffMemberOnboarded` (`employee`, `subcontractor`)."""
    left_at: float | None = None
    trainings: dict[str, Fact] = field(default_factory=dict)
    """`ce_id -> [completed_at, hours]`."""
    evaluations: dict[str, float] = field(default_factory=dict)


@dataclass(slots=True)
class DataRequestFacts:
    received: Fact | None = None
    """`[received_at, due_at]`."""
    answered_at: float | None = None
    """Earliest `DataSubjectRequestFulfilled` or `DataSubjectRequestRefused`."""


@dataclass(slots=True)
class SiteFacts:
    """Organisation data (not personal): a site's label and region."""

    opened: Fact | None = None
    """`[opened_at, name, region]`."""


KINDS: dict[str, type] = {
    "dossier": DossierFacts,
    "survey": SurveyFacts,
    "complaint": ComplaintFacts,
    "action": ActionFacts,
    "staff": StaffFacts,
    "data_request": DataRequestFacts,
    "site": SiteFacts,
}
"""Entity kinds, as stored in the `facts` table."""
