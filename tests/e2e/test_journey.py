"""One beneficiary's whole bilan on the running system, through HTTP, Kafka and the mail
sink, ending with their erasure and a search for their personal data everywhere it could be.

Time moves with the services' development clocks (kept in step); business times given by
people are the system's "now" or before it.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from deploy.client import BilanClient, body_text, wait_until
from tests.e2e.journey import Journey
from tests.e2e.leaks import DATABASES, database_exists, found_in_database, found_in_topics
from tests.e2e.reporting import Auditor, day_after

KAFKA = "127.0.0.1:9092"
REMINDER = "Rappel : votre séance"
END_OF_BILAN = "Votre avis sur votre bilan"
SIX_MONTHS = "Six mois après votre bilan"
H = timedelta(hours=1)


def test_a_whole_bilan_then_erasure_leaves_no_personal_data(bilan: BilanClient) -> None:
    j = Journey(bilan)
    j.open_site()
    j.open_dossier()
    auditor = Auditor(bilan, j.site, j.dossier, since=bilan.now().date() - timedelta(days=4))
    j.acknowledge_notice()
    j.needs_and_programme()
    j.sign_convention()
    j.assign_referent()

    # Four sessions booked ahead; a reminder leaves two hours before each (the 48-hour one
    # is already past). Each is awaited before its session is held, which would cancel it.
    t0 = bilan.now()
    j.schedule("preliminary", "preliminary", t0 + 3 * H, 120)
    j.schedule("investigation", "investigation", t0 + 6 * H, 180, remote=True)
    j.schedule("test", "investigation", t0 + 10 * H, 120, leader=j.psychologist)
    j.schedule("conclusion", "conclusion", t0 + 13 * H, 120)
    bilan.advance(H + timedelta(minutes=10))
    (reminder,) = j.mail.wait_for(j.secret.email, REMINDER)
    assert j.secret.name in body_text(reminder)

    # Preliminary phase.
    j.phase("preliminary", "start")
    bilan.advance(4 * H)
    j.mail.wait_for(j.secret.email, REMINDER, count=2)  # the investigation interview's
    j.hold_and_sign("preliminary")
    j.phase("preliminary", "completion")
    auditor.wait_checks("deontology_before_first_session", "convention_before_first_session")
    j.wait_held_minutes(120)

    # Investigation: an interview, a psychometric test by the psychologist, a field inquiry.
    j.phase("investigation", "start")
    auditor.wait_checks("needs_analysis_and_programme_before_investigation")
    # The test's reminder, two hours before it: a reminder still queued once its session has
    # started is never sent, so time stops here until it is out.
    bilan.advance(3 * H)
    j.mail.wait_for(j.secret.email, REMINDER, count=3)
    bilan.advance(4 * H)
    j.mail.wait_for(j.secret.email, REMINDER, count=4)  # the conclusion's
    j.hold_and_sign("investigation")
    j.hold_and_sign("test", leader=j.psychologist)
    result_url = j.assessment()
    j.field_inquiry()
    j.phase("investigation", "completion")
    j.wait_held_minutes(420)
    result = bilan.get("dossier", result_url, j.as_psychologist())
    assert result["result"] == j.secret.result

    # Conclusion, synthesis delivered, completed.
    j.phase("conclusion", "start")
    bilan.advance(3 * H)
    j.hold_and_sign("conclusion")
    j.conclude()
    j.phase("conclusion", "completion")
    j.wait_held_minutes(540)
    j.complete()
    done = bilan.dossier(j.dossier)
    assert (done["status"], done["held_minutes"]) == ("completed", 540)
    checks = auditor.wait_checks(
        "three_phases_completed",
        "detailed_results_handed_over",
        "synthesis_delivered",
        "held_time_within_24h",
    )
    assert not checks["working_documents_destroyed_on_time"]["holds"]
    assert not checks["follow_up_held"]["holds"]
    until = day_after(done["ended_at"])
    shown = auditor.wait_indicator(until, "bilans_completed", 1)
    assert shown["beneficiaries_started"]["value"] == 1
    assert shown["held_hours_mean"]["value"] == 9.0
    assert shown["three_phase_compliance_rate"]["value"] == 1.0
    assert shown["field_inquiries_per_bilan"]["value"] == 1.0
    assert shown["dossiers_over_24h"]["value"] == 0
    assert shown["bilans_abandoned"]["value"] == 0
    synthesis = bilan.get("dossier", f"/dossiers/{j.dossier}/synthesis", j.as_beneficiary())
    assert synthesis["content"] == j.secret.synthesis

    # The end-of-bilan survey arrives by e-mail; answered through its link.
    j.answer_survey(
        END_OF_BILAN,
        {
            "overall_satisfaction": 5,
            "objectives_met": 9,
            "consultant_listening": 10,
            "tools_relevance": 8,
            "project_clarity": 9,
            "would_recommend": 10,
            "comments": j.secret.end_comment,
        },
    )
    end_survey = wait_until(
        lambda: (s := j.survey("end_of_bilan"))["status"] == "answered" and s,
        "the end-of-bilan survey answered",
    )
    assert end_survey["satisfaction_score"] == 5
    assert end_survey["free_text"] == {"comments": j.secret.end_comment}
    auditor.wait_checks("end_of_bilan_survey_sent")
    shown = auditor.wait_indicator(until, "satisfaction_mean", 5)
    assert shown["survey_response_rate"]["value"] == 1.0
    assert shown["satisfaction_rate"]["value"] == 1.0

    # The grace period (30 days) passes: the working documents and the synthesis are
    # destroyed within it, on time (the clock stops half an hour before its end).
    ended_at = datetime.fromisoformat(done["ended_at"])
    bilan.advance(ended_at + timedelta(days=30) - timedelta(minutes=30) - bilan.now())
    wait_until(
        lambda: (
            bilan.dossier(j.dossier)["destroyed_document_classes"]
            == ["synthesis", "working_documents"]
        ),
        "the working documents destroyed",
    )
    for path in ("/content", "/synthesis"):
        gone = bilan.call(
            "dossier", "GET", f"/dossiers/{j.dossier}{path}", j.as_beneficiary(), expect=410
        )
        assert gone.json()["code"] == "content_destroyed"
    auditor.wait_checks("working_documents_destroyed_on_time")
    bilan.advance(ended_at + timedelta(days=31) - bilan.now())
    auditor.wait_indicator(day_after(bilan.now().isoformat()), "destruction_overdue", 0)

    # Six months after the end: the second survey, then a follow-up session.
    bilan.advance(timedelta(days=182 - 31) + H)
    j.answer_survey(
        SIX_MONTHS,
        {
            "overall_satisfaction": 4,
            "situation": "in_training",
            "project_progress": 7,
            "comments": j.secret.six_month_comment,
        },
    )
    six_months = wait_until(
        lambda: (s := j.survey("six_months"))["status"] == "answered" and s,
        "the six-month survey answered",
    )
    assert six_months["situation"] == "in_training"
    follow_up_at = bilan.now() + 3 * H
    j.schedule("follow_up", "follow_up", follow_up_at, 60)
    bilan.advance(4 * H + timedelta(minutes=10))
    j.hold_and_sign("follow_up")
    follow_up = bilan.get("scheduling", f"/sessions/{j.sessions['follow_up']}", j.as_manager())
    assert follow_up["status"] == "held"
    assert follow_up["signatures"]["beneficiary"]
    assert follow_up["signatures"]["consultant"]
    assert bilan.dossier(j.dossier)["held_minutes"] == 540, "a follow-up is not bilan time"
    auditor.wait_checks("follow_up_held")
    later = day_after(follow_up["held_started_at"])
    auditor.wait_indicator(later, "follow_up_rate_6m", 1.0)
    # The answer and the follow-up travel on different topics: each is awaited.
    shown = auditor.wait_indicator(later, "six_month_response_rate", 1.0)
    wait_until(
        lambda: auditor.indicators(later)["six_month_situations"]["value"]["in_training"] == 1,
        "the six-month situation counted",
    )
    assert shown["destruction_overdue"]["value"] == 0

    # Erasure: everything personal becomes unreadable, everywhere.
    j.erase()

    def free_text_erased() -> bool:
        texts = [j.survey(c)["free_text"] or {} for c in ("end_of_bilan", "six_months")]
        return all(set(text.values()) == {None} for text in texts)

    wait_until(free_text_erased, "the surveys' free text erased")
    needles = [s.encode() for s in j.secret.all()]
    databases = [d for d in DATABASES if asyncio.run(database_exists(d))]
    assert {"bilan_dossier", "bilan_scheduling", "bilan_survey"} <= set(databases)

    def databases_clean() -> bool:
        # The shredded keys' dead row versions go with the vacuum that follows shredding.
        return not any(asyncio.run(found_in_database(d, needles)) for d in databases)

    try:
        wait_until(databases_clean, "no personal data left in any database", timeout_s=60)
    except TimeoutError:
        on_disk = {d: asyncio.run(found_in_database(d, needles)) for d in databases}
        raise AssertionError(f"personal data on disk after erasure: {on_disk}") from None

    # A control: the site's name is not personal and is stored and published in clear, so
    # both scans must find it (they do read the bytes where data would be).
    control = j.site_name.encode()
    assert asyncio.run(found_in_database("bilan_scheduling", [control]))
    found, types = asyncio.run(
        found_in_topics(KAFKA, [*needles, control], about=j.dossier.encode())
    )
    leaks = [f for f in found if repr(control) not in f]
    assert leaks == [], f"personal data on Kafka: {leaks}"
    assert len(leaks) < len(found), "the site's name was not found on Kafka"
    # The journey's facts did cross the topics (so the scan read what it had to).
    for event in (
        "bilan.dossier.DossierOpened.v1",
        "bilan.dossier.ConventionSigned.v1",
        "bilan.dossier.ReferentConsultantAssigned.v1",
        "bilan.scheduling.SessionScheduled.v1",
        "bilan.scheduling.SessionReminderSent.v1",
        "bilan.scheduling.SessionHeld.v1",
        "bilan.scheduling.AttendanceSigned.v1",
        "bilan.dossier.AssessmentAdministered.v1",
        "bilan.dossier.SynthesisDelivered.v1",
        "bilan.dossier.DossierCompleted.v1",
        "bilan.survey.SurveySent.v1",
        "bilan.survey.SurveyAnswered.v1",
        "bilan.dossier.WorkingDocumentsDestroyed.v1",
        "bilan.survey.SixMonthSituationReported.v2",
    ):
        assert event in types, f"{event} of the journey not found on Kafka"
