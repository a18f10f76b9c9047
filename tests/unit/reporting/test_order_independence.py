"""Property: figures do not depend on arrival order across topics, nor on redeliveries."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.reporting.facts import FactStore, apply_event
from services.reporting.facts.merge import merge_into
from services.reporting.facts.model import KINDS
from services.reporting.indicators import QueryEngine, checklist, compute
from shared.contracts import (
    CompetenceEvaluated,
    ComplaintAcknowledged,
    ComplaintClosed,
    ComplaintReceived,
    ContinuousTrainingCompleted,
    ConventionSigned,
    DataSubjectRequestFulfilled,
    DataSubjectRequestReceived,
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
    RetentionAgreed,
    SessionHeld,
    SixMonthSituationReported,
    StaffMemberLeft,
    StaffMemberOnboarded,
    SurveyAnswered,
    SurveySent,
    SynthesisDelivered,
    WorkingDocumentsDestroyed,
)
from tests.unit.contracts.examples import example

from .history import SITE_A, SITE_B

BASE = datetime(2025, 1, 1, tzinfo=UTC)
DOSSIERS = [uuid.UUID(int=i + 1) for i in range(4)]
SURVEYS = [uuid.UUID(int=100 + i) for i in range(3)]
COMPLAINTS = [uuid.UUID(int=200 + i) for i in range(2)]
STAFF = [uuid.UUID(int=300 + i) for i in range(2)]
ACTIONS = [uuid.UUID(int=400 + i) for i in range(2)]
REQUESTS = [uuid.UUID(int=500 + i) for i in range(2)]

hours = st.integers(min_value=0, max_value=24 * 120).map(lambda h: BASE + timedelta(hours=h))
dossier = st.sampled_from(DOSSIERS)
site = st.sampled_from([SITE_A, SITE_B])
phase = st.sampled_from(["preliminary", "investigation", "conclusion"])
session_phase = st.sampled_from(
    ["information", "preliminary", "investigation", "conclusion", "follow_up"]
)


def ev(
    cls: type[IntegrationEvent], **fields: st.SearchStrategy[Any]
) -> st.SearchStrategy[IntegrationEvent]:
    return st.fixed_dictionaries(fields).map(lambda data: example(cls, **data))


def later(
    cls: type[IntegrationEvent], start: str, end: str, **fields: st.SearchStrategy[Any]
) -> st.SearchStrategy[IntegrationEvent]:
    """An event whose `end` time comes strictly after its `start` time (a contract rule)."""
    delta = st.integers(min_value=1, max_value=24 * 60).map(lambda h: timedelta(hours=h))

    def build(data: dict[str, Any]) -> IntegrationEvent:
        gap = data.pop("_gap")
        return example(cls, **data, **{end: data[start] + gap})

    return st.fixed_dictionaries({**fields, start: hours, "_gap": delta}).map(build)


EVENTS = st.one_of(
    ev(DossierOpened, dossier_id=dossier, site_id=site, enquiry_received_at=hours, opened_at=hours),
    ev(PhaseStarted, dossier_id=dossier, phase=phase, started_at=hours),
    ev(PhaseCompleted, dossier_id=dossier, phase=phase, completed_at=hours),
    ev(ConventionSigned, dossier_id=dossier, signed_at=hours),
    ev(DeontologyInformationAcknowledged, dossier_id=dossier, acknowledged_at=hours),
    ev(NeedsAnalysisRecorded, dossier_id=dossier, recorded_at=hours),
    ev(PersonalisedProgrammeAgreed, dossier_id=dossier, agreed_at=hours),
    ev(SynthesisDelivered, dossier_id=dossier, delivered_at=hours),
    ev(DetailedResultsHandedOver, dossier_id=dossier, handed_over_at=hours),
    ev(DossierCompleted, dossier_id=dossier, held_minutes=st.integers(0, 1440), completed_at=hours),
    ev(
        DossierAbandoned,
        dossier_id=dossier,
        phase_at_abandon=st.none() | phase,
        reason_category=st.sampled_from(["health", "funding", "other"]),
        abandoned_at=hours,
    ),
    ev(WorkingDocumentsDestroyed, dossier_id=dossier, destroyed_at=hours),
    later(RetentionAgreed, "agreed_at", "expires_at", dossier_id=dossier),
    ev(FieldInquiryCompleted, dossier_id=dossier, completed_at=hours),
    ev(
        SessionHeld,
        session_id=st.uuids(),
        dossier_id=dossier,
        phase=session_phase,
        started_at=hours,
        duration_minutes=st.integers(1, 900),
    ),
    ev(NoShowRecorded, session_id=st.uuids(), dossier_id=dossier, recorded_at=hours),
    ev(
        SixMonthSituationReported,
        dossier_id=dossier,
        survey_id=st.uuids(),
        situation=st.sampled_from(["new_job", "unchanged"]),
        reported_at=hours,
    ),
    later(
        SurveySent,
        "sent_at",
        "expires_at",
        survey_id=st.sampled_from(SURVEYS),
        dossier_id=dossier,
        campaign=st.sampled_from(["end_of_bilan", "six_months"]),
    ),
    ev(
        SurveyAnswered,
        survey_id=st.sampled_from(SURVEYS),
        dossier_id=dossier,
        campaign=st.sampled_from(["end_of_bilan", "six_months"]),
        satisfaction_score=st.integers(1, 5),
        answered_at=hours,
    ),
    ev(
        ComplaintReceived, complaint_id=st.sampled_from(COMPLAINTS), site_id=site, received_at=hours
    ),
    ev(ComplaintAcknowledged, complaint_id=st.sampled_from(COMPLAINTS), acknowledged_at=hours),
    ev(ComplaintClosed, complaint_id=st.sampled_from(COMPLAINTS), closed_at=hours),
    ev(
        ImprovementActionOpened,
        action_id=st.sampled_from(ACTIONS),
        site_id=st.none() | site,
        opened_at=hours,
        due_at=hours,
    ),
    ev(ImprovementActionCompleted, action_id=st.sampled_from(ACTIONS), completed_at=hours),
    ev(
        StaffMemberOnboarded,
        staff_id=st.sampled_from(STAFF),
        roles=st.sampled_from([["consultant"], ["psychologist", "consultant"]]),
        site_ids=st.sampled_from([[SITE_A], [SITE_A, SITE_B]]),
        onboarded_at=hours,
    ),
    ev(StaffMemberLeft, staff_id=st.sampled_from(STAFF), left_at=hours),
    ev(
        ContinuousTrainingCompleted,
        staff_id=st.sampled_from(STAFF),
        hours=st.floats(0, 40, allow_nan=False, allow_infinity=False),
        completed_at=hours,
    ),
    ev(CompetenceEvaluated, staff_id=st.sampled_from(STAFF), evaluated_at=hours),
    later(
        DataSubjectRequestReceived,
        "received_at",
        "due_at",
        request_id=st.sampled_from(REQUESTS),
    ),
    ev(DataSubjectRequestFulfilled, request_id=st.sampled_from(REQUESTS), fulfilled_at=hours),
)

PERIODS = [
    (date(2025, 1, 1), date(2025, 2, 1)),
    (date(2025, 1, 15), date(2025, 4, 1)),
    (date(2024, 6, 1), date(2026, 1, 1)),
]


def figures(events: list[tuple[str, IntegrationEvent]]) -> list[Any]:
    store = FactStore()
    for ce_id, event in events:
        apply_event(store, ce_id, event)
    engine = QueryEngine(store)
    out: list[Any] = [
        compute(engine, first, after, scope)
        for first, after in PERIODS
        for scope in (None, SITE_A, SITE_B)
    ]
    out.extend(checklist(engine, str(d)) for d in DOSSIERS)
    return out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    history=st.lists(EVENTS, min_size=1, max_size=40),
    data=st.data(),
)
def test_duplicates_and_reordering_do_not_change_figures(
    history: list[IntegrationEvent], data: st.DataObject
) -> None:
    events = [(str(uuid.uuid4()), event) for event in history]
    redelivered = data.draw(st.lists(st.sampled_from(events), max_size=10))
    reordered = data.draw(st.permutations(events + redelivered))
    assert figures(reordered) == figures(events)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history=st.lists(EVENTS, min_size=1, max_size=40), data=st.data())
def test_merging_the_facts_of_two_halves_equals_applying_everything(
    history: list[IntegrationEvent], data: st.DataObject
) -> None:
    events = [(str(uuid.uuid4()), event) for event in history]
    in_first = data.draw(st.lists(st.booleans(), min_size=len(events), max_size=len(events)))
    first, second = FactStore(), FactStore()
    for (ce_id, event), left in zip(events, in_first, strict=True):
        apply_event(first if left else second, ce_id, event)
    merge_into(first, second)
    whole = FactStore()
    for ce_id, event in events:
        apply_event(whole, ce_id, event)
    for kind in KINDS:
        assert first.table(kind) == whole.table(kind)
    assert first.last_event_at == whole.last_event_at
    engine = QueryEngine(first)
    assert [
        compute(engine, a, b, scope) for a, b in PERIODS for scope in (None, SITE_A, SITE_B)
    ] == figures(events)[: len(PERIODS) * 3]
