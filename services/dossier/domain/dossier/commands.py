"""The commands a dossier accepts. Policies that are configuration (acceptance and withdrawal
periods, destruction grace) arrive in them; so do the facts about staff and instruments."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeAlias

from services.dossier.domain.catalogue import Instrument
from services.dossier.domain.staff import StaffFacts


@dataclass(frozen=True, slots=True)
class OpenDossier:
    dossier_id: str
    beneficiary_id: str
    site_id: str
    funding_route: str
    enquiry_received_at: datetime


@dataclass(frozen=True, slots=True)
class AcknowledgeDeontology:
    notice_version: int
    known_versions: frozenset[int]
    acknowledged_at: datetime


@dataclass(frozen=True, slots=True)
class RecordNeedsAnalysis:
    sealed_narrative: str
    disability_accommodation_requested: bool
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class AgreeProgramme:
    planned_minutes: int
    modality: str
    agreed_at: datetime


@dataclass(frozen=True, slots=True)
class DraftConvention:
    convention_id: str
    kind: str
    mentions: dict[str, str]
    duration_minutes: int
    price_cents: int
    drafted_at: datetime


@dataclass(frozen=True, slots=True)
class SendConvention:
    convention_id: str
    acceptance_period: timedelta
    sent_at: datetime


@dataclass(frozen=True, slots=True)
class SignConvention:
    convention_id: str
    party: str
    signed_at: datetime
    method: str = "electronic"
    document_id: str | None = None


@dataclass(frozen=True, slots=True)
class DeemConventionRefused:
    """Fired by the acceptance-deadline timer."""

    convention_id: str


@dataclass(frozen=True, slots=True)
class ExerciseWithdrawal:
    convention_id: str
    withdrawal_period: timedelta | None
    exercised_at: datetime


@dataclass(frozen=True, slots=True)
class AssignReferent:
    staff: StaffFacts | None
    reason: str
    assigned_at: datetime
    assigned_by: str | None = None


@dataclass(frozen=True, slots=True)
class StartPhase:
    phase: str
    started_at: datetime


@dataclass(frozen=True, slots=True)
class CompletePhase:
    phase: str
    completed_at: datetime


@dataclass(frozen=True, slots=True)
class AdministerAssessment:
    assessment_id: str
    instrument: Instrument | None
    administrator: StaffFacts | None
    sealed_result: str
    administered_at: datetime


@dataclass(frozen=True, slots=True)
class CompleteFieldInquiry:
    contact_type: str
    sealed_notes: str | None
    completed_at: datetime


@dataclass(frozen=True, slots=True)
class IdentifyTrainingNeed:
    kind: str
    certification_code: str | None
    sealed_description: str | None
    identified_at: datetime


@dataclass(frozen=True, slots=True)
class FollowUpTrainingNeed:
    """Where a training or VAE need stands since the bilan named it (its `index`, in order)."""

    index: int
    status: str
    at: datetime


@dataclass(frozen=True, slots=True)
class HandOverDetailedResults:
    handed_over_at: datetime


@dataclass(frozen=True, slots=True)
class DraftSynthesis:
    author_id: str
    sealed_content: str
    drafted_at: datetime


@dataclass(frozen=True, slots=True)
class DeliverSynthesis:
    channel: str
    delivered_at: datetime


@dataclass(frozen=True, slots=True)
class GiveDisclosureConsent:
    recipient: str
    given_at: datetime
    method: str = "electronic"
    document_id: str | None = None


@dataclass(frozen=True, slots=True)
class RevokeDisclosureConsent:
    recipient: str
    revoked_at: datetime


@dataclass(frozen=True, slots=True)
class DiscloseSynthesis:
    recipient: str
    disclosed_at: datetime


@dataclass(frozen=True, slots=True)
class CompleteDossier:
    held_minutes: int
    """The dossier's counted held time (held_time.py), never above 1,440."""
    completed_at: datetime


@dataclass(frozen=True, slots=True)
class AbandonDossier:
    reason_category: str
    initiated_by: str
    abandoned_at: datetime


@dataclass(frozen=True, slots=True)
class AgreeRetention:
    document_classes: tuple[str, ...]
    justification: str
    expires_at: datetime
    agreed_at: datetime


@dataclass(frozen=True, slots=True)
class DestroyDueDocuments:
    """Fired by the destruction timers: destroy every class whose time has come."""

    grace: timedelta


@dataclass(frozen=True, slots=True)
class RestrictProcessing:
    """The beneficiary's restriction begins (True) or is lifted (False) on this dossier."""

    restricted: bool
    at: datetime


@dataclass(frozen=True, slots=True)
class DestroyAllDocuments:
    """On the beneficiary's erasure: every class still held goes, retention or not."""


Command: TypeAlias = (
    OpenDossier
    | AcknowledgeDeontology
    | RecordNeedsAnalysis
    | AgreeProgramme
    | DraftConvention
    | SendConvention
    | SignConvention
    | DeemConventionRefused
    | ExerciseWithdrawal
    | AssignReferent
    | StartPhase
    | CompletePhase
    | AdministerAssessment
    | CompleteFieldInquiry
    | IdentifyTrainingNeed
    | FollowUpTrainingNeed
    | HandOverDetailedResults
    | DraftSynthesis
    | DeliverSynthesis
    | GiveDisclosureConsent
    | RevokeDisclosureConsent
    | DiscloseSynthesis
    | CompleteDossier
    | AbandonDossier
    | AgreeRetention
    | DestroyDueDocuments
    | RestrictProcessing
    | DestroyAllDocuments
)
"""Every dossier command: `decide` handles each (mypy checks it)."""
