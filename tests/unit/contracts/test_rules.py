"""`shared.contracts.rules`: a lawful log has no violation, and each rule's breach is named."""

from __future__ import annotations

import uuid
import zlib
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.contracts import (
    AssessmentAdministered,
    ConventionSigned,
    DataSubjectRequestFulfilled,
    DataSubjectRequestReceived,
    DataSubjectRequestRefused,
    DetailedResultsHandedOver,
    DossierCompleted,
    IntegrationEvent,
    NeedsAnalysisRecorded,
    PersonalisedProgrammeAgreed,
    PhaseCompleted,
    PhaseStarted,
    QualificationRecorded,
    RetentionAgreed,
    SessionHeld,
    SixMonthSituationReported,
    SixMonthSituationReportedV1,
    SurveySent,
    SynthesisDelivered,
    WithdrawalExercised,
    WorkingDocumentsDestroyed,
)
from shared.contracts.rules import LogRecord, Violation, violations
from shared.envelope import Envelope
from tests.unit.contracts.examples import example

T = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
DOSSIER = uuid.uuid4()
STAFF = uuid.uuid4()


def at(days: float) -> datetime:
    return T + timedelta(days=days)


class Log:
    """Records as the topics would hold them: a sequence per subject, a partition per key."""

    def __init__(self) -> None:
        self.records: list[LogRecord] = []
        self._sequences: dict[str, int] = defaultdict(int)

    def add(self, cls: type[IntegrationEvent], **fields: Any) -> Envelope:
        event = example(cls, **fields)
        self._sequences[f"{event.topic()} {event.subject()}"] += 1
        envelope = Envelope(
            id=uuid.uuid4(),
            source=event.ce_source(),
            type=event.ce_type(),
            time=event.occurred_at(),
            subject=event.subject(),
            sequence=self._sequences[f"{event.topic()} {event.subject()}"],
            site_id="org",
            correlation_id="c",
            causation_id="c",
            data=event,
        )
        partition = zlib.crc32(event.partition_key().encode()) % 6
        self.records.append(LogRecord(event.topic(), partition, envelope))
        return envelope

    def check(self, as_of: datetime | None = None) -> list[Violation]:
        return violations(self.records, as_of=as_of or at(400))


def lawful_bilan(log: Log) -> None:
    """One dossier from signature to destruction, every rule kept."""
    log.add(ConventionSigned, dossier_id=DOSSIER, signed_at=at(0))
    log.add(
        QualificationRecorded,
        staff_id=STAFF,
        habilitations=["psychometric_tests"],
        recorded_at=at(0),
    )
    held = [("preliminary", 1, 120), ("investigation", 10, 600), ("conclusion", 20, 120)]
    for phase, day, minutes in held:
        log.add(
            SessionHeld,
            session_id=uuid.uuid4(),
            dossier_id=DOSSIER,
            phase=phase,
            started_at=at(day),
            duration_minutes=minutes,
        )
    log.add(PhaseStarted, dossier_id=DOSSIER, phase="preliminary", started_at=at(1))
    log.add(NeedsAnalysisRecorded, dossier_id=DOSSIER, recorded_at=at(2))
    log.add(PersonalisedProgrammeAgreed, dossier_id=DOSSIER, agreed_at=at(3))
    log.add(PhaseCompleted, dossier_id=DOSSIER, phase="preliminary", completed_at=at(4))
    log.add(PhaseStarted, dossier_id=DOSSIER, phase="investigation", started_at=at(5))
    log.add(
        AssessmentAdministered,
        dossier_id=DOSSIER,
        required_habilitation="psychometric_tests",
        administered_by=STAFF,
        administered_at=at(11),
    )
    log.add(PhaseCompleted, dossier_id=DOSSIER, phase="investigation", completed_at=at(15))
    log.add(PhaseStarted, dossier_id=DOSSIER, phase="conclusion", started_at=at(16))
    log.add(PhaseCompleted, dossier_id=DOSSIER, phase="conclusion", completed_at=at(21))
    log.add(SynthesisDelivered, dossier_id=DOSSIER, delivered_at=at(21))
    log.add(DetailedResultsHandedOver, dossier_id=DOSSIER, handed_over_at=at(21))
    log.add(DossierCompleted, dossier_id=DOSSIER, held_minutes=840, completed_at=at(22))
    log.add(WorkingDocumentsDestroyed, dossier_id=DOSSIER, destroyed_at=at(51))
    request, subject = uuid.uuid4(), uuid.uuid4()
    received = datetime(2025, 1, 31, 10, 0, tzinfo=UTC)
    log.add(
        DataSubjectRequestReceived,
        request_id=request,
        subject_id=subject,
        received_at=received,
        due_at=datetime(2025, 2, 28, 10, 0, tzinfo=UTC),  # the month is shorter: its last day
    )
    log.add(DataSubjectRequestFulfilled, request_id=request, subject_id=subject, fulfilled_at=at(1))


def test_a_lawful_log_has_no_violation_and_copies_are_no_breach() -> None:
    log = Log()
    lawful_bilan(log)
    log.records.append(log.records[3])  # the relay published one record twice
    assert log.check() == []


def _rules(log: Log, **kw: Any) -> set[int]:
    return {v.rule for v in log.check(**kw)}


def test_rule_1_one_ce_id_for_two_events() -> None:
    log = Log()
    lawful_bilan(log)
    first = log.records[0].envelope
    other = log.add(PhaseStarted, dossier_id=uuid.uuid4(), phase="preliminary", started_at=at(1))
    forged = Envelope(**{**{f: getattr(other, f) for f in other.__slots__}, "id": first.id})
    assert log.check() == [], "one id per event so far"
    log.records[-1] = LogRecord(log.records[-1].topic, log.records[-1].partition, forged)
    assert 1 in _rules(log)


def test_rule_2_gaps_disorder_and_a_subject_on_two_partitions() -> None:
    log = Log()
    lawful_bilan(log)
    del log.records[5]  # a gap in the dossier's sequence
    assert 2 in _rules(log)
    # The v1 six-month situation was keyed by dossier, its survey's other events by survey.
    v1 = Log()
    # A survey whose key lands on another partition than the dossier's (a random one shares
    # it one time in six, and then no rule is broken).
    survey = next(
        candidate
        for candidate in (uuid.uuid4() for _ in range(100))
        if zlib.crc32(str(candidate).encode()) % 6 != zlib.crc32(str(DOSSIER).encode()) % 6
    )
    v1.add(SurveySent, survey_id=survey, dossier_id=DOSSIER)
    v1.add(SixMonthSituationReportedV1, survey_id=survey, dossier_id=DOSSIER)
    assert [v.detail for v in v1.check()] == ["one subject's events on several partitions"]
    v2 = Log()
    v2.add(SurveySent, survey_id=survey, dossier_id=DOSSIER)
    v2.add(SixMonthSituationReported, survey_id=survey, dossier_id=DOSSIER)
    assert v2.check() == []


@pytest.mark.parametrize(
    ("rule", "change"),
    [
        (3, {"cls": ConventionSigned, "signed_at": at(1.5)}),
        (4, {"cls": NeedsAnalysisRecorded, "recorded_at": at(6)}),
        (4, {"cls": PhaseCompleted, "phase": "investigation", "completed_at": at(17)}),
        (5, {"cls": SynthesisDelivered, "delivered_at": at(23)}),
        (5, {"cls": DossierCompleted, "held_minutes": 900, "completed_at": at(22)}),
        (6, {"cls": QualificationRecorded, "habilitations": [], "recorded_at": at(0)}),
        (7, {"cls": WorkingDocumentsDestroyed, "destroyed_at": at(53)}),
    ],
)
def test_rules_3_to_7_each_breach_is_named(rule: int, change: dict[str, Any]) -> None:
    log = Log()
    lawful_bilan(log)
    cls = change.pop("cls")
    # Replace, in place, the lawful event of that type (the first one) with a breaching one.
    index = next(i for i, r in enumerate(log.records) if type(r.envelope.data) is cls)
    record = log.records[index]
    data = cls.model_validate({**record.envelope.data.model_dump(), **change})
    fields = {f: getattr(record.envelope, f) for f in record.envelope.__slots__}
    envelope = Envelope(**{**fields, "data": data, "time": data.occurred_at()})
    log.records[index] = LogRecord(record.topic, record.partition, envelope)
    assert _rules(log) == {rule}


def test_rule_7_after_a_withdrawal_and_with_a_retention() -> None:
    log = Log()
    withdrawn = uuid.uuid4()
    log.add(WithdrawalExercised, dossier_id=withdrawn, exercised_at=at(0))
    assert _rules(log, as_of=at(29)) == set(), "not due yet"
    assert _rules(log, as_of=at(31)) == {7}
    log.add(
        RetentionAgreed,
        dossier_id=withdrawn,
        document_classes=["working_documents"],
        agreed_at=at(1),
        expires_at=at(200),
    )
    assert _rules(log, as_of=at(31)) == set()
    assert _rules(log, as_of=at(201)) == {7}


def test_rule_8_due_date_and_a_single_answer() -> None:
    log = Log()
    request, subject = uuid.uuid4(), uuid.uuid4()
    log.add(
        DataSubjectRequestReceived,
        request_id=request,
        subject_id=subject,
        received_at=at(0),
        due_at=at(30),  # 2025-04-02, not 2025-04-03
    )
    log.add(DataSubjectRequestFulfilled, request_id=request, subject_id=subject, fulfilled_at=at(1))
    log.add(DataSubjectRequestRefused, request_id=request, subject_id=subject, refused_at=at(2))
    assert [v.detail for v in log.check()] == [
        "answered more than once",
        "due_at is not one month after received_at",
    ]


def test_a_slice_of_the_topics_need_not_start_at_sequence_1() -> None:
    log = Log()
    lawful_bilan(log)
    sliced = log.records[2:]
    assert {v.rule for v in violations(sliced, as_of=at(400))} >= {2}
    assert [v for v in violations(sliced, as_of=at(400), complete=False) if v.rule == 2] == []
