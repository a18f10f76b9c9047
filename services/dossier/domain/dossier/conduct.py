"""Conducting the bilan (R6313-4): the preliminary evidence (deontology notice, needs analysis
and programme, L6313-4 consent), the referent (Qualiopi ind. 17), the three phases in order
(rules 3-4), assessments and their habilitation (rule 6), field inquiries, training needs,
the hand-over of detailed results (L6313-4), the 24-hour cap (L6313-4), completion (rule 5)
and abandonment."""

from __future__ import annotations

from services.dossier.domain.dossier.commands import (
    AdministerAssessment,
    AssignReferent,
    CompleteDossier,
    StartPhase,
)
from services.dossier.domain.dossier.events import (
    AssessmentAdministered,
    DossierCompleted,
    PhaseStarted,
    ReferentConsultantAssigned,
)
from services.dossier.domain.dossier.guards import in_phase, not_before
from services.dossier.domain.dossier.state import Dossier
from services.dossier.domain.errors import FORBIDDEN, INVALID, refuse
from services.dossier.domain.events import DomainEvent
from services.dossier.domain.held_time import MAX_HELD_MINUTES


def assign_referent(state: Dossier, command: AssignReferent) -> list[DomainEvent]:
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


def start_phase(state: Dossier, command: StartPhase) -> list[DomainEvent]:
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
        not_before(command.started_at, convention_signed=state.convention.signed_at)
    elif phase == "investigation":
        not_before(
            command.started_at,
            phase_completed_preliminary=state.phases_completed["preliminary"],
            needs_analysis_recorded=state.needs_recorded_at,
            programme_agreed=state.programme_agreed_at,
        )
    elif phase == "conclusion":
        not_before(
            command.started_at,
            phase_completed_investigation=state.phases_completed["investigation"],
        )
    return [PhaseStarted(phase, command.started_at)]


def administer_assessment(state: Dossier, command: AdministerAssessment) -> list[DomainEvent]:
    in_phase(state, "investigation", "assessments are administered from the investigation on")
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


def complete(state: Dossier, command: CompleteDossier) -> list[DomainEvent]:
    """Rule 5: after the conclusion, the synthesis delivery and the detailed results."""
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
    not_before(
        command.completed_at,
        phase_completed_conclusion=state.phases_completed["conclusion"],
        synthesis_delivered=state.synthesis_delivered.delivered_at,
        detailed_results_handed_over=state.results_handed_over_at,
    )
    if not 0 <= command.held_minutes <= MAX_HELD_MINUTES:
        raise refuse("held_minutes_out_of_range", "held time is 0 to 1,440 minutes")
    return [DossierCompleted(command.held_minutes, command.completed_at)]
