"""evolve(state, event): the dossier after an event, and fold(events) over a history.

Every event of the `DossierEvent` union has its case; `assert_never` lets mypy prove it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TypeGuard, assert_never, get_args

from services.dossier.domain.dossier.events import (
    AssessmentAdministered,
    ConventionDeemedRefused,
    ConventionDrafted,
    ConventionSentForSignature,
    ConventionSigned,
    ConventionSignedByParty,
    DeontologyInformationAcknowledged,
    DetailedResultsHandedOver,
    DossierAbandoned,
    DossierCompleted,
    DossierEvent,
    DossierOpened,
    FieldInquiryCompleted,
    NeedsAnalysisRecorded,
    PersonalisedProgrammeAgreed,
    PhaseCompleted,
    PhaseStarted,
    ProcessingRestricted,
    ReferentConsultantAssigned,
    RetentionAgreed,
    SynthesisDelivered,
    SynthesisDisclosed,
    SynthesisDrafted,
    ThirdPartyDisclosureConsentGiven,
    ThirdPartyDisclosureConsentRevoked,
    TrainingNeedFollowedUp,
    TrainingNeedIdentified,
    WithdrawalExercised,
    WorkingDocumentsDestroyed,
)
from services.dossier.domain.dossier.state import Assessment, Convention, Dossier
from services.dossier.domain.events import DomainEvent


def evolve(state: Dossier | None, event: DomainEvent) -> Dossier:
    """The dossier after `event`."""
    if not _is_dossier_event(event):
        raise AssertionError(f"{event.type} is not a dossier event")
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
                signature_methods={
                    **current.signature_methods,
                    **({event.party: event.method} if event.method else {}),
                },
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
        case TrainingNeedFollowedUp():
            follow_ups = {**s.training_follow_ups, event.index: (event.status, event.at)}
            return replace(s, training_follow_ups=follow_ups)
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
        case _:
            assert_never(event)


def _is_dossier_event(event: DomainEvent) -> TypeGuard[DossierEvent]:
    return isinstance(event, _DOSSIER_EVENTS)


_DOSSIER_EVENTS: tuple[type, ...] = get_args(DossierEvent)


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
