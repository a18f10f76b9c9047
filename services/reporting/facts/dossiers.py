"""Dossier facts: the dossier's own events, its held sessions and no-shows, its six-month
situation reports (all keyed by `dossier_id` on the topics)."""

from __future__ import annotations

from typing import Any

from shared.contracts import (
    ConventionDrafted,
    ConventionSigned,
    DeontologyInformationAcknowledged,
    DetailedResultsHandedOver,
    DossierAbandoned,
    DossierCompleted,
    DossierOpened,
    FieldInquiryCompleted,
    NeedsAnalysisRecorded,
    NoShowRecorded,
    PersonalisedProgrammeAgreed,
    PhaseCompleted,
    PhaseStarted,
    RetentionAgreed,
    SessionHeld,
    SixMonthSituationReported,
    SixMonthSituationReportedV1,
    SynthesisDelivered,
    WithdrawalExercised,
    WorkingDocumentsDestroyed,
)

from .model import DossierFacts, earliest, least
from .state import Applier, FactStore, ts


def _dossier(store: FactStore, dossier_id: object) -> DossierFacts:
    return store.touch("dossier", str(dossier_id), DossierFacts)


def opened(store: FactStore, _ce_id: str, e: DossierOpened) -> None:
    d = _dossier(store, e.dossier_id)
    d.opened = least(d.opened, [ts(e.opened_at), str(e.site_id), ts(e.enquiry_received_at)])
    d.funding = least(d.funding, [ts(e.opened_at), e.funding_route])


def phase_started(store: FactStore, _ce_id: str, e: PhaseStarted) -> None:
    d = _dossier(store, e.dossier_id)
    d.phase_started[e.phase] = earliest(d.phase_started.get(e.phase), ts(e.started_at))


def phase_completed(store: FactStore, _ce_id: str, e: PhaseCompleted) -> None:
    d = _dossier(store, e.dossier_id)
    d.phase_completed[e.phase] = earliest(d.phase_completed.get(e.phase), ts(e.completed_at))


def convention_drafted(store: FactStore, _ce_id: str, e: ConventionDrafted) -> None:
    d = _dossier(store, e.dossier_id)
    key = str(e.convention_id)
    record = [ts(e.drafted_at), e.price_cents, e.duration_minutes]
    d.conventions[key] = least(d.conventions.get(key), record)


def convention_signed(store: FactStore, _ce_id: str, e: ConventionSigned) -> None:
    d = _dossier(store, e.dossier_id)
    d.convention_signed_at = earliest(d.convention_signed_at, ts(e.signed_at))
    key = str(e.convention_id)
    d.signed_conventions[key] = earliest(d.signed_conventions.get(key), ts(e.signed_at))


def withdrawn(store: FactStore, _ce_id: str, e: WithdrawalExercised) -> None:
    d = _dossier(store, e.dossier_id)
    d.withdrawn_at = earliest(d.withdrawn_at, ts(e.exercised_at))


def deontology(store: FactStore, _ce_id: str, e: DeontologyInformationAcknowledged) -> None:
    d = _dossier(store, e.dossier_id)
    d.deontology_at = earliest(d.deontology_at, ts(e.acknowledged_at))


def needs_analysis(store: FactStore, _ce_id: str, e: NeedsAnalysisRecorded) -> None:
    d = _dossier(store, e.dossier_id)
    d.needs_analysis_at = earliest(d.needs_analysis_at, ts(e.recorded_at))


def programme(store: FactStore, _ce_id: str, e: PersonalisedProgrammeAgreed) -> None:
    d = _dossier(store, e.dossier_id)
    d.programme_at = earliest(d.programme_at, ts(e.agreed_at))


def synthesis(store: FactStore, _ce_id: str, e: SynthesisDelivered) -> None:
    d = _dossier(store, e.dossier_id)
    d.synthesis_at = earliest(d.synthesis_at, ts(e.delivered_at))


def results(store: FactStore, _ce_id: str, e: DetailedResultsHandedOver) -> None:
    d = _dossier(store, e.dossier_id)
    d.results_at = earliest(d.results_at, ts(e.handed_over_at))


def completed(store: FactStore, _ce_id: str, e: DossierCompleted) -> None:
    d = _dossier(store, e.dossier_id)
    d.completed = least(d.completed, [ts(e.completed_at), e.held_minutes])


def abandoned(store: FactStore, _ce_id: str, e: DossierAbandoned) -> None:
    d = _dossier(store, e.dossier_id)
    record = [ts(e.abandoned_at), e.reason_category, e.phase_at_abandon or ""]
    d.abandoned = least(d.abandoned, record)


def destroyed(store: FactStore, _ce_id: str, e: WorkingDocumentsDestroyed) -> None:
    # indicators.md counts any WorkingDocumentsDestroyed, whatever its document classes.
    d = _dossier(store, e.dossier_id)
    d.destroyed_at = earliest(d.destroyed_at, ts(e.destroyed_at))


def retention(store: FactStore, ce_id: str, e: RetentionAgreed) -> None:
    d = _dossier(store, e.dossier_id)
    if "working_documents" in e.document_classes:
        d.retentions[ce_id] = [ts(e.agreed_at), ts(e.expires_at)]


def field_inquiry(store: FactStore, ce_id: str, e: FieldInquiryCompleted) -> None:
    _dossier(store, e.dossier_id).field_inquiries[ce_id] = ts(e.completed_at)


def session_held(store: FactStore, ce_id: str, e: SessionHeld) -> None:
    d = _dossier(store, e.dossier_id)
    d.sessions[ce_id] = [ts(e.started_at), e.phase, e.duration_minutes]
    d.session_leads[ce_id] = str(e.consultant_id)


def no_show(store: FactStore, ce_id: str, e: NoShowRecorded) -> None:
    _dossier(store, e.dossier_id).no_shows[ce_id] = ts(e.recorded_at)


def situation(store: FactStore, ce_id: str, e: SixMonthSituationReported) -> None:
    _dossier(store, e.dossier_id).situations[ce_id] = [ts(e.reported_at), e.situation]


def situation_v1(store: FactStore, ce_id: str, e: SixMonthSituationReportedV1) -> None:
    # The history's records from before v1.1: the same fact once upcast, so the same figures.
    situation(store, ce_id, e.upcast())


APPLIERS: dict[Any, Applier] = {
    DossierOpened: opened,
    PhaseStarted: phase_started,
    PhaseCompleted: phase_completed,
    ConventionDrafted: convention_drafted,
    ConventionSigned: convention_signed,
    WithdrawalExercised: withdrawn,
    DeontologyInformationAcknowledged: deontology,
    NeedsAnalysisRecorded: needs_analysis,
    PersonalisedProgrammeAgreed: programme,
    SynthesisDelivered: synthesis,
    DetailedResultsHandedOver: results,
    DossierCompleted: completed,
    DossierAbandoned: abandoned,
    WorkingDocumentsDestroyed: destroyed,
    RetentionAgreed: retention,
    FieldInquiryCompleted: field_inquiry,
    SessionHeld: session_held,
    NoShowRecorded: no_show,
    SixMonthSituationReported: situation,
    SixMonthSituationReportedV1: situation_v1,
}
