"""The dossier aggregate: one beneficiary's bilan from opening to destruction of its documents.

Pure: no I/O, no clock. Content (needs analysis, results, notes, synthesis) arrives already
sealed by the application and is kept here only as opaque ciphertext. Policies that are
configuration (acceptance and withdrawal periods, destruction grace) arrive in the commands.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Literal

from services.dossier.domain.catalogue import Instrument
from services.dossier.domain.errors import FORBIDDEN, INVALID, NOT_FOUND, refuse
from services.dossier.domain.events import DomainEvent
from services.dossier.domain.held_time import MAX_HELD_MINUTES
from services.dossier.domain.staff import StaffFacts

PHASES: tuple[str, ...] = ("preliminary", "investigation", "conclusion")
MAX_RETENTION = timedelta(days=365)
"""Documents kept with the beneficiary's written agreement: one year at most (R6313-7)."""
DOCUMENT_CLASSES: tuple[str, ...] = ("synthesis", "working_documents")

REQUIRED_PARTIES: dict[str, tuple[str, ...]] = {
    # R6313-8: employer plan or congé de reclassement: employer, employee and provider.
    "tripartite": ("beneficiary", "employer", "provider"),
    # L6353-3: the self-funded individual contract binds the person and the provider.
    "individual_contract": ("beneficiary", "provider"),
    # L6353-1: on Mon Compte Formation the platform's terms stand in for the convention; the
    # holder's acceptance and the provider's are what the dossier records.
    "cpf": ("beneficiary", "provider"),
    # Arrêtés of 2009/2010: the public employer signs the model convention with both.
    "public_model": ("beneficiary", "employer", "provider"),
}

MANDATORY_MENTIONS: tuple[str, ...] = (
    "title",
    "objective",
    "content",
    "means",
    "period",
    "running_terms",
    "follow_up_terms",
    "handover_terms",
    "payment_terms",
)
"""R6313-8 1° and 2°: besides duration and price, which are numbers of their own."""

Status = Literal["open", "completed", "abandoned", "withdrawn"]


# --- Events -----------------------------------------------------------------------------------


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


# --- State ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Convention:
    convention_id: str
    kind: str
    required_parties: tuple[str, ...]
    mentions: dict[str, str]
    duration_minutes: int
    price_cents: int
    drafted_at: datetime
    status: Literal["drafted", "sent", "signed", "refused", "withdrawn"] = "drafted"
    sent_at: datetime | None = None
    acceptance_deadline: datetime | None = None
    signatures: dict[str, datetime] = field(default_factory=dict)
    signed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Assessment:
    assessment_id: str
    instrument_id: str
    administered_by: str
    administered_at: datetime
    sealed_result: str


@dataclass(frozen=True, slots=True)
class Dossier:
    """Everything the rules need to know about a dossier."""

    dossier_id: str
    beneficiary_id: str
    site_id: str
    funding_route: str
    enquiry_received_at: datetime
    opened_at: datetime
    status: Status = "open"
    processing_restricted: bool = False
    """Under the beneficiary's restriction (art. 18): stored, processed for nobody but them
    and the legal obligations."""
    referent_history: tuple[ReferentConsultantAssigned, ...] = ()
    """Every assignment of a referent, oldest first (who, when, why: Qualiopi ind. 17)."""
    notice_version: int | None = None
    needs_analysis: str | None = None
    needs_recorded_at: datetime | None = None
    disability_accommodation_requested: bool = False
    planned_minutes: int | None = None
    programme_agreed_at: datetime | None = None
    modality: str | None = None
    conventions: tuple[Convention, ...] = ()
    referent_id: str | None = None
    phases_started: dict[str, datetime] = field(default_factory=dict)
    phases_completed: dict[str, datetime] = field(default_factory=dict)
    assessments: tuple[Assessment, ...] = ()
    field_inquiries: int = 0
    field_notes: tuple[str, ...] = ()
    training_needs: tuple[tuple[str, str | None, str | None], ...] = ()
    results_handed_over_at: datetime | None = None
    synthesis_drafts: tuple[SynthesisDrafted, ...] = ()
    synthesis_delivered: SynthesisDelivered | None = None
    consents: frozenset[str] = frozenset()
    disclosures: tuple[SynthesisDisclosed, ...] = ()
    ended_at: datetime | None = None
    retention: RetentionAgreed | None = None
    destroyed: frozenset[str] = frozenset()

    @property
    def convention(self) -> Convention | None:
        """The latest convention, if any."""
        return self.conventions[-1] if self.conventions else None

    @property
    def phase_under_way(self) -> str | None:
        """The last phase started (the one a bilan is abandoned in), else None."""
        under_way = None
        for phase in PHASES:
            if phase in self.phases_started:
                under_way = phase
        return under_way

    @property
    def ended(self) -> bool:
        return self.status != "open"


# --- Commands ---------------------------------------------------------------------------------


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


Command = (
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
    | DestroyAllDocuments
    | RestrictProcessing
)


# --- Decide -----------------------------------------------------------------------------------


def decide(state: Dossier | None, command: Command, now: datetime) -> list[DomainEvent]:
    """The events a command produces on this dossier, or a DomainError saying why not."""
    if isinstance(command, OpenDossier):
        if state is not None:
            raise refuse("dossier_exists", "this dossier is already open")
        if command.enquiry_received_at > now:
            raise refuse(
                "enquiry_in_future", "the enquiry cannot come from the future", kind=INVALID
            )
        return [
            DossierOpened(
                command.dossier_id,
                command.beneficiary_id,
                command.site_id,
                command.funding_route,
                command.enquiry_received_at,
                now,
            )
        ]
    if state is None:
        raise refuse("dossier_not_found", "no such dossier", kind=NOT_FOUND)
    if isinstance(command, RestrictProcessing):
        if command.restricted == state.processing_restricted:
            return []
        return [ProcessingRestricted(command.restricted, command.at)]
    if isinstance(command, DeemConventionRefused):
        return _deemed_refused(state, command, now)
    if isinstance(command, DestroyDueDocuments):
        return _destroy_due(state, command, now)
    if isinstance(command, DestroyAllDocuments):
        remaining = tuple(c for c in DOCUMENT_CLASSES if c not in state.destroyed)
        return [WorkingDocumentsDestroyed(remaining, "crypto_shred", now)] if remaining else []
    if isinstance(command, AgreeRetention):
        return _retention(state, command)
    if isinstance(command, GiveDisclosureConsent | RevokeDisclosureConsent | DiscloseSynthesis):
        return _consent(state, command)
    if state.ended:
        raise refuse("dossier_ended", f"the dossier is {state.status}")
    return _decide_open(state, command, now)


def _decide_open(state: Dossier, command: Command, now: datetime) -> list[DomainEvent]:
    if isinstance(command, AcknowledgeDeontology):
        if command.notice_version not in command.known_versions:
            raise refuse(
                "unknown_notice_version", "no deontology notice has that version", kind=INVALID
            )
        if state.notice_version == command.notice_version:
            raise refuse("already_acknowledged", "this notice version is already acknowledged")
        return [DeontologyInformationAcknowledged(command.notice_version, command.acknowledged_at)]
    if isinstance(command, RecordNeedsAnalysis):
        _before_phase(state, "investigation", "the needs analysis belongs to the preliminary phase")
        return [
            NeedsAnalysisRecorded(
                command.sealed_narrative,
                command.disability_accommodation_requested,
                command.recorded_at,
            )
        ]
    if isinstance(command, AgreeProgramme):
        _before_phase(state, "investigation", "the programme is agreed in the preliminary phase")
        if not 1 <= command.planned_minutes <= MAX_HELD_MINUTES:
            raise refuse(
                "planned_minutes_out_of_range", "a bilan lasts 1 to 1,440 minutes", kind=INVALID
            )
        return [
            PersonalisedProgrammeAgreed(
                command.planned_minutes, command.modality, command.agreed_at
            )
        ]
    if isinstance(command, DraftConvention):
        return _draft_convention(state, command)
    if isinstance(command, SendConvention):
        convention = _convention(state, command.convention_id)
        if convention.status != "drafted":
            raise refuse("convention_not_draft", "only a draft convention can be sent")
        return [
            ConventionSentForSignature(
                convention.convention_id,
                command.sent_at,
                command.sent_at + command.acceptance_period,
            )
        ]
    if isinstance(command, SignConvention):
        return _sign(state, command)
    if isinstance(command, ExerciseWithdrawal):
        return _withdraw(state, command)
    if isinstance(command, AssignReferent):
        return _assign_referent(state, command)
    if isinstance(command, StartPhase):
        return _start_phase(state, command)
    if isinstance(command, CompletePhase):
        if command.phase not in state.phases_started:
            raise refuse("phase_not_started", f"the {command.phase} phase has not started")
        if command.phase in state.phases_completed:
            raise refuse("phase_already_completed", f"the {command.phase} phase is completed")
        _not_before(command.completed_at, phase_started=state.phases_started[command.phase])
        return [PhaseCompleted(command.phase, command.completed_at)]
    if isinstance(command, AdministerAssessment):
        return _assessment(state, command)
    if isinstance(command, CompleteFieldInquiry):
        _in_phase(state, "investigation", "field inquiries belong to the investigation phase")
        return [
            FieldInquiryCompleted(command.contact_type, command.completed_at, command.sealed_notes)
        ]
    if isinstance(command, IdentifyTrainingNeed):
        _in_phase(state, "investigation", "training needs are identified from the investigation on")
        return [
            TrainingNeedIdentified(
                command.kind,
                command.certification_code,
                command.identified_at,
                command.sealed_description,
            )
        ]
    if isinstance(command, HandOverDetailedResults):
        _in_phase(state, "conclusion", "detailed results are handed over in the conclusion phase")
        if state.results_handed_over_at is not None:
            raise refuse("results_already_handed_over", "the detailed results were handed over")
        return [DetailedResultsHandedOver(command.handed_over_at)]
    if isinstance(command, DraftSynthesis):
        _in_phase(state, "conclusion", "the synthesis is written in the conclusion phase")
        version = len(state.synthesis_drafts) + 1
        return [
            SynthesisDrafted(version, command.author_id, command.sealed_content, command.drafted_at)
        ]
    if isinstance(command, DeliverSynthesis):
        if not state.synthesis_drafts:
            raise refuse("no_synthesis_draft", "there is no synthesis to deliver")
        version = state.synthesis_drafts[-1].synthesis_version
        if state.synthesis_delivered and state.synthesis_delivered.synthesis_version == version:
            raise refuse("synthesis_already_delivered", "this synthesis version was delivered")
        return [SynthesisDelivered(version, command.channel, command.delivered_at)]
    if isinstance(command, CompleteDossier):
        missing = [
            what
            for what, ok in (
                ("phase_completed_conclusion", "conclusion" in state.phases_completed),
                ("synthesis_delivered", state.synthesis_delivered is not None),
                ("detailed_results_handed_over", state.results_handed_over_at is not None),
            )
            if not ok
        ]
        if missing:
            raise refuse(
                "completion_requirements_missing",
                "a bilan completes after the conclusion phase, the synthesis delivery and the "
                "hand-over of detailed results (rule 5); missing: " + ", ".join(missing),
            )
        assert state.synthesis_delivered is not None
        _not_before(
            command.completed_at,
            phase_completed_conclusion=state.phases_completed["conclusion"],
            synthesis_delivered=state.synthesis_delivered.delivered_at,
            detailed_results_handed_over=state.results_handed_over_at,
        )
        if not 0 <= command.held_minutes <= MAX_HELD_MINUTES:
            raise refuse("held_minutes_out_of_range", "held time is 0 to 1,440 minutes")
        return [DossierCompleted(command.held_minutes, command.completed_at)]
    if isinstance(command, AbandonDossier):
        return [
            DossierAbandoned(
                state.phase_under_way,
                command.reason_category,
                command.initiated_by,
                command.abandoned_at,
            )
        ]
    raise AssertionError(f"unhandled command {type(command).__name__}")


def _not_before(at: datetime, **earlier: datetime | None) -> None:
    """Rules 4 and 5 speak of business time: a fact cannot be dated before what it follows."""
    late = [name for name, moment in earlier.items() if moment is not None and at < moment]
    if late:
        raise refuse(
            "time_order",
            "this fact cannot be dated before: " + ", ".join(late),
            kind=INVALID,
        )


def _before_phase(state: Dossier, phase: str, why: str) -> None:
    if phase in state.phases_started:
        raise refuse("phase_passed", why)


def _in_phase(state: Dossier, phase: str, why: str) -> None:
    if phase not in state.phases_started:
        raise refuse("phase_not_reached", why)


def _convention(state: Dossier, convention_id: str) -> Convention:
    for convention in state.conventions:
        if convention.convention_id == convention_id:
            return convention
    raise refuse("convention_not_found", "no such convention on this dossier", kind=NOT_FOUND)


def _draft_convention(state: Dossier, command: DraftConvention) -> list[DomainEvent]:
    current = state.convention
    if current is not None and current.status in ("drafted", "sent", "signed"):
        raise refuse(
            "convention_exists", "the dossier has a convention that is not refused or withdrawn"
        )
    if command.kind not in REQUIRED_PARTIES:
        raise refuse("unknown_convention_kind", "no such convention kind", kind=INVALID)
    missing = [m for m in MANDATORY_MENTIONS if not command.mentions.get(m, "").strip()]
    if missing:
        raise refuse(
            "mandatory_mentions_missing",
            "R6313-8 requires these mentions: " + ", ".join(missing),
            kind=INVALID,
        )
    if not 1 <= command.duration_minutes <= MAX_HELD_MINUTES:
        raise refuse("duration_out_of_range", "a bilan lasts 1 to 1,440 minutes", kind=INVALID)
    if command.price_cents < 0:
        raise refuse("negative_price", "the price cannot be negative", kind=INVALID)
    return [
        ConventionDrafted(
            command.convention_id,
            command.kind,
            REQUIRED_PARTIES[command.kind],
            {m: command.mentions[m] for m in MANDATORY_MENTIONS},
            command.duration_minutes,
            command.price_cents,
            command.drafted_at,
        )
    ]


def _sign(state: Dossier, command: SignConvention) -> list[DomainEvent]:
    convention = _convention(state, command.convention_id)
    if convention.status != "sent":
        raise refuse("convention_not_awaiting_signature", "the convention is not out for signature")
    if command.party not in convention.required_parties:
        raise refuse("party_not_required", f"{command.party} is not a party to this convention")
    if command.party in convention.signatures:
        raise refuse("party_already_signed", f"{command.party} has already signed")
    assert convention.acceptance_deadline is not None
    if command.signed_at > convention.acceptance_deadline:
        # R6313-8: silence until the deadline is refusal; a late signature cannot revive it.
        raise refuse("acceptance_deadline_passed", "the acceptance deadline has passed")
    if convention.sent_at is not None and command.signed_at < convention.sent_at:
        raise refuse(
            "signed_before_sent", "a party cannot sign before the convention was sent", kind=INVALID
        )
    if command.method == "handwritten" and command.document_id is None:
        raise refuse(
            "paper_document_required", "a handwritten signature needs its scan", kind=INVALID
        )
    events: list[DomainEvent] = [
        ConventionSignedByParty(
            convention.convention_id,
            command.party,
            command.signed_at,
            command.method,
            command.document_id,
        )
    ]
    if set(convention.signatures) | {command.party} == set(convention.required_parties):
        events.append(ConventionSigned(convention.convention_id, command.signed_at))
    return events


def _deemed_refused(
    state: Dossier, command: DeemConventionRefused, now: datetime
) -> list[DomainEvent]:
    convention = _convention(state, command.convention_id)
    # The timer may fire after a signature or an end: then silence did not happen, nothing to do.
    if state.ended or convention.status != "sent" or convention.acceptance_deadline is None:
        return []
    if now < convention.acceptance_deadline:
        return []
    return [ConventionDeemedRefused(convention.convention_id, convention.acceptance_deadline, now)]


def _withdraw(state: Dossier, command: ExerciseWithdrawal) -> list[DomainEvent]:
    convention = _convention(state, command.convention_id)
    if convention.status != "signed" or convention.signed_at is None:
        raise refuse("convention_not_signed", "withdrawal applies to a signed convention")
    if command.withdrawal_period is None:
        raise refuse(
            "no_withdrawal_right", "this funding route has no withdrawal period after signature"
        )
    if command.exercised_at > convention.signed_at + command.withdrawal_period:
        raise refuse("withdrawal_period_over", "the withdrawal period has ended")
    return [WithdrawalExercised(convention.convention_id, command.exercised_at)]


def _assign_referent(state: Dossier, command: AssignReferent) -> list[DomainEvent]:
    staff = command.staff
    if staff is None or not staff.can_conduct_bilans_at(state.site_id):
        raise refuse(
            "referent_not_eligible",
            "the referent must be an active consultant or psychologist of the dossier's site",
            kind=INVALID,
        )
    if staff.staff_id == state.referent_id:
        raise refuse("already_referent", "this person is already the referent")
    previous = state.referent_id
    if previous is None and command.reason != "initial":
        raise refuse(
            "first_assignment_is_initial", "the first assignment has reason 'initial'", kind=INVALID
        )
    if previous is not None and command.reason == "initial":
        raise refuse("change_needs_reason", "a change of referent needs its reason", kind=INVALID)
    return [
        ReferentConsultantAssigned(
            staff.staff_id, previous, command.reason, command.assigned_at, command.assigned_by
        )
    ]


def _start_phase(state: Dossier, command: StartPhase) -> list[DomainEvent]:
    phase = command.phase
    if phase in state.phases_started:
        raise refuse("phase_already_started", f"the {phase} phase has started")
    missing: list[str] = []
    if phase == "preliminary":
        convention = state.convention
        if convention is None or convention.status != "signed":
            missing.append("convention_signed")
        if state.notice_version is None:
            missing.append("deontology_acknowledged")
        if state.referent_id is None:
            missing.append("referent_assigned")
    elif phase == "investigation":
        # Rule 4: investigation follows the preliminary phase and its two pieces of evidence.
        if "preliminary" not in state.phases_completed:
            missing.append("phase_completed_preliminary")
        if state.needs_analysis is None:
            missing.append("needs_analysis_recorded")
        if state.planned_minutes is None:
            missing.append("programme_agreed")
    elif phase == "conclusion" and "investigation" not in state.phases_completed:
        missing.append("phase_completed_investigation")
    if missing:
        raise refuse(
            "phase_order", f"the {phase} phase cannot start yet; missing: " + ", ".join(missing)
        )
    if phase == "preliminary":
        assert state.convention is not None
        _not_before(command.started_at, convention_signed=state.convention.signed_at)
    elif phase == "investigation":
        _not_before(
            command.started_at,
            phase_completed_preliminary=state.phases_completed["preliminary"],
            needs_analysis_recorded=state.needs_recorded_at,
            programme_agreed=state.programme_agreed_at,
        )
    elif phase == "conclusion":
        _not_before(
            command.started_at,
            phase_completed_investigation=state.phases_completed["investigation"],
        )
    return [PhaseStarted(phase, command.started_at)]


def _assessment(state: Dossier, command: AdministerAssessment) -> list[DomainEvent]:
    _in_phase(state, "investigation", "assessments are administered from the investigation on")
    instrument = command.instrument
    if instrument is None:
        raise refuse("unknown_instrument", "no such instrument in the catalogue", kind=INVALID)
    staff = command.administrator
    if staff is None or not staff.can_conduct_bilans_at(state.site_id):
        raise refuse(
            "administrator_not_eligible",
            "assessments are administered by an active consultant or psychologist of the site",
            kind=FORBIDDEN,
        )
    required = instrument.required_habilitation
    if required is not None and required not in staff.habilitations:
        # Rule 6: a test that requires a habilitation needs someone who holds it.
        raise refuse(
            "habilitation_required",
            f"this instrument requires the habilitation {required}",
            kind=FORBIDDEN,
        )
    return [
        AssessmentAdministered(
            command.assessment_id,
            instrument.instrument_id,
            required,
            staff.staff_id,
            command.administered_at,
            command.sealed_result,
        )
    ]


def _consent(
    state: Dossier, command: GiveDisclosureConsent | RevokeDisclosureConsent | DiscloseSynthesis
) -> list[DomainEvent]:
    if "synthesis" in state.destroyed:
        raise refuse("documents_destroyed", "there is nothing left to disclose")
    if isinstance(command, DiscloseSynthesis):
        # L6313-4: results and synthesis go to anyone but the beneficiary only with their
        # agreement, which they may withdraw at any time.
        if command.recipient not in state.consents:
            raise refuse(
                "no_disclosure_consent",
                "the beneficiary has not agreed to disclosure to this recipient",
                kind=FORBIDDEN,
            )
        if state.synthesis_delivered is None:
            raise refuse("no_synthesis_delivered", "the beneficiary receives the synthesis first")
        return [
            SynthesisDisclosed(
                command.recipient,
                state.synthesis_delivered.synthesis_version,
                command.disclosed_at,
            )
        ]
    if isinstance(command, GiveDisclosureConsent):
        if command.recipient in state.consents:
            raise refuse("consent_already_given", "consent for this recipient is in force")
        if command.method == "handwritten" and command.document_id is None:
            raise refuse(
                "written_consent_required", "a written consent needs its scan", kind=INVALID
            )
        return [
            ThirdPartyDisclosureConsentGiven(
                command.recipient, command.given_at, command.method, command.document_id
            )
        ]
    if command.recipient not in state.consents:
        raise refuse("no_consent", "there is no consent in force for this recipient")
    return [ThirdPartyDisclosureConsentRevoked(command.recipient, command.revoked_at)]


def _retention(state: Dossier, command: AgreeRetention) -> list[DomainEvent]:
    if state.ended_at is None:
        raise refuse("dossier_not_ended", "retention is agreed at the end of the bilan")
    if state.retention is not None:
        raise refuse("retention_exists", "a retention agreement is already recorded")
    classes = tuple(dict.fromkeys(command.document_classes))
    if not classes or any(c not in DOCUMENT_CLASSES for c in classes):
        raise refuse(
            "bad_document_classes", "name synthesis and/or working_documents", kind=INVALID
        )
    gone = [c for c in classes if c in state.destroyed]
    if gone:
        raise refuse("documents_destroyed", "already destroyed: " + ", ".join(gone))
    if command.expires_at <= command.agreed_at:
        raise refuse(
            "retention_expiry_in_past", "the retention must end after it is agreed", kind=INVALID
        )
    if command.expires_at > state.ended_at + MAX_RETENTION:
        raise refuse(
            "retention_too_long",
            "documents may be kept at most one year after the end of the bilan (R6313-7)",
            kind=INVALID,
        )
    return [RetentionAgreed(classes, command.justification, command.agreed_at, command.expires_at)]


DESTRUCTION_LEAD = timedelta(hours=1)
"""How long before its deadline a destruction happens: rule 7 wants it *within* the grace
period (or by the retention's expiry), and a timer firing at the deadline itself lands just
after it."""


def destruction_time(ended_at: datetime, deadline: datetime) -> datetime:
    """When to destroy what must be gone by `deadline`: a little before it."""
    return deadline - min(DESTRUCTION_LEAD, (deadline - ended_at) / 2)


def due_destruction(state: Dossier, grace: timedelta, now: datetime) -> tuple[str, ...]:
    """The document classes whose destruction is due at `now` (R6313-7, contract rule 7)."""
    if state.ended_at is None:
        return ()
    due = []
    for document_class in DOCUMENT_CLASSES:
        if document_class in state.destroyed:
            continue
        retained = (
            state.retention is not None and document_class in state.retention.document_classes
        )
        deadline = (
            state.retention.expires_at if retained and state.retention else state.ended_at + grace
        )
        if now >= destruction_time(state.ended_at, deadline):
            due.append(document_class)
    return tuple(due)


def _destroy_due(state: Dossier, command: DestroyDueDocuments, now: datetime) -> list[DomainEvent]:
    due = due_destruction(state, command.grace, now)
    return [WorkingDocumentsDestroyed(due, "crypto_shred", now)] if due else []


# --- Evolve -----------------------------------------------------------------------------------


def evolve(state: Dossier | None, event: DomainEvent) -> Dossier:
    """The dossier after `event`."""
    if isinstance(event, DossierOpened):
        return Dossier(
            event.dossier_id,
            event.beneficiary_id,
            event.site_id,
            event.funding_route,
            event.enquiry_received_at,
            event.opened_at,
        )
    assert state is not None, f"{event.type} before DossierOpened"
    s = state
    match event:
        case DeontologyInformationAcknowledged():
            return replace(s, notice_version=event.notice_version)
        case NeedsAnalysisRecorded():
            return replace(
                s,
                needs_analysis=event.sealed_narrative,
                needs_recorded_at=event.recorded_at,
                disability_accommodation_requested=event.disability_accommodation_requested,
            )
        case PersonalisedProgrammeAgreed():
            return replace(
                s,
                planned_minutes=event.planned_minutes,
                modality=event.modality,
                programme_agreed_at=event.agreed_at,
            )
        case ConventionDrafted():
            convention = Convention(
                event.convention_id,
                event.kind,
                event.required_parties,
                dict(event.mentions),
                event.duration_minutes,
                event.price_cents,
                event.drafted_at,
            )
            return replace(s, conventions=(*s.conventions, convention))
        case ConventionSentForSignature():
            return _with_convention(
                s,
                event.convention_id,
                status="sent",
                sent_at=event.sent_at,
                acceptance_deadline=event.acceptance_deadline,
            )
        case ConventionSignedByParty():
            current = _find(s, event.convention_id)
            return _with_convention(
                s,
                event.convention_id,
                signatures={**current.signatures, event.party: event.signed_at},
            )
        case ConventionSigned():
            return _with_convention(
                s, event.convention_id, status="signed", signed_at=event.signed_at
            )
        case ConventionDeemedRefused():
            return _with_convention(s, event.convention_id, status="refused")
        case WithdrawalExercised():
            withdrawn = _with_convention(s, event.convention_id, status="withdrawn")
            return replace(withdrawn, status="withdrawn", ended_at=event.exercised_at)
        case ProcessingRestricted():
            return replace(s, processing_restricted=event.restricted)
        case ReferentConsultantAssigned():
            return replace(
                s,
                referent_id=event.consultant_id,
                referent_history=(*s.referent_history, event),
            )
        case PhaseStarted():
            return replace(s, phases_started={**s.phases_started, event.phase: event.started_at})
        case PhaseCompleted():
            return replace(
                s, phases_completed={**s.phases_completed, event.phase: event.completed_at}
            )
        case AssessmentAdministered():
            assessment = Assessment(
                event.assessment_id,
                event.instrument_id,
                event.administered_by,
                event.administered_at,
                event.sealed_result,
            )
            return replace(s, assessments=(*s.assessments, assessment))
        case FieldInquiryCompleted():
            notes = (*s.field_notes, event.sealed_notes) if event.sealed_notes else s.field_notes
            return replace(s, field_inquiries=s.field_inquiries + 1, field_notes=notes)
        case TrainingNeedIdentified():
            need = (event.kind, event.certification_code, event.sealed_description)
            return replace(s, training_needs=(*s.training_needs, need))
        case DetailedResultsHandedOver():
            return replace(s, results_handed_over_at=event.handed_over_at)
        case SynthesisDrafted():
            return replace(s, synthesis_drafts=(*s.synthesis_drafts, event))
        case SynthesisDelivered():
            return replace(s, synthesis_delivered=event)
        case ThirdPartyDisclosureConsentGiven():
            return replace(s, consents=s.consents | {event.recipient})
        case ThirdPartyDisclosureConsentRevoked():
            return replace(s, consents=s.consents - {event.recipient})
        case SynthesisDisclosed():
            return replace(s, disclosures=(*s.disclosures, event))
        case DossierCompleted():
            return replace(s, status="completed", ended_at=event.completed_at)
        case DossierAbandoned():
            return replace(s, status="abandoned", ended_at=event.abandoned_at)
        case RetentionAgreed():
            return replace(s, retention=event)
        case WorkingDocumentsDestroyed():
            return replace(s, destroyed=s.destroyed | set(event.document_classes))
    raise AssertionError(f"unhandled event {event.type}")


def _find(state: Dossier, convention_id: str) -> Convention:
    return next(c for c in state.conventions if c.convention_id == convention_id)


def _with_convention(state: Dossier, convention_id: str, **changes: object) -> Dossier:
    conventions = tuple(
        replace(c, **changes) if c.convention_id == convention_id else c  # type: ignore[arg-type]
        for c in state.conventions
    )
    return replace(state, conventions=conventions)


def fold(events: list[DomainEvent]) -> Dossier | None:
    """The state after a history of events."""
    state: Dossier | None = None
    for event in events:
        state = evolve(state, event)
    return state
