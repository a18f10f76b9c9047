"""The dossier's rules, allowed and refused, without I/O."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import pytest

from services.dossier.domain import dossier as d
from services.dossier.domain import held_time
from services.dossier.domain.errors import DomainError
from services.dossier.domain.events import load_event
from services.dossier.domain.staff import StaffFacts
from tests.unit.dossier.builders import (
    CONSULTANT,
    INTERESTS,
    MENTIONS,
    PSYCHOLOGIST,
    PSYCHOMETRIC,
    SITE,
    T0,
    Journey,
)


def refused(journey: Journey, command: d.Command, code: str, **kw: timedelta) -> DomainError:
    before = journey.state
    with pytest.raises(DomainError) as caught:
        journey.run(command, **kw)
    assert caught.value.code == code
    assert journey.state is before, "a refused command changes nothing"
    return caught.value


def types(events: Sequence[object]) -> list[str]:
    return [type(e).__name__ for e in events]


def test_every_event_survives_storage() -> None:
    journey = Journey().completed()
    for event in journey.history:
        assert load_event(event.type, event.to_data()) == event


def test_opening_twice_is_refused() -> None:
    journey = Journey().opened()
    refused(journey, d.OpenDossier("dossier-1", "b", SITE, "cpf", journey.now), "dossier_exists")


def test_unknown_deontology_version_is_refused() -> None:
    journey = Journey()
    journey.run(d.OpenDossier("x", "b", SITE, "cpf", journey.now))
    refused(
        journey, d.AcknowledgeDeontology(7, frozenset({1}), journey.now), "unknown_notice_version"
    )


def test_convention_needs_every_mandatory_mention() -> None:
    journey = Journey()
    journey.run(d.OpenDossier("x", "b", SITE, "cpf", journey.now))
    mentions = {**MENTIONS, "payment_terms": "  "}
    error = refused(
        journey,
        d.DraftConvention("c", "tripartite", mentions, 600, 100, journey.now),
        "mandatory_mentions_missing",
    )
    assert "payment_terms" in error.detail


@pytest.mark.parametrize(
    ("kind", "parties"),
    [
        ("tripartite", ("beneficiary", "employer", "provider")),
        ("individual_contract", ("beneficiary", "provider")),
    ],
)
def test_required_parties_follow_the_kind(kind: str, parties: tuple[str, ...]) -> None:
    journey = Journey().opened(kind)
    drafted = journey.history[-1]
    assert isinstance(drafted, d.ConventionDrafted)
    assert drafted.required_parties == parties


def test_convention_is_signed_when_the_last_party_signs() -> None:
    journey = Journey().sent()
    assert types(journey.run(d.SignConvention("conv-1", "employer", journey.now))) == [
        "ConventionSignedByParty"
    ]
    assert types(journey.run(d.SignConvention("conv-1", "provider", journey.now))) == [
        "ConventionSignedByParty"
    ]
    last = journey.run(d.SignConvention("conv-1", "beneficiary", journey.now))
    assert types(last) == ["ConventionSignedByParty", "ConventionSigned"]
    assert journey.s.convention is not None
    assert journey.s.convention.status == "signed"


def test_a_party_signs_once_and_only_parties_sign() -> None:
    journey = Journey().opened("individual_contract")
    refused(
        journey,
        d.SignConvention("conv-1", "beneficiary", journey.now),
        "convention_not_awaiting_signature",
    )
    journey.run(d.SendConvention("conv-1", timedelta(days=10), journey.now))
    refused(journey, d.SignConvention("conv-1", "employer", journey.now), "party_not_required")
    journey.run(d.SignConvention("conv-1", "beneficiary", journey.now))
    refused(journey, d.SignConvention("conv-1", "beneficiary", journey.now), "party_already_signed")


def test_signature_after_the_deadline_is_refused() -> None:
    journey = Journey().sent()
    refused(
        journey,
        d.SignConvention("conv-1", "beneficiary", journey.now + timedelta(days=11)),
        "acceptance_deadline_passed",
    )


def test_silence_until_the_deadline_is_refusal() -> None:
    journey = Journey().sent()
    assert journey.run(d.DeemConventionRefused("conv-1"), after=timedelta(days=9)) == []
    events = journey.run(d.DeemConventionRefused("conv-1"), after=timedelta(days=1))
    assert types(events) == ["ConventionDeemedRefused"]
    assert journey.s.convention is not None
    assert journey.s.convention.status == "refused"
    # A new convention may then be drafted.
    journey.run(d.DraftConvention("conv-2", "tripartite", MENTIONS, 600, 100, journey.now))


def test_deadline_timer_does_nothing_once_signed() -> None:
    journey = Journey().signed()
    assert journey.run(d.DeemConventionRefused("conv-1"), after=timedelta(days=30)) == []


def test_withdrawal_within_the_period_ends_the_dossier() -> None:
    journey = Journey().signed()
    events = journey.run(d.ExerciseWithdrawal("conv-1", timedelta(days=10), journey.now))
    assert types(events) == ["WithdrawalExercised"]
    assert journey.s.status == "withdrawn"


def test_withdrawal_after_the_period_or_without_right_is_refused() -> None:
    journey = Journey().signed()
    refused(
        journey,
        d.ExerciseWithdrawal("conv-1", timedelta(days=10), journey.now + timedelta(days=11)),
        "withdrawal_period_over",
    )
    refused(journey, d.ExerciseWithdrawal("conv-1", None, journey.now), "no_withdrawal_right")


def test_referent_must_be_an_active_conductor_of_the_site() -> None:
    journey = Journey().signed()
    other_site = StaffFacts("c-9", frozenset({"consultant"}), frozenset({"elsewhere"}), True)
    manager = StaffFacts("m-1", frozenset({"site_manager"}), frozenset({SITE}), True)
    gone = StaffFacts("c-8", frozenset({"consultant"}), frozenset({SITE}), False)
    for staff in (other_site, manager, gone, None):
        refused(journey, d.AssignReferent(staff, "initial", journey.now), "referent_not_eligible")
    refused(
        journey, d.AssignReferent(CONSULTANT, "other", journey.now), "first_assignment_is_initial"
    )
    journey.run(d.AssignReferent(CONSULTANT, "initial", journey.now))
    refused(journey, d.AssignReferent(PSYCHOLOGIST, "initial", journey.now), "change_needs_reason")
    (change,) = journey.run(d.AssignReferent(PSYCHOLOGIST, "unavailability", journey.now))
    assert isinstance(change, d.ReferentConsultantAssigned)
    assert (change.previous_consultant_id, change.reason) == ("c-1", "unavailability")


def test_preliminary_phase_needs_signed_convention_and_referent() -> None:
    journey = Journey().sent()
    error = refused(journey, d.StartPhase("preliminary", journey.now), "phase_order")
    assert "convention_signed" in error.detail
    assert "referent_assigned" in error.detail


def test_phase_order_rules() -> None:
    journey = Journey().referent()
    refused(journey, d.StartPhase("investigation", journey.now), "phase_order")
    journey.run(d.StartPhase("preliminary", journey.now))
    refused(journey, d.StartPhase("investigation", journey.now), "phase_order")
    journey.run(d.CompletePhase("preliminary", journey.now))
    refused(journey, d.StartPhase("conclusion", journey.now), "phase_order")
    journey.run(d.StartPhase("investigation", journey.now))
    refused(journey, d.StartPhase("investigation", journey.now), "phase_already_started")
    refused(journey, d.CompletePhase("conclusion", journey.now), "phase_not_started")


def test_investigation_needs_the_preliminary_evidence() -> None:
    journey = Journey()
    journey.run(d.OpenDossier("x", "b", SITE, "cpf", journey.now))
    journey.run(d.AcknowledgeDeontology(1, frozenset({1}), journey.now))
    journey.run(d.DraftConvention("c", "cpf", MENTIONS, 600, 100, journey.now))
    journey.run(d.SendConvention("c", timedelta(days=4), journey.now))
    journey.run(d.SignConvention("c", "beneficiary", journey.now))
    journey.run(d.SignConvention("c", "provider", journey.now))
    journey.run(d.AssignReferent(CONSULTANT, "initial", journey.now))
    journey.run(d.StartPhase("preliminary", journey.now))
    journey.run(d.CompletePhase("preliminary", journey.now))
    error = refused(journey, d.StartPhase("investigation", journey.now), "phase_order")
    assert "needs_analysis_recorded" in error.detail
    assert "programme_agreed" in error.detail


def test_held_time_is_capped_at_24_hours_and_counted_once() -> None:
    state = held_time.HeldTime()
    history = []
    for n in range(5):
        events = held_time.decide(
            state, held_time.RecordHeldSession(f"s{n}", "investigation", 300, T0)
        )
        history.extend(events)
        for event in events:
            state = held_time.evolve(state, event)
    assert state.minutes == 1440
    repeated = held_time.RecordHeldSession("s0", "investigation", 300, T0)
    assert held_time.decide(state, repeated) == []
    follow_up = held_time.RecordHeldSession("f", "follow_up", 60, T0)
    assert held_time.decide(state, follow_up) == []
    capped = history[-1]
    assert isinstance(capped, held_time.HeldSessionRecorded)
    assert (capped.duration_minutes, capped.counted_minutes) == (300, 240)
    assert held_time.fold(history) == state


def test_completion_carries_the_held_minutes() -> None:
    journey = Journey().concluding()
    journey.run(d.HandOverDetailedResults(journey.now))
    journey.run(d.DraftSynthesis("c-1", "enc", journey.now))
    journey.run(d.DeliverSynthesis("hand", journey.now))
    refused(journey, d.CompleteDossier(210, journey.now), "completion_requirements_missing")
    journey.run(d.CompletePhase("conclusion", journey.now))
    refused(journey, d.CompleteDossier(1441, journey.now), "held_minutes_out_of_range")
    (completed,) = journey.run(d.CompleteDossier(210, journey.now))
    assert isinstance(completed, d.DossierCompleted)
    assert completed.held_minutes == 210


def test_assessment_requires_the_instrument_habilitation() -> None:
    journey = Journey().investigating()
    error = refused(
        journey,
        d.AdministerAssessment("a1", PSYCHOMETRIC, CONSULTANT, "enc", journey.now),
        "habilitation_required",
    )
    assert error.status == 403
    (done,) = journey.run(
        d.AdministerAssessment("a1", PSYCHOMETRIC, PSYCHOLOGIST, "enc", journey.now)
    )
    assert isinstance(done, d.AssessmentAdministered)
    assert (done.required_habilitation, done.administered_by) == ("psychometric_tests", "p-1")
    (plain,) = journey.run(d.AdministerAssessment("a2", INTERESTS, CONSULTANT, "enc", journey.now))
    assert isinstance(plain, d.AssessmentAdministered)
    assert plain.required_habilitation is None


def test_assessment_is_refused_before_investigation() -> None:
    journey = Journey().referent()
    refused(
        journey,
        d.AdministerAssessment("a1", INTERESTS, CONSULTANT, "enc", journey.now),
        "phase_not_reached",
    )


def test_synthesis_versions_and_delivery() -> None:
    journey = Journey().concluding()
    refused(journey, d.DeliverSynthesis("hand", journey.now), "no_synthesis_draft")
    journey.run(d.DraftSynthesis("c-1", "v1", journey.now))
    journey.run(d.DraftSynthesis("c-1", "v2", journey.now))
    (delivered,) = journey.run(d.DeliverSynthesis("post", journey.now))
    assert isinstance(delivered, d.SynthesisDelivered)
    assert delivered.synthesis_version == 2
    refused(journey, d.DeliverSynthesis("post", journey.now), "synthesis_already_delivered")


def test_abandon_names_the_phase_under_way() -> None:
    journey = Journey().investigating()
    (abandoned,) = journey.run(d.AbandonDossier("health", "beneficiary", journey.now))
    assert isinstance(abandoned, d.DossierAbandoned)
    assert abandoned.phase_at_abandon == "investigation"
    refused(journey, d.StartPhase("conclusion", journey.now), "dossier_ended")


def test_retention_lasts_at_most_one_year_after_the_end() -> None:
    journey = Journey().completed()
    end = journey.s.ended_at
    assert end is not None
    refused(
        journey,
        d.AgreeRetention(("synthesis",), "follow_up", end + timedelta(days=366), journey.now),
        "retention_too_long",
    )
    events = journey.run(
        d.AgreeRetention(("synthesis",), "follow_up", end + timedelta(days=365), journey.now)
    )
    assert types(events) == ["RetentionAgreed"]


def test_retention_is_refused_before_the_end() -> None:
    journey = Journey().concluding()
    refused(
        journey,
        d.AgreeRetention(
            ("synthesis",), "follow_up", journey.now + timedelta(days=30), journey.now
        ),
        "dossier_not_ended",
    )


def test_destruction_after_grace_spares_retained_documents_until_expiry() -> None:
    journey = Journey().completed()
    end = journey.s.ended_at
    assert end is not None
    journey.run(
        d.AgreeRetention(("synthesis",), "follow_up", end + timedelta(days=180), journey.now)
    )
    grace = timedelta(days=30)
    assert journey.run(d.DestroyDueDocuments(grace), after=timedelta(days=10)) == []
    (first,) = journey.run(d.DestroyDueDocuments(grace), after=timedelta(days=25))
    assert isinstance(first, d.WorkingDocumentsDestroyed)
    assert first.document_classes == ("working_documents",)
    assert journey.run(d.DestroyDueDocuments(grace), after=timedelta(days=100)) == []
    (second,) = journey.run(d.DestroyDueDocuments(grace), after=timedelta(days=60))
    assert isinstance(second, d.WorkingDocumentsDestroyed)
    assert second.document_classes == ("synthesis",)
    assert journey.run(d.DestroyDueDocuments(grace), after=timedelta(days=60)) == []


def test_destruction_without_retention_takes_everything_at_grace() -> None:
    journey = Journey().investigating()
    journey.run(d.AbandonDossier("personal", "beneficiary", journey.now))
    (destroyed,) = journey.run(d.DestroyDueDocuments(timedelta(days=30)), after=timedelta(days=30))
    assert isinstance(destroyed, d.WorkingDocumentsDestroyed)
    assert destroyed.document_classes == ("synthesis", "working_documents")
    assert destroyed.method == "crypto_shred"


def test_consent_is_given_and_revoked() -> None:
    journey = Journey().completed()
    journey.run(d.GiveDisclosureConsent("cep_operator", journey.now))
    refused(journey, d.GiveDisclosureConsent("cep_operator", journey.now), "consent_already_given")
    journey.run(d.RevokeDisclosureConsent("cep_operator", journey.now))
    refused(journey, d.RevokeDisclosureConsent("cep_operator", journey.now), "no_consent")


def test_business_times_keep_the_contract_order() -> None:
    journey = Journey().referent()
    journey.run(d.StartPhase("preliminary", journey.now))
    completed_at = journey.now + timedelta(minutes=30)
    journey.run(d.CompletePhase("preliminary", completed_at), after=timedelta(hours=2))
    error = refused(
        journey,
        d.StartPhase("investigation", completed_at - timedelta(minutes=1)),
        "time_order",
    )
    assert error.status == 422
    assert "phase_completed_preliminary" in error.detail
    journey.run(d.StartPhase("investigation", completed_at))
    refused(
        journey, d.CompletePhase("investigation", completed_at - timedelta(seconds=1)), "time_order"
    )


def test_completion_cannot_be_dated_before_the_synthesis_delivery() -> None:
    journey = Journey().concluding()
    journey.run(d.HandOverDetailedResults(journey.now))
    journey.run(d.DraftSynthesis("c-1", "enc", journey.now))
    journey.run(d.DeliverSynthesis("hand", journey.now))
    delivered_at = journey.now
    journey.run(d.CompletePhase("conclusion", journey.now))
    error = refused(journey, d.CompleteDossier(0, delivered_at - timedelta(days=1)), "time_order")
    assert "synthesis_delivered" in error.detail


def test_synthesis_goes_to_a_third_party_only_with_consent() -> None:
    journey = Journey().completed()
    error = refused(
        journey, d.DiscloseSynthesis("cep_operator", journey.now), "no_disclosure_consent"
    )
    assert error.status == 403
    journey.run(d.GiveDisclosureConsent("cep_operator", journey.now))
    (disclosed,) = journey.run(d.DiscloseSynthesis("cep_operator", journey.now))
    assert isinstance(disclosed, d.SynthesisDisclosed)
    assert disclosed.synthesis_version == 1
    journey.run(d.RevokeDisclosureConsent("cep_operator", journey.now))
    refused(journey, d.DiscloseSynthesis("cep_operator", journey.now), "no_disclosure_consent")


def test_preliminary_evidence_is_closed_once_investigation_starts() -> None:
    journey = Journey().investigating()
    refused(journey, d.RecordNeedsAnalysis("enc", False, journey.now), "phase_passed")
    refused(journey, d.AgreeProgramme(600, "remote", journey.now), "phase_passed")


def test_investigation_and_conclusion_work_waits_for_its_phase() -> None:
    journey = Journey().referent()
    refused(
        journey, d.CompleteFieldInquiry("company_visit", None, journey.now), "phase_not_reached"
    )
    refused(journey, d.IdentifyTrainingNeed("vae", None, None, journey.now), "phase_not_reached")
    refused(journey, d.HandOverDetailedResults(journey.now), "phase_not_reached")
    refused(journey, d.DraftSynthesis("c-1", "enc", journey.now), "phase_not_reached")


def test_detailed_results_are_handed_over_once() -> None:
    journey = Journey().concluding()
    journey.run(d.HandOverDetailedResults(journey.now))
    refused(journey, d.HandOverDetailedResults(journey.now), "results_already_handed_over")


def test_one_convention_in_force_and_sent_once() -> None:
    journey = Journey().sent()
    refused(
        journey,
        d.DraftConvention("conv-2", "tripartite", MENTIONS, 600, 100, journey.now),
        "convention_exists",
    )
    refused(
        journey,
        d.SendConvention("conv-1", timedelta(days=10), journey.now),
        "convention_not_draft",
    )
    refused(
        journey,
        d.SignConvention("conv-1", "employer", journey.now - timedelta(days=1)),
        "signed_before_sent",
    )
    refused(journey, d.SignConvention("nope", "employer", journey.now), "convention_not_found")


def test_an_ended_dossier_refuses_further_work() -> None:
    journey = Journey().completed()
    refused(journey, d.AbandonDossier("other", "provider", journey.now), "dossier_ended")
    refused(journey, d.AcknowledgeDeontology(1, frozenset({1}), journey.now), "dossier_ended")


def test_destroyed_documents_cannot_be_retained_and_erasure_takes_the_rest() -> None:
    journey = Journey().completed()
    end = journey.s.ended_at
    assert end is not None
    journey.run(
        d.AgreeRetention(("synthesis",), "cep_transmission", end + timedelta(days=200), journey.now)
    )
    journey.run(d.DestroyDueDocuments(timedelta(days=30)), after=timedelta(days=31))
    refused(
        journey,
        d.AgreeRetention(
            ("working_documents",), "follow_up", end + timedelta(days=90), journey.now
        ),
        "retention_exists",
    )
    (erased,) = journey.run(d.DestroyAllDocuments())
    assert isinstance(erased, d.WorkingDocumentsDestroyed)
    assert erased.document_classes == ("synthesis",)
    assert journey.run(d.DestroyAllDocuments()) == []
    refused(journey, d.GiveDisclosureConsent("employer", journey.now), "documents_destroyed")


def test_destruction_lands_within_the_grace_period_not_after_it() -> None:
    from datetime import UTC, datetime, timedelta

    from services.dossier.domain.dossier import DESTRUCTION_LEAD, destruction_time

    ended = datetime(2026, 3, 1, 12, tzinfo=UTC)
    deadline = ended + timedelta(days=30)
    assert destruction_time(ended, deadline) == deadline - DESTRUCTION_LEAD
    short = ended + timedelta(minutes=10)
    assert ended < destruction_time(ended, short) < short, "a short grace keeps half of it"
