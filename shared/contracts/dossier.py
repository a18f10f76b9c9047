"""Events of topic `bilan.dossier.events`, published by the dossier service (contract v1.1).

A dossier follows one beneficiary's bilan de compétences from the enquiry to the destruction
of the working documents: convention (R6313-4 to R6313-8), referent consultant, the three
phases, synthesis, third-party consent, retention, and the GDPR requests of the data subject.
Every event is keyed by `dossier_id`, except the data-subject-request events and
`BeneficiaryErased`, keyed by `subject_id` (the beneficiary id). Nothing personal is carried:
ids, closed-list categories, times, minutes, cents and versions only.
"""

from __future__ import annotations

from typing import Literal, Self

from pydantic import model_validator

from shared.contracts.base import Id, IntegrationEvent, UtcDatetime
from shared.contracts.values import (
    BilanMinutes,
    Cents,
    CertificationCode,
    Code,
    Flag,
    HeldMinutes,
    LegalGround,
    NonEmptyUniqueList,
    Version,
)

__all__ = [
    "EVENTS",
    "AbandonInitiator",
    "AbandonReason",
    "AssessmentAdministered",
    "BeneficiaryErased",
    "ConsultantAssignmentReason",
    "ConventionDeemedRefused",
    "ConventionDrafted",
    "ConventionKind",
    "ConventionParty",
    "ConventionSentForSignature",
    "ConventionSigned",
    "ConventionSignedByParty",
    "DataRequestKind",
    "DataSubjectRequestFulfilled",
    "DataSubjectRequestReceived",
    "DataSubjectRequestRefused",
    "DeontologyInformationAcknowledged",
    "DestructionMethod",
    "DetailedResultsHandedOver",
    "DisclosureRecipient",
    "DocumentClass",
    "DossierAbandoned",
    "DossierCompleted",
    "DossierOpened",
    "FieldContactType",
    "FieldInquiryCompleted",
    "FundingRoute",
    "NeedsAnalysisRecorded",
    "PersonalisedProgrammeAgreed",
    "Phase",
    "PhaseCompleted",
    "PhaseStarted",
    "ProgrammeModality",
    "ReferentConsultantAssigned",
    "RetentionAgreed",
    "RetentionJustification",
    "SignatureMethod",
    "SynthesisChannel",
    "SynthesisDelivered",
    "ThirdPartyDisclosureConsentGiven",
    "ThirdPartyDisclosureConsentRevoked",
    "TrainingNeedIdentified",
    "TrainingNeedKind",
    "WithdrawalExercised",
    "WorkingDocumentsDestroyed",
]

# --- Closed lists -------------------------------------------------------------------------

FundingRoute = Literal[
    "cpf",
    "employer_plan",
    "conge_reclassement",
    "france_travail",
    "opco",
    "self_funded",
    "public_employer",
]
"""Who pays for the bilan."""

Phase = Literal["preliminary", "investigation", "conclusion"]
"""The three phases of a bilan (R6313-4)."""

ProgrammeModality = Literal["in_person", "remote", "mixed"]
"""How the personalised programme is to be delivered as a whole."""

ConventionKind = Literal["tripartite", "individual_contract", "cpf", "public_model"]
"""The legal form of the convention or contract."""

ConventionParty = Literal["beneficiary", "provider", "employer", "funder"]
"""A party that signs a convention."""

ConsultantAssignmentReason = Literal["initial", "unavailability", "beneficiary_request", "other"]
"""Why a referent consultant was (re)assigned."""

FieldContactType = Literal[
    "professional_interview", "company_visit", "job_immersion", "information_event", "other"
]
"""The kind of contact with the world of work made during the investigation phase."""

TrainingNeedKind = Literal["training", "vae"]
"""A training course, or a validation of acquired experience (VAE)."""

SignatureMethod = Literal["electronic", "handwritten", "platform"]
"""How a party signed: online by the party themselves with stored evidence (`electronic`), a
paper signature recorded by staff (`handwritten`), accepted on the CPF platform (`platform`)."""

SynthesisChannel = Literal["hand", "post", "secure_download"]
"""How the synthesis document reached the beneficiary."""

DisclosureRecipient = Literal["cep_operator", "employer", "funder", "other"]
"""A third party to whom the beneficiary may allow results to be communicated (L6313-10-1)."""

AbandonReason = Literal[
    "health",
    "employment_found",
    "personal",
    "dissatisfaction",
    "funding",
    "unreachable",
    "other",
]
"""Category of the reason a bilan was abandoned."""

AbandonInitiator = Literal["beneficiary", "provider", "funder"]
"""Who ended a bilan before its term."""

DocumentClass = Literal["synthesis", "working_documents"]
"""A class of documents of a dossier subject to retention and destruction (R6313-7)."""

RetentionJustification = Literal["follow_up", "cep_transmission"]
"""Why documents are kept beyond the end of the bilan, with the beneficiary's agreement."""

DestructionMethod = Literal["crypto_shred"]
"""How documents were destroyed (deletion of the per-subject encryption key)."""

DataRequestKind = Literal["access", "rectification", "erasure", "restriction", "objection"]
"""The GDPR right exercised by a data subject (art. 15 to 21)."""


# --- Dossier lifecycle --------------------------------------------------------------------


class DossierOpened(IntegrationEvent):
    """An enquiry became a dossier for a beneficiary at a site, with its funding route."""

    service = "dossier"
    event_name = "DossierOpened"
    key_field = "dossier_id"
    subject_field = "dossier_id"
    time_field = "opened_at"

    dossier_id: Id
    beneficiary_id: Id
    site_id: Id
    funding_route: FundingRoute
    enquiry_received_at: UtcDatetime
    opened_at: UtcDatetime


class DeontologyInformationAcknowledged(IntegrationEvent):
    """The beneficiary acknowledged a given version of the ethics and rights notice."""

    service = "dossier"
    event_name = "DeontologyInformationAcknowledged"
    key_field = "dossier_id"
    subject_field = "dossier_id"
    time_field = "acknowledged_at"

    dossier_id: Id
    notice_version: Version
    acknowledged_at: UtcDatetime


class NeedsAnalysisRecorded(IntegrationEvent):
    """The needs analysis was recorded (its content stays in the service)."""

    service = "dossier"
    event_name = "NeedsAnalysisRecorded"
    key_field = "dossier_id"
    subject_field = "dossier_id"
    time_field = "recorded_at"

    dossier_id: Id
    disability_accommodation_requested: Flag
    recorded_at: UtcDatetime


class PersonalisedProgrammeAgreed(IntegrationEvent):
    """The beneficiary and the provider agreed a personalised programme of so many minutes."""

    service = "dossier"
    event_name = "PersonalisedProgrammeAgreed"
    key_field = "dossier_id"
    subject_field = "dossier_id"
    time_field = "agreed_at"

    dossier_id: Id
    planned_minutes: BilanMinutes
    modality: ProgrammeModality
    agreed_at: UtcDatetime


# --- Convention -----------------------------------------------------------------------------


class ConventionDrafted(IntegrationEvent):
    """A convention was drafted with its form, required signatories, duration and price."""

    service = "dossier"
    event_name = "ConventionDrafted"
    key_field = "dossier_id"
    subject_field = "dossier_id"
    time_field = "drafted_at"

    dossier_id: Id
    convention_id: Id
    kind: ConventionKind
    required_parties: NonEmptyUniqueList[ConventionParty]
    duration_minutes: BilanMinutes
    price_cents: Cents
    drafted_at: UtcDatetime


class ConventionSentForSignature(IntegrationEvent):
    """A convention was sent to its parties, to be signed before the acceptance deadline."""

    service = "dossier"
    event_name = "ConventionSentForSignature"
    key_field = "dossier_id"
    subject_field = "dossier_id"
    time_field = "sent_at"

    dossier_id: Id
    convention_id: Id
    sent_at: UtcDatetime
    acceptance_deadline: UtcDatetime


class ConventionSignedByParty(IntegrationEvent):
    """One party signed a convention."""

    service = "dossier"
    event_name = "ConventionSignedByParty"
    key_field = "dossier_id"
    subject_field = "dossier_id"
    time_field = "signed_at"

    dossier_id: Id
    convention_id: Id
    party: ConventionParty
    signed_at: UtcDatetime
    method: SignatureMethod | None = None
    """v1.1, optional: absent from the records published before it."""


class ConventionSigned(IntegrationEvent):
    """The last required party signed: the convention is in force (emitted once)."""

    service = "dossier"
    event_name = "ConventionSigned"
    key_field = "dossier_id"
    subject_field = "dossier_id"
    time_field = "signed_at"

    dossier_id: Id
    convention_id: Id
    signed_at: UtcDatetime


class ConventionDeemedRefused(IntegrationEvent):
    """The acceptance deadline passed without all signatures: silence is refusal (R6313-8)."""

    service = "dossier"
    event_name = "ConventionDeemedRefused"
    key_field = "dossier_id"
    subject_field = "dossier_id"
    time_field = "refused_at"

    dossier_id: Id
    convention_id: Id
    acceptance_deadline: UtcDatetime
    refused_at: UtcDatetime

    @model_validator(mode="after")
    def _refused_once_deadline_passed(self) -> Self:
        if self.refused_at < self.acceptance_deadline:
            raise ValueError("refused_at must not precede acceptance_deadline")
        return self


class WithdrawalExercised(IntegrationEvent):
    """The beneficiary withdrew from a signed convention."""

    service = "dossier"
    event_name = "WithdrawalExercised"
    key_field = "dossier_id"
    subject_field = "dossier_id"
    time_field = "exercised_at"

    dossier_id: Id
    convention_id: Id
    exercised_at: UtcDatetime


# --- Conduct of the bilan -------------------------------------------------------------------


class ReferentConsultantAssigned(IntegrationEvent):
    """A consultant became the dossier's referent, first or in place of another."""

    service = "dossier"
    event_name = "ReferentConsultantAssigned"
    key_field = "dossier_id"
    subject_field = "dossier_id"
    time_field = "assigned_at"

    dossier_id: Id
    consultant_id: Id
    previous_consultant_id: Id | None
    reason: ConsultantAssignmentReason
    assigned_at: UtcDatetime

    @model_validator(mode="after")
    def _initial_iff_no_previous(self) -> Self:
        if (self.previous_consultant_id is None) != (self.reason == "initial"):
            raise ValueError("previous_consultant_id must be null exactly when reason is 'initial'")
        return self


class PhaseStarted(IntegrationEvent):
    """A phase of the bilan began."""

    service = "dossier"
    event_name = "PhaseStarted"
    key_field = "dossier_id"
    subject_field = "dossier_id"
    time_field = "started_at"

    dossier_id: Id
    phase: Phase
    started_at: UtcDatetime


class PhaseCompleted(IntegrationEvent):
    """A phase of the bilan ended."""

    service = "dossier"
    event_name = "PhaseCompleted"
    key_field = "dossier_id"
    subject_field = "dossier_id"
    time_field = "completed_at"

    dossier_id: Id
    phase: Phase
    completed_at: UtcDatetime


class AssessmentAdministered(IntegrationEvent):
    """A staff member administered an assessment instrument (the result stays inside)."""

    service = "dossier"
    event_name = "AssessmentAdministered"
    key_field = "dossier_id"
    subject_field = "dossier_id"
    time_field = "administered_at"

    dossier_id: Id
    instrument_id: Id
    required_habilitation: Code | None
    administered_by: Id
    administered_at: UtcDatetime


class FieldInquiryCompleted(IntegrationEvent):
    """The beneficiary completed a contact with the world of work."""

    service = "dossier"
    event_name = "FieldInquiryCompleted"
    key_field = "dossier_id"
    subject_field = "dossier_id"
    time_field = "completed_at"

    dossier_id: Id
    contact_type: FieldContactType
    completed_at: UtcDatetime


class TrainingNeedIdentified(IntegrationEvent):
    """A need for training or VAE was identified, possibly towards a registered certification."""

    service = "dossier"
    event_name = "TrainingNeedIdentified"
    key_field = "dossier_id"
    subject_field = "dossier_id"
    time_field = "identified_at"

    dossier_id: Id
    kind: TrainingNeedKind
    certification_code: CertificationCode | None
    identified_at: UtcDatetime


class DetailedResultsHandedOver(IntegrationEvent):
    """The detailed results were communicated to the beneficiary."""

    service = "dossier"
    event_name = "DetailedResultsHandedOver"
    key_field = "dossier_id"
    subject_field = "dossier_id"
    time_field = "handed_over_at"

    dossier_id: Id
    handed_over_at: UtcDatetime


class SynthesisDelivered(IntegrationEvent):
    """A version of the synthesis document was delivered to the beneficiary."""

    service = "dossier"
    event_name = "SynthesisDelivered"
    key_field = "dossier_id"
    subject_field = "dossier_id"
    time_field = "delivered_at"

    dossier_id: Id
    synthesis_version: Version
    channel: SynthesisChannel
    delivered_at: UtcDatetime


class ThirdPartyDisclosureConsentGiven(IntegrationEvent):
    """The beneficiary allowed results to be communicated to a kind of third party."""

    service = "dossier"
    event_name = "ThirdPartyDisclosureConsentGiven"
    key_field = "dossier_id"
    subject_field = "dossier_id"
    time_field = "given_at"

    dossier_id: Id
    recipient: DisclosureRecipient
    given_at: UtcDatetime


class ThirdPartyDisclosureConsentRevoked(IntegrationEvent):
    """The beneficiary withdrew a consent to communicate results to a kind of third party."""

    service = "dossier"
    event_name = "ThirdPartyDisclosureConsentRevoked"
    key_field = "dossier_id"
    subject_field = "dossier_id"
    time_field = "revoked_at"

    dossier_id: Id
    recipient: DisclosureRecipient
    revoked_at: UtcDatetime


# --- End of the bilan and documents ---------------------------------------------------------


class DossierCompleted(IntegrationEvent):
    """The bilan ended normally, after so many minutes held in its three phases."""

    service = "dossier"
    event_name = "DossierCompleted"
    key_field = "dossier_id"
    subject_field = "dossier_id"
    time_field = "completed_at"

    dossier_id: Id
    held_minutes: HeldMinutes
    completed_at: UtcDatetime


class DossierAbandoned(IntegrationEvent):
    """The bilan ended before its term, with who ended it and a category of reason."""

    service = "dossier"
    event_name = "DossierAbandoned"
    key_field = "dossier_id"
    subject_field = "dossier_id"
    time_field = "abandoned_at"

    dossier_id: Id
    phase_at_abandon: Phase | None
    reason_category: AbandonReason
    initiated_by: AbandonInitiator
    abandoned_at: UtcDatetime


class RetentionAgreed(IntegrationEvent):
    """The beneficiary agreed that some documents are kept until a date, for a purpose."""

    service = "dossier"
    event_name = "RetentionAgreed"
    key_field = "dossier_id"
    subject_field = "dossier_id"
    time_field = "agreed_at"

    dossier_id: Id
    document_classes: NonEmptyUniqueList[DocumentClass]
    justification: RetentionJustification
    agreed_at: UtcDatetime
    expires_at: UtcDatetime

    @model_validator(mode="after")
    def _expires_after_agreement(self) -> Self:
        if self.expires_at <= self.agreed_at:
            raise ValueError("expires_at must be after agreed_at")
        return self


class WorkingDocumentsDestroyed(IntegrationEvent):
    """Documents of the dossier were destroyed, by erasing their encryption key."""

    service = "dossier"
    event_name = "WorkingDocumentsDestroyed"
    key_field = "dossier_id"
    subject_field = "dossier_id"
    time_field = "destroyed_at"

    dossier_id: Id
    document_classes: NonEmptyUniqueList[DocumentClass]
    method: DestructionMethod
    destroyed_at: UtcDatetime


# --- Data subject rights (keyed by the beneficiary id) ----------------------------------------


class DataSubjectRequestReceived(IntegrationEvent):
    """A data subject exercised a GDPR right; the answer is due by `due_at`."""

    service = "dossier"
    event_name = "DataSubjectRequestReceived"
    key_field = "subject_id"
    subject_field = "subject_id"
    time_field = "received_at"

    request_id: Id
    subject_id: Id
    kind: DataRequestKind
    received_at: UtcDatetime
    due_at: UtcDatetime

    @model_validator(mode="after")
    def _due_after_receipt(self) -> Self:
        if self.due_at <= self.received_at:
            raise ValueError("due_at must be after received_at")
        return self


class DataSubjectRequestFulfilled(IntegrationEvent):
    """A data subject's request was granted."""

    service = "dossier"
    event_name = "DataSubjectRequestFulfilled"
    key_field = "subject_id"
    subject_field = "subject_id"
    time_field = "fulfilled_at"

    request_id: Id
    subject_id: Id
    kind: DataRequestKind
    fulfilled_at: UtcDatetime


class DataSubjectRequestRefused(IntegrationEvent):
    """A data subject's request was refused on a stated legal ground."""

    service = "dossier"
    event_name = "DataSubjectRequestRefused"
    key_field = "subject_id"
    subject_field = "subject_id"
    time_field = "refused_at"

    request_id: Id
    subject_id: Id
    kind: DataRequestKind
    legal_ground: LegalGround
    refused_at: UtcDatetime


class BeneficiaryErased(IntegrationEvent):
    """Proof that a beneficiary's personal data were erased (their key destroyed)."""

    service = "dossier"
    event_name = "BeneficiaryErased"
    key_field = "subject_id"
    subject_field = "subject_id"
    time_field = "erased_at"

    subject_id: Id
    erased_at: UtcDatetime


EVENTS: tuple[type[IntegrationEvent], ...] = (
    DossierOpened,
    DeontologyInformationAcknowledged,
    NeedsAnalysisRecorded,
    PersonalisedProgrammeAgreed,
    ConventionDrafted,
    ConventionSentForSignature,
    ConventionSignedByParty,
    ConventionSigned,
    ConventionDeemedRefused,
    WithdrawalExercised,
    ReferentConsultantAssigned,
    PhaseStarted,
    PhaseCompleted,
    AssessmentAdministered,
    FieldInquiryCompleted,
    TrainingNeedIdentified,
    DetailedResultsHandedOver,
    SynthesisDelivered,
    ThirdPartyDisclosureConsentGiven,
    ThirdPartyDisclosureConsentRevoked,
    DossierCompleted,
    DossierAbandoned,
    RetentionAgreed,
    WorkingDocumentsDestroyed,
    DataSubjectRequestReceived,
    DataSubjectRequestFulfilled,
    DataSubjectRequestRefused,
    BeneficiaryErased,
)
"""The event types of `bilan.dossier.events`, in the order of the contract."""
