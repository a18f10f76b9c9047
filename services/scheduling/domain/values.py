"""Closed lists and small value types of the scheduling domain."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

Phase = Literal["information", "preliminary", "investigation", "conclusion", "follow_up"]
Modality = Literal["in_person", "remote"]
Initiator = Literal["beneficiary", "provider"]
CancellationReason = Literal["force_majeure", "illness", "scheduling_conflict", "other"]
SignerRole = Literal["beneficiary", "consultant"]
StaffRole = Literal[
    "consultant", "psychologist", "site_manager", "quality_lead", "disability_referent", "admin"
]
Contract = Literal["employee", "subcontractor"]
CompetenceOutcome = Literal["meets", "partially_meets", "does_not_meet"]
AssessmentReason = Literal[
    "habilitation_required", "referent_unavailable", "beneficiary_request", "other"
]
"""Why someone other than the referent leads an assessment session (a category, never text)."""

BILAN_PHASES: frozenset[str] = frozenset({"preliminary", "investigation", "conclusion"})
"""The three phases of R6313-4: only their time counts towards the 24 hours."""
DURATION_CAP_MINUTES = 1440
"""L6313-4: a bilan lasts at most 24 hours."""
SESSION_LEADER_ROLES: frozenset[str] = frozenset({"consultant", "psychologist"})


def overlaps(a_start: datetime, a_minutes: int, b_start: datetime, b_minutes: int) -> bool:
    """Whether [a_start, a_start + a_minutes) and [b_start, b_start + b_minutes) intersect."""
    a_end = a_start + timedelta(minutes=a_minutes)
    b_end = b_start + timedelta(minutes=b_minutes)
    return a_start < b_end and b_start < a_end
