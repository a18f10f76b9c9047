"""What each audit figure means, for the dashboard: its name, its definition and the
Qualiopi indicator or the article it evidences (indicators.md v1.1). The words are English
message ids, translated in the catalogue; the definitions follow the reporting service's."""

from __future__ import annotations

from dataclasses import dataclass

from services.console.vocabulary import N_


@dataclass(frozen=True, slots=True)
class Meaning:
    name: str
    unit: str
    """`count`, `rate`, `mean`, `days`, `hours`, `breakdown` or `team`: how the value reads."""
    evidences: str
    label: str
    definition: str


MEANINGS: tuple[Meaning, ...] = (
    Meaning(
        "beneficiaries_started",
        "count",
        "ind. 2",
        N_("Bilans started"),
        N_("Dossiers whose preliminary phase started in the period."),
    ),
    Meaning(
        "bilans_completed",
        "count",
        "ind. 2",
        N_("Bilans completed"),
        N_("Bilans completed in the period."),
    ),
    Meaning(
        "bilans_abandoned",
        "count",
        "ind. 2",
        N_("Bilans abandoned"),
        N_("Bilans abandoned in the period."),
    ),
    Meaning(
        "abandonment_rate",
        "rate",
        "ind. 2, 12",
        N_("Abandonment rate"),
        N_("Abandoned bilans among those that ended (completed or abandoned) in the period."),
    ),
    Meaning(
        "abandonment_causes",
        "breakdown",
        "ind. 2, 32",
        N_("Causes of abandonment"),
        N_("Abandonments in the period by reason and by the phase they happened in."),
    ),
    Meaning(
        "satisfaction_mean",
        "mean",
        "ind. 2, 30",
        N_("Satisfaction at the end of the bilan (mean, out of 5)"),
        N_("Mean satisfaction score of the end-of-bilan surveys answered in the period."),
    ),
    Meaning(
        "satisfaction_rate",
        "rate",
        "ind. 2, 30",
        N_("Satisfied beneficiaries"),
        N_("Share of those answers scoring 4 or 5 out of 5."),
    ),
    Meaning(
        "survey_response_rate",
        "rate",
        "ind. 2, 30",
        N_("Response rate to the end-of-bilan survey"),
        N_("End-of-bilan surveys sent in the period (not cancelled) that were answered."),
    ),
    Meaning(
        "follow_up_rate_6m",
        "rate",
        "ind. 2",
        N_("Six-month follow-up held"),
        N_("Bilans whose six months fall in the period and that had their follow-up interview."),
    ),
    Meaning(
        "six_month_response_rate",
        "rate",
        "ind. 2, 30",
        N_("Response rate at six months"),
        N_("Six-month surveys sent in the period (not cancelled) that were answered."),
    ),
    Meaning(
        "session_feedback_mean",
        "mean",
        "ind. 30",
        N_("Session feedback (mean, out of 5)"),
        N_("Mean score of the session feedback answered in the period."),
    ),
    Meaning(
        "session_feedback_response_rate",
        "rate",
        "ind. 30",
        N_("Response rate to session feedback"),
        N_("Session feedback requests sent in the period (not cancelled) that were answered."),
    ),
    Meaning(
        "six_month_situations",
        "breakdown",
        "ind. 2",
        N_("Situations at six months"),
        N_("Situations reported in the period, six months after the bilan."),
    ),
    Meaning(
        "field_inquiries_per_bilan",
        "mean",
        "ind. 2",
        N_("Field inquiries per bilan"),
        N_("Mean number of field inquiries of the bilans completed in the period."),
    ),
    Meaning(
        "access_delay_days_median",
        "days",
        "ind. 1",
        N_("Access delay (median, days)"),
        N_(
            "From the enquiry to the first preliminary session, for bilans whose "
            "first session took place in the period."
        ),
    ),
    Meaning(
        "held_hours_mean",
        "hours",
        "L6313-4",
        N_("Hours held per bilan (mean)"),
        N_("Mean hours held of the bilans completed in the period."),
    ),
    Meaning(
        "dossiers_over_24h",
        "count",
        "L6313-4",
        N_("Bilans over 24 hours (must be 0)"),
        N_("Bilans with a session in the period whose three phases add up to more than 24 hours."),
    ),
    Meaning(
        "three_phase_compliance_rate",
        "rate",
        "R6313-4, ind. 10",
        N_("Three phases, results and synthesis before completion"),
        N_(
            "Bilans completed in the period with their three phases completed, the "
            "detailed results handed over and the synthesis delivered before "
            "completion."
        ),
    ),
    Meaning(
        "convention_before_first_session_rate",
        "rate",
        "R6313-8, ind. 10",
        N_("Convention signed before the first session"),
        N_(
            "Bilans whose first session took place in the period and whose convention"
            " was signed before it."
        ),
    ),
    Meaning(
        "deontology_before_first_session_rate",
        "rate",
        "L6313-4, ind. 9",
        N_("Deontology notice acknowledged before the first session"),
        N_("The same bilans, whose deontology notice was acknowledged before their first session."),
    ),
    Meaning(
        "preliminary_evidence_rate",
        "rate",
        "ind. 4, 5",
        N_("Needs analysis and programme before the investigation"),
        N_(
            "Bilans whose investigation phase started in the period with the needs "
            "analysis and the personalised programme recorded before."
        ),
    ),
    Meaning(
        "no_show_rate",
        "rate",
        "ind. 2, 12",
        N_("No-show rate"),
        N_("Sessions missed without notice among the sessions held or missed in the period."),
    ),
    Meaning(
        "complaints_received",
        "count",
        "ind. 31",
        N_("Complaints received"),
        N_("Complaints received in the period."),
    ),
    Meaning(
        "complaint_ack_hours_median",
        "hours",
        "ind. 31",
        N_("Time to acknowledge a complaint (median, hours)"),
        N_("From receipt to acknowledgement, over the complaints received in the period."),
    ),
    Meaning(
        "complaint_answer_hours_median",
        "hours",
        "ind. 31",
        N_("Time to answer a complaint (median, hours)"),
        N_("From receipt to the answer, over the complaints received in the period."),
    ),
    Meaning(
        "complaints_open",
        "count",
        "ind. 31",
        N_("Complaints still open"),
        N_("Complaints received before the end of the period and not closed by then."),
    ),
    Meaning(
        "improvement_actions_overdue",
        "count",
        "ind. 32",
        N_("Improvement actions overdue"),
        N_("Actions opened before the end of the period, past their due date and not completed."),
    ),
    Meaning(
        "staff_trained_rate",
        "rate",
        "ind. 22",
        N_("Staff trained in the period"),
        N_("Staff present in the period with at least one continuous training completed in it."),
    ),
    Meaning(
        "staff_training_hours",
        "hours",
        "ind. 22",
        N_("Hours of continuous training"),
        N_("Hours of continuous training completed in the period by the same staff."),
    ),
    Meaning(
        "staff_evaluated_rate",
        "rate",
        "ind. 21",
        N_("Staff evaluated in the last year"),
        N_("The same staff, evaluated in the 365 days before the end of the period."),
    ),
    Meaning(
        "team_composition",
        "team",
        "ind. 17, 18, 26",
        N_("Team of each site"),
        N_(
            "Active staff of each site at the end of the period, and whether it has a"
            " psychologist and a disability referent."
        ),
    ),
    Meaning(
        "destruction_overdue",
        "count",
        "R6313-7, RGPD 5(1)(e)",
        N_("Documents not destroyed in time (must be 0)"),
        N_(
            "Bilans ended more than the grace period before the end of the period "
            "whose working documents are neither destroyed nor kept by agreement."
        ),
    ),
    Meaning(
        "data_requests_on_time_rate",
        "rate",
        "RGPD 12(3)",
        N_("Data requests answered in time"),
        N_(
            "Requests received in the period and due before its end that were "
            "answered before their due date (organisation-wide)."
        ),
    ),
)
BY_NAME = {m.name: m for m in MEANINGS}
