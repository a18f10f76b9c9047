"""The dossier's domain events, stored as they are named and shaped here (domain/events.py
registers and codes them). Content fields hold already-sealed ciphertext."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TypeAlias

from services.dossier.domain.events import DomainEvent


@dataclass(frozen=True, slots=True)
class DossierOpened(DomainEvent):
    dossier_id: str
    beneficiary_id: str
    site_id: str
    funding_route: str
    enquiry_received_at: datetime
    opened_at: datetime


@dataclass(frozen=True, slots=True)
class DeontologyInformationAcknowledged(DomainEvent):
    notice_version: int
    acknowledged_at: datetime


@dataclass(frozen=True, slots=True)
class NeedsAnalysisRecorded(DomainEvent):
    sealed_narrative: str
    disability_accommodation_requested: bool
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class PersonalisedProgrammeAgreed(DomainEvent):
    planned_minutes: int
    modality: str
    agreed_at: datetime


@dataclass(frozen=True, slots=True)
class ConventionDrafted(DomainEvent):
    convention_id: str
    kind: str
    required_parties: tuple[str, ...]
    mentions: dict[str, str]
    duration_minutes: int
    price_cents: int
    drafted_at: datetime


@dataclass(frozen=True, slots=True)
class ConventionSentForSignature(DomainEvent):
    convention_id: str
    sent_at: datetime
    acceptance_deadline: datetime


@dataclass(frozen=True, slots=True)
class ConventionSignedByParty(DomainEvent):
    convention_id: str
    party: str
    signed_at: datetime
    method: str | None = None
    """`electronic` (the party online, with stored evidence), `handwritten` (a paper signature
    recorded by staff with its scan) or `platform` (accepted on the CPF platform, recorded by
    staff with its proof) — contract v1.1; None on signatures recorded before methods were."""
    document_id: str | None = None
    """The scan backing a signature recorded by staff."""


@dataclass(frozen=True, slots=True)
class ConventionSigned(DomainEvent):
    convention_id: str
    signed_at: datetime


@dataclass(frozen=True, slots=True)
class ConventionDeemedRefused(DomainEvent):
    convention_id: str
    acceptance_deadline: datetime
    refused_at: datetime


@dataclass(frozen=True, slots=True)
class WithdrawalExercised(DomainEvent):
    convention_id: str
    exercised_at: datetime


@dataclass(frozen=True, slots=True)
class ReferentConsultantAssigned(DomainEvent):
    consultant_id: str
    previous_consultant_id: str | None
    reason: str
    assigned_at: datetime
    assigned_by: str | None = None
    """Who named the referent (None on assignments recorded before it was kept)."""


@dataclass(frozen=True, slots=True)
class PhaseStarted(DomainEvent):
    phase: str
    started_at: datetime


@dataclass(frozen=True, slots=True)
class PhaseCompleted(DomainEvent):
    phase: str
    completed_at: datetime


@dataclass(frozen=True, slots=True)
class AssessmentAdministered(DomainEvent):
    assessment_id: str
    instrument_id: str
    required_habilitation: str | None
    administered_by: str
    administered_at: datetime
    sealed_result: str


@dataclass(frozen=True, slots=True)
class FieldInquiryCompleted(DomainEvent):
    contact_type: str
    completed_at: datetime
    sealed_notes: str | None


@dataclass(frozen=True, slots=True)
class TrainingNeedIdentified(DomainEvent):
    kind: str
    certification_code: str | None
    identified_at: datetime
    sealed_description: str | None


@dataclass(frozen=True, slots=True)
class TrainingNeedFollowedUp(DomainEvent):
    """Internal (not in the contract): the follow-up status of the `index`-th need."""

    published = False
    index: int
    status: str
    at: datetime


@dataclass(frozen=True, slots=True)
class DetailedResultsHandedOver(DomainEvent):
    handed_over_at: datetime


@dataclass(frozen=True, slots=True)
class SynthesisDrafted(DomainEvent):
    published = False
    synthesis_version: int
    author_id: str
    sealed_content: str
    drafted_at: datetime


@dataclass(frozen=True, slots=True)
class SynthesisDelivered(DomainEvent):
    synthesis_version: int
    channel: str
    delivered_at: datetime


@dataclass(frozen=True, slots=True)
class ThirdPartyDisclosureConsentGiven(DomainEvent):
    recipient: str
    given_at: datetime
    method: str | None = None
    """`electronic` (the beneficiary themselves) or `handwritten` (a written consent recorded
    by staff with its scan)."""
    document_id: str | None = None


@dataclass(frozen=True, slots=True)
class ThirdPartyDisclosureConsentRevoked(DomainEvent):
    recipient: str
    revoked_at: datetime


@dataclass(frozen=True, slots=True)
class ProcessingRestricted(DomainEvent):
    """The beneficiary's restriction (GDPR art. 18) covers this dossier: stored only."""

    published = False
    restricted: bool
    at: datetime


@dataclass(frozen=True, slots=True)
class SynthesisDisclosed(DomainEvent):
    """The synthesis went to a third party, under the beneficiary's consent (L6313-4)."""

    published = False
    recipient: str
    synthesis_version: int
    disclosed_at: datetime


@dataclass(frozen=True, slots=True)
class DossierCompleted(DomainEvent):
    held_minutes: int
    completed_at: datetime


@dataclass(frozen=True, slots=True)
class DossierAbandoned(DomainEvent):
    phase_at_abandon: str | None
    reason_category: str
    initiated_by: str
    abandoned_at: datetime


@dataclass(frozen=True, slots=True)
class RetentionAgreed(DomainEvent):
    document_classes: tuple[str, ...]
    justification: str
    agreed_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class WorkingDocumentsDestroyed(DomainEvent):
    document_classes: tuple[str, ...]
    method: str
    destroyed_at: datetime


DossierEvent: TypeAlias = (
    DossierOpened
    | DeontologyInformationAcknowledged
    | NeedsAnalysisRecorded
    | PersonalisedProgrammeAgreed
    | ConventionDrafted
    | ConventionSentForSignature
    | ConventionSignedByParty
    | ConventionSigned
    | ConventionDeemedRefused
    | WithdrawalExercised
    | ReferentConsultantAssigned
    | PhaseStarted
    | PhaseCompleted
    | AssessmentAdministered
    | FieldInquiryCompleted
    | TrainingNeedIdentified
    | TrainingNeedFollowedUp
    | DetailedResultsHandedOver
    | SynthesisDrafted
    | SynthesisDelivered
    | ThirdPartyDisclosureConsentGiven
    | ThirdPartyDisclosureConsentRevoked
    | ProcessingRestricted
    | SynthesisDisclosed
    | DossierCompleted
    | DossierAbandoned
    | RetentionAgreed
    | WorkingDocumentsDestroyed
)
"""Every event of a dossier stream: `evolve` handles each (mypy checks it)."""
