"""The per-dossier checklist: which checks hold, and since when."""

from __future__ import annotations

from shared.contracts import (
    ConventionSigned,
    DeontologyInformationAcknowledged,
    DetailedResultsHandedOver,
    DossierCompleted,
    DossierOpened,
    NeedsAnalysisRecorded,
    PersonalisedProgrammeAgreed,
    PhaseCompleted,
    PhaseStarted,
    SessionHeld,
    SurveySent,
    SynthesisDelivered,
    WorkingDocumentsDestroyed,
)

from .history import SITE_A, History, at, new_id


def test_a_complete_dossier_passes_every_check_with_its_time() -> None:
    h = History()
    d = new_id()
    h.add(
        DossierOpened,
        dossier_id=d,
        site_id=SITE_A,
        opened_at=at("2025-01-01"),
        enquiry_received_at=at("2025-01-01"),
    )
    h.add(DeontologyInformationAcknowledged, dossier_id=d, acknowledged_at=at("2025-01-02"))
    h.add(ConventionSigned, dossier_id=d, signed_at=at("2025-01-03"))
    h.add(NeedsAnalysisRecorded, dossier_id=d, recorded_at=at("2025-01-05"))
    h.add(PersonalisedProgrammeAgreed, dossier_id=d, agreed_at=at("2025-01-06"))
    h.add(PhaseStarted, dossier_id=d, phase="investigation", started_at=at("2025-01-07"))
    for i, phase in enumerate(("preliminary", "investigation", "conclusion")):
        h.add(
            SessionHeld,
            session_id=new_id(),
            dossier_id=d,
            phase=phase,
            started_at=at(f"2025-01-0{4 + i}"),
            duration_minutes=400,
        )
        h.add(PhaseCompleted, dossier_id=d, phase=phase, completed_at=at(f"2025-01-1{i}"))
    h.add(SynthesisDelivered, dossier_id=d, delivered_at=at("2025-01-13"))
    h.add(DetailedResultsHandedOver, dossier_id=d, handed_over_at=at("2025-01-14"))
    h.add(DossierCompleted, dossier_id=d, held_minutes=1200, completed_at=at("2025-01-15"))
    h.add(
        SurveySent,
        survey_id=new_id(),
        dossier_id=d,
        campaign="end_of_bilan",
        sent_at=at("2025-01-16"),
        expires_at=at("2025-03-01"),
    )
    h.add(
        SessionHeld,
        session_id=new_id(),
        dossier_id=d,
        phase="follow_up",
        started_at=at("2025-07-15"),
        duration_minutes=60,
    )
    h.add(WorkingDocumentsDestroyed, dossier_id=d, destroyed_at=at("2025-02-10"))
    result = h.checklist(d)
    assert result is not None
    checks = result["checks"]
    assert result["site_id"] == SITE_A
    assert all(item["holds"] for item in checks.values()), checks
    assert checks["deontology_before_first_session"]["at"] == "2025-01-02T00:00:00Z"
    assert (
        checks["needs_analysis_and_programme_before_investigation"]["at"] == "2025-01-06T00:00:00Z"
    )
    assert checks["three_phases_completed"]["at"] == "2025-01-12T00:00:00Z"
    assert checks["held_time_within_24h"]["held_minutes"] == 1200
    assert checks["end_of_bilan_survey_sent"]["at"] == "2025-01-16T00:00:00Z"
    assert checks["working_documents_destroyed_on_time"]["at"] == "2025-02-10T00:00:00Z"


def test_failures_are_reported_without_times() -> None:
    h = History()
    d = new_id()
    h.add(
        SessionHeld,
        session_id=new_id(),
        dossier_id=d,
        phase="preliminary",
        started_at=at("2025-01-04"),
        duration_minutes=1000,
    )
    h.add(
        SessionHeld,
        session_id=new_id(),
        dossier_id=d,
        phase="investigation",
        started_at=at("2025-01-05"),
        duration_minutes=500,
    )
    h.add(ConventionSigned, dossier_id=d, signed_at=at("2025-01-06"))
    h.add(DossierCompleted, dossier_id=d, completed_at=at("2025-01-15"))
    h.add(WorkingDocumentsDestroyed, dossier_id=d, destroyed_at=at("2025-03-15"))
    checks = h.checklist(d)["checks"]  # type: ignore[index]
    assert checks["convention_before_first_session"] == {"holds": False, "at": None}
    assert checks["deontology_before_first_session"]["holds"] is False
    assert checks["held_time_within_24h"]["holds"] is False
    assert checks["three_phases_completed"]["holds"] is False
    assert checks["working_documents_destroyed_on_time"]["holds"] is False
    assert checks["end_of_bilan_survey_sent"]["holds"] is False


def test_unknown_dossier_has_no_checklist() -> None:
    assert History().checklist(new_id()) is None
