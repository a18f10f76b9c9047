"""A valid example of every integration event type, for tests.

`example(SessionHeld)` returns a validated `SessionHeld`; keyword arguments replace fields
(`example(SessionHeld, duration_minutes=90)`) and go through validation too. Ids are stable
(UUID 5 of a readable name, see `example_id`) and times are fixed, so examples compare equal
between calls and across test modules. Adding an event type to the contract without adding
an example here makes `example()` raise, and `test_every_event_type_has_an_example` fail.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from shared.contracts import (
    EVENT_TYPES,
    PUBLISHED_TYPES,
    AssessmentAdministered,
    AttendanceSigned,
    BeneficiaryErased,
    CompetenceEvaluated,
    ComplaintAcknowledged,
    ComplaintAnswered,
    ComplaintClosed,
    ComplaintReceived,
    ContinuousTrainingCompleted,
    ConventionDeemedRefused,
    ConventionDrafted,
    ConventionSentForSignature,
    ConventionSigned,
    ConventionSignedByParty,
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
    IntegrationEvent,
    NeedsAnalysisRecorded,
    NoShowRecorded,
    PersonalisedProgrammeAgreed,
    PhaseCompleted,
    PhaseStarted,
    QualificationRecorded,
    ReferentConsultantAssigned,
    RetentionAgreed,
    RoomRegistered,
    SessionCancelled,
    SessionHeld,
    SessionReminderSent,
    SessionRescheduled,
    SessionScheduled,
    SiteOpened,
    SixMonthSituationReported,
    SixMonthSituationReportedV1,
    StaffMemberLeft,
    StaffMemberOnboarded,
    SurveyAnswered,
    SurveyCancelled,
    SurveyExpired,
    SurveyReminderSent,
    SurveySent,
    SynthesisDelivered,
    ThirdPartyDisclosureConsentGiven,
    ThirdPartyDisclosureConsentRevoked,
    TrainingNeedIdentified,
    WithdrawalExercised,
    WorkingDocumentsDestroyed,
)

__all__ = ["T0", "all_examples", "example", "example_data", "example_id"]

E = TypeVar("E", bound=IntegrationEvent)

_NAMESPACE = uuid.UUID("6f1d3c2a-5b7e-4c1d-9a8f-0e2b4d6c8a10")


def example_id(name: str) -> uuid.UUID:
    """A stable UUID for a readable name: `example_id("dossier")` is the example dossier."""
    return uuid.uuid5(_NAMESPACE, name)


T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
"""Monday 3 March 2025, 09:00 UTC: the business time around which the examples happen."""


def _at(days: float = 0, hours: float = 0, minutes: float = 0) -> datetime:
    return T0 + timedelta(days=days, hours=hours, minutes=minutes)


DOSSIER = example_id("dossier")
BENEFICIARY = example_id("beneficiary")
SITE = example_id("site")
ROOM = example_id("room")
CONSULTANT = example_id("consultant")
PSYCHOLOGIST = example_id("psychologist")
CONVENTION = example_id("convention")
SESSION = example_id("session")
SURVEY = example_id("survey")
COMPLAINT = example_id("complaint")
ACTION = example_id("improvement-action")
REQUEST = example_id("data-subject-request")

_DATA: dict[type[IntegrationEvent], dict[str, Any]] = {
    # --- bilan.dossier.events ---
    DossierOpened: {
        "dossier_id": DOSSIER,
        "beneficiary_id": BENEFICIARY,
        "site_id": SITE,
        "funding_route": "cpf",
        "enquiry_received_at": _at(days=-7),
        "opened_at": _at(),
    },
    DeontologyInformationAcknowledged: {
        "dossier_id": DOSSIER,
        "notice_version": 3,
        "acknowledged_at": _at(minutes=10),
    },
    NeedsAnalysisRecorded: {
        "dossier_id": DOSSIER,
        "disability_accommodation_requested": False,
        "recorded_at": _at(hours=1),
    },
    PersonalisedProgrammeAgreed: {
        "dossier_id": DOSSIER,
        "planned_minutes": 1200,
        "modality": "mixed",
        "agreed_at": _at(hours=1, minutes=30),
    },
    ConventionDrafted: {
        "dossier_id": DOSSIER,
        "convention_id": CONVENTION,
        "kind": "tripartite",
        "required_parties": ["beneficiary", "provider", "employer"],
        "duration_minutes": 1440,
        "price_cents": 180_000,
        "drafted_at": _at(days=1),
    },
    ConventionSentForSignature: {
        "dossier_id": DOSSIER,
        "convention_id": CONVENTION,
        "sent_at": _at(days=1, hours=1),
        "acceptance_deadline": _at(days=11, hours=1),
    },
    ConventionSignedByParty: {
        "dossier_id": DOSSIER,
        "convention_id": CONVENTION,
        "party": "employer",
        "signed_at": _at(days=3),
        "method": "electronic",
    },
    ConventionSigned: {
        "dossier_id": DOSSIER,
        "convention_id": CONVENTION,
        "signed_at": _at(days=4),
    },
    ConventionDeemedRefused: {
        "dossier_id": DOSSIER,
        "convention_id": CONVENTION,
        "acceptance_deadline": _at(days=11, hours=1),
        "refused_at": _at(days=11, hours=1, minutes=5),
    },
    WithdrawalExercised: {
        "dossier_id": DOSSIER,
        "convention_id": CONVENTION,
        "exercised_at": _at(days=6),
    },
    ReferentConsultantAssigned: {
        "dossier_id": DOSSIER,
        "consultant_id": CONSULTANT,
        "previous_consultant_id": None,
        "reason": "initial",
        "assigned_at": _at(minutes=5),
    },
    PhaseStarted: {
        "dossier_id": DOSSIER,
        "phase": "preliminary",
        "started_at": _at(days=5),
    },
    PhaseCompleted: {
        "dossier_id": DOSSIER,
        "phase": "preliminary",
        "completed_at": _at(days=12),
    },
    AssessmentAdministered: {
        "dossier_id": DOSSIER,
        "instrument_id": example_id("instrument"),
        "required_habilitation": "psychometric_tests",
        "administered_by": PSYCHOLOGIST,
        "administered_at": _at(days=20),
    },
    FieldInquiryCompleted: {
        "dossier_id": DOSSIER,
        "contact_type": "professional_interview",
        "completed_at": _at(days=25),
    },
    TrainingNeedIdentified: {
        "dossier_id": DOSSIER,
        "kind": "vae",
        "certification_code": "RNCP35185",
        "identified_at": _at(days=30),
    },
    DetailedResultsHandedOver: {
        "dossier_id": DOSSIER,
        "handed_over_at": _at(days=40),
    },
    SynthesisDelivered: {
        "dossier_id": DOSSIER,
        "synthesis_version": 1,
        "channel": "secure_download",
        # Fractional seconds: the round trip must keep them.
        "delivered_at": _at(days=40, hours=1) + timedelta(microseconds=250_000),
    },
    ThirdPartyDisclosureConsentGiven: {
        "dossier_id": DOSSIER,
        "recipient": "cep_operator",
        "given_at": _at(days=40, hours=2),
    },
    ThirdPartyDisclosureConsentRevoked: {
        "dossier_id": DOSSIER,
        "recipient": "cep_operator",
        "revoked_at": _at(days=45),
    },
    DossierCompleted: {
        "dossier_id": DOSSIER,
        "held_minutes": 1350,
        "completed_at": _at(days=41),
    },
    DossierAbandoned: {
        "dossier_id": DOSSIER,
        "phase_at_abandon": "investigation",
        "reason_category": "employment_found",
        "initiated_by": "beneficiary",
        "abandoned_at": _at(days=22),
    },
    RetentionAgreed: {
        "dossier_id": DOSSIER,
        "document_classes": ["synthesis"],
        "justification": "follow_up",
        "agreed_at": _at(days=40, hours=3),
        "expires_at": _at(days=40 + 365),
    },
    WorkingDocumentsDestroyed: {
        "dossier_id": DOSSIER,
        "document_classes": ["working_documents"],
        "method": "crypto_shred",
        "destroyed_at": _at(days=71),
    },
    DataSubjectRequestReceived: {
        "request_id": REQUEST,
        "subject_id": BENEFICIARY,
        "kind": "access",
        "received_at": _at(days=50),
        "due_at": datetime(2025, 5, 22, 9, 0, tzinfo=UTC),  # one calendar month later
    },
    DataSubjectRequestFulfilled: {
        "request_id": REQUEST,
        "subject_id": BENEFICIARY,
        "kind": "access",
        "fulfilled_at": _at(days=60),
    },
    DataSubjectRequestRefused: {
        "request_id": REQUEST,
        "subject_id": BENEFICIARY,
        "kind": "erasure",
        "legal_ground": "art17_3_b",
        "refused_at": _at(days=60),
    },
    BeneficiaryErased: {
        "subject_id": BENEFICIARY,
        "erased_at": _at(days=400),
    },
    # --- bilan.scheduling.events ---
    SiteOpened: {
        "site_id": SITE,
        "name": "Centre de Lyon Part-Dieu",
        "region": "Auvergne-Rhône-Alpes",
        "opened_at": _at(days=-400),
    },
    RoomRegistered: {
        "room_id": ROOM,
        "site_id": SITE,
        "confidential": True,
        "registered_at": _at(days=-399),
    },
    StaffMemberOnboarded: {
        "staff_id": PSYCHOLOGIST,
        "roles": ["consultant", "psychologist"],
        "site_ids": [SITE, example_id("other-site")],
        "contract": "employee",
        "onboarded_at": _at(days=-300),
    },
    StaffMemberLeft: {
        "staff_id": PSYCHOLOGIST,
        "left_at": _at(days=300),
    },
    QualificationRecorded: {
        "staff_id": PSYCHOLOGIST,
        "qualification": "master_psychology",
        "habilitations": ["psychometric_tests", "projective_tests"],
        "recorded_at": _at(days=-299),
    },
    ContinuousTrainingCompleted: {
        "staff_id": PSYCHOLOGIST,
        "title_code": "career_guidance_update",
        "hours": 10.5,
        "completed_at": _at(days=-30),
    },
    CompetenceEvaluated: {
        "staff_id": PSYCHOLOGIST,
        "outcome": "meets",
        "evaluated_at": _at(days=-10),
    },
    SessionScheduled: {
        "session_id": SESSION,
        "dossier_id": DOSSIER,
        "consultant_id": CONSULTANT,
        "site_id": SITE,
        "room_id": ROOM,
        "modality": "in_person",
        "phase": "preliminary",
        "starts_at": _at(days=7),
        "planned_minutes": 120,
        "scheduled_at": _at(days=4, hours=1),
    },
    SessionRescheduled: {
        "session_id": SESSION,
        "dossier_id": DOSSIER,
        "starts_at": _at(days=8),
        "previous_starts_at": _at(days=7),
        "requested_by": "beneficiary",
        "rescheduled_at": _at(days=5),
    },
    SessionCancelled: {
        "session_id": SESSION,
        "dossier_id": DOSSIER,
        "cancelled_by": "provider",
        "notice_hours": 36.5,
        "reason": "illness",
        "cancelled_at": _at(days=6, hours=-12, minutes=30),
    },
    SessionHeld: {
        "session_id": SESSION,
        "dossier_id": DOSSIER,
        "consultant_id": CONSULTANT,
        "site_id": SITE,
        "phase": "preliminary",
        "modality": "in_person",
        "started_at": _at(days=8, minutes=3),
        "duration_minutes": 115,
    },
    AttendanceSigned: {
        "session_id": SESSION,
        "dossier_id": DOSSIER,
        "signer_role": "beneficiary",
        "signed_at": _at(days=8, hours=2),
    },
    NoShowRecorded: {
        "session_id": SESSION,
        "dossier_id": DOSSIER,
        "recorded_at": _at(days=8, minutes=30),
    },
    SessionReminderSent: {
        "session_id": SESSION,
        "dossier_id": DOSSIER,
        "channel": "sms",
        "sent_at": _at(days=7),
    },
    # --- bilan.survey.events ---
    SurveySent: {
        "survey_id": SURVEY,
        "dossier_id": DOSSIER,
        "campaign": "end_of_bilan",
        "respondent_role": "beneficiary",
        "questionnaire_version": 2,
        "sent_at": _at(days=41, hours=1),
        "expires_at": _at(days=71, hours=1),
    },
    SurveyReminderSent: {
        "survey_id": SURVEY,
        "reminder_number": 1,
        "sent_at": _at(days=48),
    },
    SurveyAnswered: {
        "survey_id": SURVEY,
        "dossier_id": DOSSIER,
        "campaign": "end_of_bilan",
        "satisfaction_score": 4,
        "scores": {"welcome": 9, "consultant_listening": 10, "usefulness": 0},
        "answered_at": _at(days=49),
    },
    SurveyExpired: {
        "survey_id": SURVEY,
        "expired_at": _at(days=71, hours=1),
    },
    SurveyCancelled: {
        "survey_id": SURVEY,
        "reason": "dossier_withdrawn",
        "cancelled_at": _at(days=50),
    },
    SixMonthSituationReported: {
        "dossier_id": DOSSIER,
        "survey_id": example_id("six-month-survey"),
        "situation": "in_training",
        "reported_at": _at(days=230),
    },
    SixMonthSituationReportedV1: {
        "dossier_id": DOSSIER,
        "survey_id": example_id("six-month-survey"),
        "situation": "in_training",
        "reported_at": _at(days=230),
    },
    ComplaintReceived: {
        "complaint_id": COMPLAINT,
        "site_id": SITE,
        "dossier_id": DOSSIER,
        "complainant_role": "beneficiary",
        "category": "organisation",
        "received_at": _at(days=15),
    },
    ComplaintAcknowledged: {
        "complaint_id": COMPLAINT,
        "acknowledged_at": _at(days=16),
    },
    ComplaintAnswered: {
        "complaint_id": COMPLAINT,
        "answered_at": _at(days=25),
    },
    ComplaintClosed: {
        "complaint_id": COMPLAINT,
        "resolution": "partially_upheld",
        "closed_at": _at(days=26),
    },
    ImprovementActionOpened: {
        "action_id": ACTION,
        "source": "complaint",
        "source_id": COMPLAINT,
        "site_id": SITE,
        "due_at": _at(days=60),
        "opened_at": _at(days=26, hours=1),
    },
    ImprovementActionCompleted: {
        "action_id": ACTION,
        "completed_at": _at(days=55),
    },
}


def example(cls: type[E], **overrides: Any) -> E:
    """A valid instance of the event type `cls`, with `overrides` replacing fields."""
    try:
        data = _DATA[cls]
    except KeyError:
        raise LookupError(
            f"no example for {cls.__qualname__}: add one to tests/unit/contracts/examples.py"
        ) from None
    return cls.model_validate({**data, **overrides})


def example_data(cls: type[IntegrationEvent], **overrides: Any) -> dict[str, Any]:
    """The Kafka value (JSON-ready dict) of `example(cls, **overrides)`."""
    return example(cls, **overrides).to_json_dict()


def all_examples() -> Iterator[IntegrationEvent]:
    """One example of every published event type of the registry, in registry order."""
    for cls in PUBLISHED_TYPES.values():
        yield example(cls)


def all_decodable_examples() -> Iterator[IntegrationEvent]:
    """One example of every event type consumers decode, superseded versions included."""
    for cls in EVENT_TYPES.values():
        yield example(cls)
