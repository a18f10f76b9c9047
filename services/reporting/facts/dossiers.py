"""Dossier facts: the dossier's own events, its held sessions and no-shows, its six-month
situation reports (all keyed by `dossier_id` on the topics)."""

from __future__ import annotations

from typing import Any

from shared.contracts import (
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
    SynthesisDelivered,
    WorkingDocumentsDestroyed,
)

from .model import DossierFacts, earliest, least
from .store import Applier, FactStore, ts


def _dossier(store: FactStore, dossier_id: object) -> DossierFacts:
    return store.touch("dossier", str(dossier_id), DossierFacts)


def opened(store: FactStore, _ce_id: str, e: DossierOpened) -> None:
    d = _dossier(store, e.dossier_id)
    d.opened = least(d.opened, [ts(e.opened_at), str(e.site_id), ts(e.enquiry_received_at)])


def phase_started(store: FactStore, _ce_id: str, e: PhaseStarted) -> None:
    d = _dossier(store, e.dossier_id)
    d.phase_started[e.phase] = earliest(d.phase_started.get(e.phase), ts(e.started_at))


def phase_completed(store: FactStore, _ce_id: str, e: PhaseCompleted) -> None:
    d = _dossier(store, e.dossier_id)
    d.phase_completed[e.phase] = earliest(d.phase_completed.get(e.phase), ts(e.completed_at))


def convention_signed(store: FactStore, _ce_id: str, e: ConventionSigned) -> None:
    d = _dossier(store, e.dossier_id)
    d.convention_signed_at = earliest(d.convention_signed_at, ts(e.signed_at))


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


def no_show(store: FactStore, ce_id: str, e: NoShowRecorded) -> None:
    _dossier(store, e.dossier_id).no_shows[ce_id] = ts(e.recorded_at)


def situation(store: FactStore, ce_id: str, e: SixMonthSituationReported) -> None:
    _dossier(store, e.dossier_id).situations[ce_id] = [ts(e.reported_at), e.situation]


APPLIERS: dict[Any, Applier] = {
    DossierOpened: opened,
    PhaseStarted: phase_started,
    PhaseCompleted: phase_completed,
    ConventionSigned: convention_signed,
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
}
