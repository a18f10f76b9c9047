"""Each indicator of indicators.md on hand-built histories: period edges, null denominators,
median ties and the site filter."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from services.reporting.indicators import INDICATOR_NAMES, QueryEngine, compute
from shared.contracts import (
    CompetenceEvaluated,
    ComplaintAcknowledged,
    ComplaintAnswered,
    ComplaintClosed,
    ComplaintReceived,
    ContinuousTrainingCompleted,
    ConventionSigned,
    DataSubjectRequestFulfilled,
    DataSubjectRequestReceived,
    DataSubjectRequestRefused,
    DeontologyInformationAcknowledged,
    DetailedResultsHandedOver,
    DossierAbandoned,
    DossierCompleted,
    DossierOpened,
    FieldInquiryCompleted,
    ImprovementActionCompleted,
    ImprovementActionOpened,
    NeedsAnalysisRecorded,
    NoShowRecorded,
    PersonalisedProgrammeAgreed,
    PhaseCompleted,
    PhaseStarted,
    RetentionAgreed,
    SessionHeld,
    SiteOpened,
    SixMonthSituationReported,
    SixMonthSituationReportedV1,
    StaffMemberLeft,
    StaffMemberOnboarded,
    SurveyAnswered,
    SurveyCancelled,
    SurveySent,
    SynthesisDelivered,
    WithdrawalExercised,
    WorkingDocumentsDestroyed,
)

from .history import SITE_A, SITE_B, History, at, new_id

JAN = ("2025-01-01", "2025-02-01")


def opened(h: History, site: str = SITE_A, enquiry: str = "2024-12-01T09:00") -> uuid.UUID:
    dossier = new_id()
    h.add(
        DossierOpened,
        dossier_id=dossier,
        site_id=site,
        enquiry_received_at=at(enquiry),
        opened_at=at(enquiry),
    )
    return dossier


def test_every_indicator_is_served_under_its_name_and_empty_history_gives_nulls() -> None:
    figures = History().figures(*JAN)
    assert list(figures) == list(INDICATOR_NAMES)
    assert len(INDICATOR_NAMES) == 33
    assert figures["abandonment_rate"] == {"value": None, "numerator": 0, "denominator": 0}
    assert figures["satisfaction_mean"]["value"] is None
    assert figures["access_delay_days_median"] == {"value": None}
    assert figures["bilans_completed"] == {"value": 0}


def test_beneficiaries_started_counts_preliminary_starts_in_half_open_period() -> None:
    h = History()
    for when in ("2024-12-31T23:59:59", "2025-01-01T00:00", "2025-01-31T23:59", "2025-02-01T00:00"):
        h.add(PhaseStarted, dossier_id=opened(h), phase="preliminary", started_at=at(when))
    h.add(PhaseStarted, dossier_id=opened(h), phase="investigation", started_at=at("2025-01-05"))
    assert h.value("beneficiaries_started", *JAN) == 2


def test_completed_abandoned_rate_and_causes() -> None:
    h = History()
    for when in ("2025-01-02", "2025-01-03", "2025-01-04", "2025-02-01"):
        h.add(DossierCompleted, dossier_id=opened(h), held_minutes=600, completed_at=at(when))
    h.add(
        DossierAbandoned,
        dossier_id=opened(h),
        phase_at_abandon="investigation",
        reason_category="health",
        abandoned_at=at("2025-01-10"),
    )
    h.add(
        DossierAbandoned,
        dossier_id=opened(h),
        phase_at_abandon=None,
        reason_category="funding",
        abandoned_at=at("2025-01-31T23:00"),
    )
    f = h.figures(*JAN)
    assert f["bilans_completed"]["value"] == 3
    assert f["bilans_abandoned"]["value"] == 2
    assert f["abandonment_rate"] == {"value": 2 / 5, "numerator": 2, "denominator": 5}
    causes = f["abandonment_causes"]["value"]
    assert causes["by_reason_category"]["health"] == 1
    assert causes["by_reason_category"]["funding"] == 1
    assert causes["by_reason_category"]["personal"] == 0
    assert causes["by_phase_at_abandon"] == {
        "preliminary": 0,
        "investigation": 1,
        "conclusion": 0,
        "none": 1,
    }


def test_satisfaction_mean_and_rate_over_end_of_bilan_answers_in_period() -> None:
    h = History()
    dossier = opened(h)
    for score, when, campaign in (
        (5, "2025-01-05", "end_of_bilan"),
        (3, "2025-01-06", "end_of_bilan"),
        (4, "2025-01-07", "end_of_bilan"),
        (1, "2025-02-01", "end_of_bilan"),
        (1, "2025-01-08", "session_feedback"),
    ):
        h.add(
            SurveyAnswered,
            survey_id=new_id(),
            dossier_id=dossier,
            campaign=campaign,
            satisfaction_score=score,
            answered_at=at(when),
        )
    f = h.figures(*JAN)
    assert f["satisfaction_mean"] == {"value": 4.0, "numerator": 12, "denominator": 3}
    assert f["satisfaction_rate"] == {"value": 2 / 3, "numerator": 2, "denominator": 3}


def test_survey_response_rates_count_answers_at_any_time() -> None:
    h = History()
    dossier = opened(h)
    answered_late, unanswered, six = new_id(), new_id(), new_id()
    for survey, campaign, sent in (
        (answered_late, "end_of_bilan", "2025-01-10"),
        (unanswered, "end_of_bilan", "2025-01-11"),
        (new_id(), "end_of_bilan", "2024-12-31"),
        (six, "six_months", "2025-01-12"),
    ):
        h.add(
            SurveySent,
            survey_id=survey,
            dossier_id=dossier,
            campaign=campaign,
            sent_at=at(sent),
            expires_at=at("2025-06-01"),
        )
    h.add(
        SurveyAnswered,
        survey_id=answered_late,
        dossier_id=dossier,
        campaign="end_of_bilan",
        answered_at=at("2025-03-01"),
    )
    f = h.figures(*JAN)
    assert f["survey_response_rate"] == {"value": 0.5, "numerator": 1, "denominator": 2}
    assert f["six_month_response_rate"] == {"value": 0.0, "numerator": 0, "denominator": 1}


def test_cancelled_surveys_leave_the_response_rates() -> None:
    h = History()
    dossier = opened(h)
    surveys = {campaign: (new_id(), new_id()) for campaign in ("end_of_bilan", "six_months")}
    for campaign, (kept, cancelled) in surveys.items():
        for survey in (kept, cancelled):
            h.add(
                SurveySent,
                survey_id=survey,
                dossier_id=dossier,
                campaign=campaign,
                sent_at=at("2025-01-10"),
                expires_at=at("2025-06-01"),
            )
        # Cancelled after the period: "no SurveyCancelled up to the query" still excludes it.
        h.add(SurveyCancelled, survey_id=cancelled, cancelled_at=at("2025-03-01"))
    f = h.figures(*JAN)
    assert f["survey_response_rate"] == {"value": 0.0, "numerator": 0, "denominator": 1}
    assert f["six_month_response_rate"] == {"value": 0.0, "numerator": 0, "denominator": 1}


def test_session_feedback_mean_and_response_rate() -> None:
    h = History()
    dossier = opened(h)
    answered, unanswered, cancelled, outside = new_id(), new_id(), new_id(), new_id()
    for survey, sent in (
        (answered, "2025-01-05"),
        (unanswered, "2025-01-06"),
        (cancelled, "2025-01-07"),
        (outside, "2024-12-20"),
    ):
        h.add(
            SurveySent,
            survey_id=survey,
            dossier_id=dossier,
            campaign="session_feedback",
            session_id=new_id(),
            sent_at=at(sent),
            expires_at=at("2025-06-01"),
        )
    h.add(SurveyCancelled, survey_id=cancelled, cancelled_at=at("2025-01-08"))
    for survey, score, when in ((answered, 5, "2025-01-09"), (outside, 2, "2025-01-02")):
        h.add(
            SurveyAnswered,
            survey_id=survey,
            dossier_id=dossier,
            campaign="session_feedback",
            satisfaction_score=score,
            answered_at=at(when),
        )
    # An end-of-bilan answer is not session feedback.
    h.add(SurveyAnswered, dossier_id=dossier, satisfaction_score=1, answered_at=at("2025-01-09"))
    f = h.figures(*JAN)
    assert f["session_feedback_mean"] == {"value": 3.5, "numerator": 7, "denominator": 2}
    assert f["session_feedback_response_rate"] == {
        "value": 0.5,
        "numerator": 1,
        "denominator": 2,
    }
    assert h.figures(*JAN, site=SITE_B)["session_feedback_mean"]["value"] is None


def test_follow_up_rate_uses_completion_plus_182_days() -> None:
    h = History()
    followed, not_followed, outside = opened(h), opened(h), opened(h)
    # 2024-07-03 + 182 days = 2025-01-01 (first instant of the period).
    h.add(DossierCompleted, dossier_id=followed, completed_at=at("2024-07-03T00:00"))
    h.add(DossierCompleted, dossier_id=not_followed, completed_at=at("2024-08-01"))
    h.add(DossierCompleted, dossier_id=outside, completed_at=at("2024-07-02T23:59"))
    h.add(
        SessionHeld,
        session_id=new_id(),
        dossier_id=followed,
        phase="follow_up",
        started_at=at("2025-03-15"),
        duration_minutes=60,
    )
    assert h.figures(*JAN)["follow_up_rate_6m"] == {
        "value": 0.5,
        "numerator": 1,
        "denominator": 2,
    }


def test_six_month_situations_by_situation() -> None:
    h = History()
    dossier = opened(h)
    for situation, when in (
        ("new_job", "2025-01-03"),
        ("new_job", "2025-01-04"),
        ("in_training", "2025-01-05"),
        ("unchanged", "2025-02-02"),
    ):
        h.add(
            SixMonthSituationReported,
            dossier_id=dossier,
            survey_id=new_id(),
            situation=situation,
            reported_at=at(when),
        )
    value = h.value("six_month_situations", *JAN)
    assert value == {
        "project_in_progress": 0,
        "in_training": 1,
        "new_job": 2,
        "business_created": 0,
        "unchanged": 0,
        "other": 0,
    }


def test_a_v1_six_month_history_gives_the_figures_of_the_same_history_in_v2() -> None:
    v2 = History()
    dossier = opened(v2)
    for situation, when in (("new_job", "2025-01-03"), ("in_training", "2025-01-05")):
        v2.add(
            SixMonthSituationReported,
            dossier_id=dossier,
            survey_id=new_id(),
            situation=situation,
            reported_at=at(when),
        )
    v1 = History(
        [
            (ce_id, SixMonthSituationReportedV1(**event.model_dump()))
            if isinstance(event, SixMonthSituationReported)
            else (ce_id, event)
            for ce_id, event in v2.events
        ]
    )
    assert {type(e).__name__ for _, e in v1.events} == {
        "DossierOpened",
        "SixMonthSituationReportedV1",
    }
    for period in (JAN, ("2024-01-01", "2026-01-01")):
        assert v1.figures(*period) == v2.figures(*period)
        assert v1.figures(*period, site=SITE_A) == v2.figures(*period, site=SITE_A)
    assert v1.value("six_month_situations", *JAN)["new_job"] == 1


def test_field_inquiries_per_bilan_over_completed_dossiers() -> None:
    h = History()
    two, none = opened(h), opened(h)
    for _ in range(2):
        h.add(FieldInquiryCompleted, dossier_id=two, completed_at=at("2024-12-15"))
    h.add(DossierCompleted, dossier_id=two, completed_at=at("2025-01-10"))
    h.add(DossierCompleted, dossier_id=none, completed_at=at("2025-01-11"))
    assert h.figures(*JAN)["field_inquiries_per_bilan"] == {
        "value": 1.0,
        "numerator": 2,
        "denominator": 2,
    }


def test_access_delay_median_with_even_count_and_ties() -> None:
    h = History()
    # Delays of 2, 2, 4 and 10 days: the median of an even count is the mean of 2 and 4.
    for days in (2, 2, 4, 10):
        dossier = opened(h, enquiry="2025-01-01T00:00")
        h.add(
            SessionHeld,
            session_id=new_id(),
            dossier_id=dossier,
            phase="preliminary",
            started_at=at(f"2025-01-{1 + days:02d}T00:00"),
            duration_minutes=60,
        )
        # A later preliminary session does not move the first one.
        h.add(
            SessionHeld,
            session_id=new_id(),
            dossier_id=dossier,
            phase="preliminary",
            started_at=at("2025-01-25T00:00"),
            duration_minutes=60,
        )
    assert h.value("access_delay_days_median", *JAN) == 3.0
    h2 = History()
    dossier = opened(h2, enquiry="2025-01-01T00:00")
    h2.add(
        SessionHeld,
        session_id=new_id(),
        dossier_id=dossier,
        phase="preliminary",
        started_at=at("2025-01-02T12:00"),
        duration_minutes=60,
    )
    assert h2.value("access_delay_days_median", *JAN) == 1.5


def test_held_hours_mean_and_dossiers_over_24h() -> None:
    h = History()
    a, b = opened(h), opened(h)
    h.add(DossierCompleted, dossier_id=a, held_minutes=600, completed_at=at("2025-01-10"))
    h.add(DossierCompleted, dossier_id=b, held_minutes=900, completed_at=at("2025-01-12"))
    over = opened(h)
    for i, when in enumerate(("2024-11-01", "2024-11-02", "2025-01-03")):
        h.add(
            SessionHeld,
            session_id=new_id(),
            dossier_id=over,
            phase=("preliminary", "investigation", "conclusion")[i],
            started_at=at(when),
            duration_minutes=500,
        )
    f = h.figures(*JAN)
    assert f["held_hours_mean"] == {"value": 12.5, "numerator": 25.0, "denominator": 2}
    assert f["dossiers_over_24h"] == {"value": 1}
    assert h.value("dossiers_over_24h", "2025-02-01", "2025-03-01") == 0


def test_three_phase_compliance_needs_everything_before_completion() -> None:
    h = History()
    good, late_synthesis = opened(h), opened(h)
    for dossier in (good, late_synthesis):
        for phase in ("preliminary", "investigation", "conclusion"):
            h.add(PhaseCompleted, dossier_id=dossier, phase=phase, completed_at=at("2025-01-05"))
        h.add(DetailedResultsHandedOver, dossier_id=dossier, handed_over_at=at("2025-01-06"))
        h.add(DossierCompleted, dossier_id=dossier, completed_at=at("2025-01-08"))
    h.add(SynthesisDelivered, dossier_id=good, delivered_at=at("2025-01-07"))
    h.add(SynthesisDelivered, dossier_id=late_synthesis, delivered_at=at("2025-01-09"))
    assert h.figures(*JAN)["three_phase_compliance_rate"] == {
        "value": 0.5,
        "numerator": 1,
        "denominator": 2,
    }


def test_convention_and_deontology_before_first_bilan_session() -> None:
    h = History()
    both, neither = opened(h), opened(h)
    for dossier in (both, neither):
        h.add(
            SessionHeld,
            session_id=new_id(),
            dossier_id=dossier,
            phase="information",
            started_at=at("2024-12-01"),
            duration_minutes=30,
        )
        h.add(
            SessionHeld,
            session_id=new_id(),
            dossier_id=dossier,
            phase="preliminary",
            started_at=at("2025-01-10T10:00"),
            duration_minutes=60,
        )
    h.add(ConventionSigned, dossier_id=both, signed_at=at("2025-01-10T09:59"))
    h.add(DeontologyInformationAcknowledged, dossier_id=both, acknowledged_at=at("2025-01-02"))
    # Same instant is not earlier.
    h.add(ConventionSigned, dossier_id=neither, signed_at=at("2025-01-10T10:00"))
    f = h.figures(*JAN)
    assert f["convention_before_first_session_rate"] == {
        "value": 0.5,
        "numerator": 1,
        "denominator": 2,
    }
    assert f["deontology_before_first_session_rate"]["numerator"] == 1
    # The information session is not a bilan session: the first one is in January, not December.
    assert (
        h.figures("2024-12-01", "2025-01-01")["convention_before_first_session_rate"]["denominator"]
        == 0
    )


def test_preliminary_evidence_before_investigation() -> None:
    h = History()
    ok, missing = opened(h), opened(h)
    for dossier in (ok, missing):
        h.add(PhaseStarted, dossier_id=dossier, phase="investigation", started_at=at("2025-01-15"))
        h.add(NeedsAnalysisRecorded, dossier_id=dossier, recorded_at=at("2025-01-02"))
    h.add(PersonalisedProgrammeAgreed, dossier_id=ok, agreed_at=at("2025-01-03"))
    h.add(PersonalisedProgrammeAgreed, dossier_id=missing, agreed_at=at("2025-01-16"))
    assert h.figures(*JAN)["preliminary_evidence_rate"]["numerator"] == 1
    assert h.figures(*JAN)["preliminary_evidence_rate"]["denominator"] == 2


def test_no_show_rate() -> None:
    h = History()
    dossier = opened(h)
    for when in ("2025-01-05", "2025-01-06", "2025-01-07"):
        h.add(
            SessionHeld,
            session_id=new_id(),
            dossier_id=dossier,
            phase="investigation",
            started_at=at(when),
            duration_minutes=60,
        )
    h.add(NoShowRecorded, session_id=new_id(), dossier_id=dossier, recorded_at=at("2025-01-08"))
    h.add(NoShowRecorded, session_id=new_id(), dossier_id=dossier, recorded_at=at("2025-02-08"))
    assert h.figures(*JAN)["no_show_rate"] == {"value": 0.25, "numerator": 1, "denominator": 4}


def test_complaints_medians_and_open_as_of_to() -> None:
    h = History()
    received = "2025-01-10T00:00"
    for ack_hours, answer_hours, closed in (
        (2, 24, "2025-01-20"),
        (4, None, None),
        (6, None, "2025-02-03"),
    ):
        complaint = new_id()
        h.add(ComplaintReceived, complaint_id=complaint, site_id=SITE_A, received_at=at(received))
        h.add(
            ComplaintAcknowledged,
            complaint_id=complaint,
            acknowledged_at=at(f"2025-01-10T{ack_hours:02d}:00"),
        )
        if answer_hours:
            h.add(ComplaintAnswered, complaint_id=complaint, answered_at=at("2025-01-11T00:00"))
        if closed:
            h.add(ComplaintClosed, complaint_id=complaint, closed_at=at(closed))
    old = new_id()
    h.add(ComplaintReceived, complaint_id=old, site_id=SITE_B, received_at=at("2024-12-01"))
    f = h.figures(*JAN)
    assert f["complaints_received"] == {"value": 3}
    assert f["complaint_ack_hours_median"] == {"value": 4.0}
    assert f["complaint_answer_hours_median"] == {"value": 24.0}
    # Open at 2025-02-01: the one never closed, the one closed in February, the old one.
    assert f["complaints_open"] == {"value": 3}
    assert h.value("complaints_open", *JAN, site=SITE_B) == 1
    assert h.value("complaint_ack_hours_median", *JAN, site=SITE_B) is None


def test_improvement_actions_overdue_and_site_rule() -> None:
    h = History()
    overdue, done, not_due, org_only = new_id(), new_id(), new_id(), new_id()
    h.add(
        ImprovementActionOpened,
        action_id=overdue,
        site_id=SITE_A,
        opened_at=at("2025-01-01"),
        due_at=at("2025-01-31"),
    )
    h.add(
        ImprovementActionOpened,
        action_id=done,
        site_id=SITE_A,
        opened_at=at("2025-01-01"),
        due_at=at("2025-01-15"),
    )
    h.add(ImprovementActionCompleted, action_id=done, completed_at=at("2025-01-20"))
    h.add(
        ImprovementActionOpened,
        action_id=not_due,
        site_id=SITE_A,
        opened_at=at("2025-01-01"),
        due_at=at("2025-02-01"),
    )
    h.add(
        ImprovementActionOpened,
        action_id=org_only,
        site_id=None,
        opened_at=at("2025-01-01"),
        due_at=at("2025-01-02"),
    )
    assert h.value("improvement_actions_overdue", *JAN) == 2
    assert h.value("improvement_actions_overdue", *JAN, site=SITE_A) == 1


def test_staff_population_training_evaluation_and_team() -> None:
    h = History()
    psy, consultant, gone, later = new_id(), new_id(), new_id(), new_id()
    h.add(SiteOpened, site_id=SITE_A, opened_at=at("2020-01-01"))
    h.add(
        StaffMemberOnboarded,
        staff_id=psy,
        roles=["psychologist", "consultant"],
        site_ids=[SITE_A],
        onboarded_at=at("2024-01-01"),
    )
    h.add(
        StaffMemberOnboarded,
        staff_id=consultant,
        roles=["consultant"],
        site_ids=[SITE_A, SITE_B],
        onboarded_at=at("2024-01-01"),
    )
    h.add(
        StaffMemberOnboarded,
        staff_id=gone,
        roles=["disability_referent"],
        site_ids=[SITE_A],
        onboarded_at=at("2024-01-01"),
    )
    h.add(StaffMemberLeft, staff_id=gone, left_at=at("2025-01-15"))
    h.add(
        StaffMemberOnboarded,
        staff_id=later,
        roles=["consultant"],
        site_ids=[SITE_B],
        onboarded_at=at("2025-02-01"),
    )
    h.add(ContinuousTrainingCompleted, staff_id=psy, hours=7.5, completed_at=at("2025-01-10"))
    h.add(ContinuousTrainingCompleted, staff_id=psy, hours=3.5, completed_at=at("2025-01-11"))
    h.add(
        ContinuousTrainingCompleted, staff_id=consultant, hours=100, completed_at=at("2024-12-31")
    )
    h.add(CompetenceEvaluated, staff_id=consultant, evaluated_at=at("2024-02-02"))
    h.add(CompetenceEvaluated, staff_id=gone, evaluated_at=at("2024-02-01"))
    f = h.figures(*JAN)
    # Population: psy, consultant, gone (left during the period); `later` onboarded at `to`.
    assert f["staff_trained_rate"] == {"value": 1 / 3, "numerator": 1, "denominator": 3}
    assert f["staff_training_hours"] == {"value": 11.0}
    # 365 days before 2025-02-01 is 2024-02-02: the evaluation of 2024-02-01 is too old.
    assert f["staff_evaluated_rate"]["numerator"] == 1
    team = f["team_composition"]["value"]
    assert team[SITE_A]["active_staff"] == 2
    assert team[SITE_A]["by_role"]["consultant"] == 2
    assert team[SITE_A]["has_psychologist"] is True
    assert team[SITE_A]["has_disability_referent"] is False
    assert team[SITE_B]["active_staff"] == 1
    site_b = h.figures(*JAN, site=SITE_B)
    assert list(site_b["team_composition"]["value"]) == [SITE_B]
    assert site_b["staff_trained_rate"]["denominator"] == 1


def test_destruction_overdue_with_grace_and_retention() -> None:
    h = History()
    overdue, destroyed, retained, recent, destroyed_late = (opened(h) for _ in range(5))
    h.add(DossierCompleted, dossier_id=overdue, completed_at=at("2024-11-01"))
    h.add(DossierCompleted, dossier_id=destroyed, completed_at=at("2024-11-01"))
    h.add(WorkingDocumentsDestroyed, dossier_id=destroyed, destroyed_at=at("2024-11-20"))
    h.add(DossierAbandoned, dossier_id=retained, abandoned_at=at("2024-11-01"))
    h.add(
        RetentionAgreed,
        dossier_id=retained,
        document_classes=["working_documents"],
        agreed_at=at("2024-11-02"),
        expires_at=at("2025-02-01"),
    )
    # Ended 2025-01-02: to − 30 days = 2025-01-02, not before it.
    h.add(DossierCompleted, dossier_id=recent, completed_at=at("2025-01-02T00:00"))
    h.add(DossierCompleted, dossier_id=destroyed_late, completed_at=at("2024-11-01"))
    h.add(WorkingDocumentsDestroyed, dossier_id=destroyed_late, destroyed_at=at("2025-02-01"))
    assert h.value("destruction_overdue", *JAN) == 2
    assert h.figures(*JAN, grace_days=60)["destruction_overdue"]["value"] == 2
    assert h.figures(*JAN, grace_days=100)["destruction_overdue"]["value"] == 0
    # The retention expires before 2025-02-02: it no longer covers on the next day.
    assert h.value("destruction_overdue", "2025-01-01", "2025-02-02") == 3


def test_destruction_overdue_names_the_withdrawal() -> None:
    h = History()
    withdrawn, destroyed = opened(h), opened(h)
    for dossier in (withdrawn, destroyed):
        h.add(WithdrawalExercised, dossier_id=dossier, exercised_at=at("2024-11-01"))
    h.add(WorkingDocumentsDestroyed, dossier_id=destroyed, destroyed_at=at("2024-11-20"))
    assert h.value("destruction_overdue", *JAN) == 1
    checks = h.checklist(destroyed)
    assert checks is not None
    assert checks["checks"]["working_documents_destroyed_on_time"]["holds"] is True


def test_data_requests_on_time_is_organisation_wide() -> None:
    h = History()
    on_time, late, refused, not_due = new_id(), new_id(), new_id(), new_id()
    for request, received, due in (
        (on_time, "2025-01-02", "2025-01-31"),
        (late, "2025-01-03", "2025-01-31"),
        (refused, "2025-01-04", "2025-01-31"),
        (not_due, "2025-01-20", "2025-02-20"),
    ):
        h.add(
            DataSubjectRequestReceived, request_id=request, received_at=at(received), due_at=at(due)
        )
    h.add(DataSubjectRequestFulfilled, request_id=on_time, fulfilled_at=at("2025-01-10"))
    h.add(DataSubjectRequestFulfilled, request_id=late, fulfilled_at=at("2025-01-31"))
    h.add(DataSubjectRequestRefused, request_id=refused, refused_at=at("2025-01-30"))
    expected = {"value": 2 / 3, "numerator": 2, "denominator": 3}
    assert h.figures(*JAN)["data_requests_on_time_rate"] == expected
    assert h.figures(*JAN, site=SITE_B)["data_requests_on_time_rate"] == expected


def test_site_filter_uses_the_dossier_opened_site() -> None:
    h = History()
    a, b = opened(h, SITE_A), opened(h, SITE_B)
    stray = new_id()  # never opened: counted organisation-wide only
    for dossier in (a, b, stray):
        h.add(DossierCompleted, dossier_id=dossier, completed_at=at("2025-01-10"))
        h.add(
            SurveyAnswered,
            survey_id=new_id(),
            dossier_id=dossier,
            campaign="end_of_bilan",
            satisfaction_score=5 if dossier == a else 1,
            answered_at=at("2025-01-11"),
        )
    # The session's own site_id does not decide: the dossier's does.
    h.add(
        SessionHeld,
        session_id=new_id(),
        dossier_id=a,
        site_id=SITE_B,
        phase="preliminary",
        started_at=at("2025-01-05"),
        duration_minutes=60,
    )
    assert h.value("bilans_completed", *JAN) == 3
    assert h.value("bilans_completed", *JAN, site=SITE_A) == 1
    assert h.value("satisfaction_mean", *JAN, site=SITE_A) == 5.0
    assert h.value("satisfaction_mean", *JAN, site=SITE_B) == 1.0
    assert h.figures(*JAN, site=SITE_B)["no_show_rate"]["denominator"] == 0
    assert h.figures(*JAN, site=SITE_A)["no_show_rate"]["denominator"] == 1


@pytest.mark.parametrize("duplicate", [False, True])
def test_redelivered_events_change_nothing(duplicate: bool) -> None:
    h = History()
    dossier = opened(h)
    h.add(FieldInquiryCompleted, dossier_id=dossier, completed_at=at("2025-01-02"))
    h.add(DossierCompleted, dossier_id=dossier, completed_at=at("2025-01-10"))
    events = h.events + (h.events if duplicate else [])
    figures = compute(QueryEngine(h.store(events)), date(2025, 1, 1), date(2025, 2, 1), None)
    assert figures["field_inquiries_per_bilan"]["value"] == 1.0
