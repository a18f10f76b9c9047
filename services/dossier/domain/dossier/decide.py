"""decide(state, command, now): the events a command produces, or the refusal saying why not.

Dispatches each command of the `Command` union to its topic (convention, conduct, synthesis,
retention); `assert_never` lets mypy prove every command is handled.
"""

from __future__ import annotations

from datetime import datetime
from typing import assert_never

from services.dossier.domain.dossier import conduct, convention, retention, synthesis
from services.dossier.domain.dossier.commands import (
    AbandonDossier,
    AcknowledgeDeontology,
    AdministerAssessment,
    AgreeProgramme,
    AgreeRetention,
    AssignReferent,
    Command,
    CompleteDossier,
    CompleteFieldInquiry,
    CompletePhase,
    DeemConventionRefused,
    DeliverSynthesis,
    DestroyAllDocuments,
    DestroyDueDocuments,
    DiscloseSynthesis,
    DraftConvention,
    DraftSynthesis,
    ExerciseWithdrawal,
    FollowUpTrainingNeed,
    GiveDisclosureConsent,
    HandOverDetailedResults,
    IdentifyTrainingNeed,
    OpenDossier,
    RecordNeedsAnalysis,
    RestrictProcessing,
    RevokeDisclosureConsent,
    SendConvention,
    SignConvention,
    StartPhase,
)
from services.dossier.domain.dossier.events import (
    DeontologyInformationAcknowledged,
    DetailedResultsHandedOver,
    DossierAbandoned,
    DossierOpened,
    FieldInquiryCompleted,
    NeedsAnalysisRecorded,
    PersonalisedProgrammeAgreed,
    PhaseCompleted,
    ProcessingRestricted,
    SynthesisDelivered,
    SynthesisDrafted,
    TrainingNeedFollowedUp,
    TrainingNeedIdentified,
    WorkingDocumentsDestroyed,
)
from services.dossier.domain.dossier.guards import before_phase, in_phase, not_before
from services.dossier.domain.dossier.state import TRAINING_FOLLOW_UP, Dossier
from services.dossier.domain.errors import INVALID, NOT_FOUND, refuse
from services.dossier.domain.events import DomainEvent
from services.dossier.domain.held_time import MAX_HELD_MINUTES


def decide(state: Dossier | None, command: Command, now: datetime) -> list[DomainEvent]:
    """The events a command produces on this dossier, or a DomainError saying why not."""
    match command:
        case OpenDossier():
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
        # Commands that also apply to an ended dossier.
        case RestrictProcessing():
            s = _existing(state)
            if command.restricted == s.processing_restricted:
                return []
            return [ProcessingRestricted(command.restricted, command.at)]
        case DeemConventionRefused():
            return convention.deem_refused(_existing(state), command, now)
        case DestroyDueDocuments():
            return retention.destroy_due(_existing(state), command, now)
        case DestroyAllDocuments():
            s = _existing(state)
            remaining = tuple(c for c in retention.DOCUMENT_CLASSES if c not in s.destroyed)
            return [WorkingDocumentsDestroyed(remaining, "crypto_shred", now)] if remaining else []
        case AgreeRetention():
            return retention.agree_retention(_existing(state), command)
        case GiveDisclosureConsent() | RevokeDisclosureConsent() | DiscloseSynthesis():
            return synthesis.consent(_existing(state), command)
        # Commands on a dossier under way.
        case AcknowledgeDeontology():
            s = _running(state)
            if command.notice_version not in command.known_versions:
                raise refuse(
                    "unknown_notice_version", "no deontology notice has that version", kind=INVALID
                )
            if s.notice_version == command.notice_version:
                raise refuse("already_acknowledged", "this notice version is already acknowledged")
            return [
                DeontologyInformationAcknowledged(command.notice_version, command.acknowledged_at)
            ]
        case RecordNeedsAnalysis():
            s = _running(state)
            before_phase(s, "investigation", "the needs analysis belongs to the preliminary phase")
            return [
                NeedsAnalysisRecorded(
                    command.sealed_narrative,
                    command.disability_accommodation_requested,
                    command.recorded_at,
                )
            ]
        case AgreeProgramme():
            s = _running(state)
            before_phase(s, "investigation", "the programme is agreed in the preliminary phase")
            if not 1 <= command.planned_minutes <= MAX_HELD_MINUTES:
                raise refuse(
                    "planned_minutes_out_of_range", "a bilan lasts 1 to 1,440 minutes", kind=INVALID
                )
            return [
                PersonalisedProgrammeAgreed(
                    command.planned_minutes, command.modality, command.agreed_at
                )
            ]
        case DraftConvention():
            return convention.draft_convention(_running(state), command)
        case SendConvention():
            return convention.send(_running(state), command)
        case SignConvention():
            return convention.sign(_running(state), command)
        case ExerciseWithdrawal():
            return convention.withdraw(_running(state), command)
        case AssignReferent():
            return conduct.assign_referent(_running(state), command)
        case StartPhase():
            return conduct.start_phase(_running(state), command)
        case CompletePhase():
            s = _running(state)
            if command.phase not in s.phases_started:
                raise refuse("phase_not_started", f"the {command.phase} phase has not started")
            if command.phase in s.phases_completed:
                raise refuse("phase_already_completed", f"the {command.phase} phase is completed")
            not_before(command.completed_at, phase_started=s.phases_started[command.phase])
            return [PhaseCompleted(command.phase, command.completed_at)]
        case AdministerAssessment():
            return conduct.administer_assessment(_running(state), command)
        case CompleteFieldInquiry():
            s = _running(state)
            in_phase(s, "investigation", "field inquiries belong to the investigation phase")
            return [
                FieldInquiryCompleted(
                    command.contact_type, command.completed_at, command.sealed_notes
                )
            ]
        case IdentifyTrainingNeed():
            s = _running(state)
            in_phase(s, "investigation", "training needs are identified from the investigation on")
            return [
                TrainingNeedIdentified(
                    command.kind,
                    command.certification_code,
                    command.identified_at,
                    command.sealed_description,
                )
            ]
        case FollowUpTrainingNeed():
            # Followed up after the bilan too: that is when training starts or a VAE goes on.
            s = _existing(state)
            if not 0 <= command.index < len(s.training_needs):
                raise refuse("training_need_not_found", "no such training need", kind=NOT_FOUND)
            if command.status not in TRAINING_FOLLOW_UP:
                raise refuse("unknown_follow_up_status", "no such follow-up status", kind=INVALID)
            return [TrainingNeedFollowedUp(command.index, command.status, command.at)]
        case HandOverDetailedResults():
            s = _running(state)
            in_phase(s, "conclusion", "detailed results are handed over in the conclusion phase")
            if s.results_handed_over_at is not None:
                raise refuse("results_already_handed_over", "the detailed results were handed over")
            return [DetailedResultsHandedOver(command.handed_over_at)]
        case DraftSynthesis():
            s = _running(state)
            in_phase(s, "conclusion", "the synthesis is written in the conclusion phase")
            version = len(s.synthesis_drafts) + 1
            return [
                SynthesisDrafted(
                    version, command.author_id, command.sealed_content, command.drafted_at
                )
            ]
        case DeliverSynthesis():
            s = _running(state)
            if not s.synthesis_drafts:
                raise refuse("no_synthesis_draft", "there is no synthesis to deliver")
            version = s.synthesis_drafts[-1].synthesis_version
            if s.synthesis_delivered and s.synthesis_delivered.synthesis_version == version:
                raise refuse("synthesis_already_delivered", "this synthesis version was delivered")
            return [SynthesisDelivered(version, command.channel, command.delivered_at)]
        case CompleteDossier():
            return conduct.complete(_running(state), command)
        case AbandonDossier():
            s = _running(state)
            return [
                DossierAbandoned(
                    s.phase_under_way,
                    command.reason_category,
                    command.initiated_by,
                    command.abandoned_at,
                )
            ]
        case _:
            assert_never(command)


def _existing(state: Dossier | None) -> Dossier:
    if state is None:
        raise refuse("dossier_not_found", "no such dossier", kind=NOT_FOUND)
    return state


def _running(state: Dossier | None) -> Dossier:
    s = _existing(state)
    if s.ended:
        raise refuse("dossier_ended", f"the dossier is {s.status}")
    return s
