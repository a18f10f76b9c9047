"""The contract's producer rules (1 to 8, `shared.contracts.prose.RULES`), checked on a log.

Anyone holding a copy of the topics can ask of it what the producers promise: give
`violations()` the records as read (topic, partition, decoded envelope) and it names each
breach, by rule and subject id (never anything personal: the log holds none). Rule 7 is judged
only where its deadline has passed by `as_of`; the others hold at every moment.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from shared.contracts import dossier as d
from shared.contracts import scheduling as s
from shared.contracts.base import IntegrationEvent

if TYPE_CHECKING:
    from shared.envelope import Envelope

BILAN_PHASES = frozenset({"preliminary", "investigation", "conclusion"})
MAX_BILAN_MINUTES = 1_440
DEFAULT_GRACE = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class LogRecord:
    """One record of a topic, decoded."""

    topic: str
    partition: int
    envelope: Envelope


@dataclass(frozen=True, slots=True, order=True)
class Violation:
    rule: int
    subject: str
    detail: str


def one_month_after(moment: datetime) -> datetime:
    """The same day of the next month, or its last day when it is shorter (GDPR art. 12(3))."""
    year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


@dataclass
class _Dossier:
    signed: list[datetime] = field(default_factory=list)
    phase_started: dict[str, list[datetime]] = field(default_factory=lambda: defaultdict(list))
    phase_completed: dict[str, list[datetime]] = field(default_factory=lambda: defaultdict(list))
    needs: list[datetime] = field(default_factory=list)
    programme: list[datetime] = field(default_factory=list)
    synthesis: list[datetime] = field(default_factory=list)
    results: list[datetime] = field(default_factory=list)
    sessions: dict[str, s.SessionHeld] = field(default_factory=dict)
    completed: list[d.DossierCompleted] = field(default_factory=list)
    ends: list[datetime] = field(default_factory=list)
    destroyed: list[datetime] = field(default_factory=list)
    retentions: list[d.RetentionAgreed] = field(default_factory=list)


def violations(
    records: Iterable[LogRecord],
    *,
    as_of: datetime,
    grace: timedelta = DEFAULT_GRACE,
    complete: bool = True,
) -> list[Violation]:
    """Every breach of rules 1 to 8 in the log, sorted.

    `complete=False` for a slice of the topics (read from some offsets on): a subject's
    sequence then need not start at 1, only go on without gaps.
    """
    found: set[Violation] = set()
    by_id: dict[str, Any] = {}
    streams: dict[str, list[tuple[str, int, int]]] = defaultdict(list)
    dossiers: dict[str, _Dossier] = defaultdict(_Dossier)
    habilitations: dict[str, list[tuple[datetime, frozenset[str]]]] = defaultdict(list)
    assessments: list[d.AssessmentAdministered] = []
    requests: dict[str, d.DataSubjectRequestReceived] = {}
    answers: dict[str, set[str]] = defaultdict(set)
    for record in records:
        e = record.envelope
        ce_id = str(e.id)
        content = (e.type, e.subject, e.sequence, e.data.to_json_dict())
        if ce_id in by_id:
            if by_id[ce_id] != content:
                found.add(Violation(1, e.subject, f"ce_id {ce_id} names two different events"))
            continue  # a copy (the relay publishes at least once): consumers drop it
        by_id[ce_id] = content
        streams[f"{record.topic} {e.subject}"].append((e.type, e.sequence, record.partition))
        _collect(e.data, ce_id, dossiers, habilitations, assessments, requests, answers)
    for stream, events in streams.items():
        subject = stream.split(" ", 1)[1]
        if len({partition for _, _, partition in events}) > 1:
            found.add(Violation(2, subject, "one subject's events on several partitions"))
        sequences = [sequence for _, sequence, _ in events]
        first = 1 if complete else sequences[0]
        if sequences != list(range(first, first + len(sequences))):
            found.add(Violation(2, subject, f"ce_sequence {sequences[:8]} is not 1, 2, 3 …"))
    for dossier_id, facts in dossiers.items():
        found.update(_dossier_rules(dossier_id, facts, as_of, grace))
    for a in assessments:
        if a.required_habilitation is None:
            continue
        held = any(
            a.required_habilitation in codes and at <= a.administered_at
            for at, codes in habilitations[str(a.administered_by)]
        )
        if not held:
            found.add(
                Violation(6, str(a.dossier_id), f"administered without {a.required_habilitation}")
            )
    for request_id, received in requests.items():
        if received.due_at != one_month_after(received.received_at):
            found.add(Violation(8, request_id, "due_at is not one month after received_at"))
    for request_id, kinds in answers.items():
        if len(kinds) > 1:
            found.add(Violation(8, request_id, "answered more than once"))
    return sorted(found)


def _collect(
    event: IntegrationEvent,
    ce_id: str,
    dossiers: dict[str, _Dossier],
    habilitations: dict[str, list[tuple[datetime, frozenset[str]]]],
    assessments: list[d.AssessmentAdministered],
    requests: dict[str, d.DataSubjectRequestReceived],
    answers: dict[str, set[str]],
) -> None:
    event = event.upcast()
    if isinstance(event, d.DataSubjectRequestReceived):
        requests[str(event.request_id)] = event
        return
    if isinstance(event, d.DataSubjectRequestFulfilled | d.DataSubjectRequestRefused):
        answers[str(event.request_id)].add(ce_id)
        return
    if isinstance(event, s.QualificationRecorded):
        habilitations[str(event.staff_id)].append(
            (event.recorded_at, frozenset(event.habilitations))
        )
        return
    if isinstance(event, d.AssessmentAdministered):
        assessments.append(event)
    dossier_id = getattr(event, "dossier_id", None)
    if dossier_id is None:
        return
    f = dossiers[str(dossier_id)]
    if isinstance(event, d.ConventionSigned):
        f.signed.append(event.signed_at)
    elif isinstance(event, d.PhaseStarted):
        f.phase_started[event.phase].append(event.started_at)
    elif isinstance(event, d.PhaseCompleted):
        f.phase_completed[event.phase].append(event.completed_at)
    elif isinstance(event, d.NeedsAnalysisRecorded):
        f.needs.append(event.recorded_at)
    elif isinstance(event, d.PersonalisedProgrammeAgreed):
        f.programme.append(event.agreed_at)
    elif isinstance(event, d.SynthesisDelivered):
        f.synthesis.append(event.delivered_at)
    elif isinstance(event, d.DetailedResultsHandedOver):
        f.results.append(event.handed_over_at)
    elif isinstance(event, s.SessionHeld):
        f.sessions[str(event.session_id)] = event
    elif isinstance(event, d.DossierCompleted):
        f.completed.append(event)
        f.ends.append(event.completed_at)
    elif isinstance(event, d.DossierAbandoned):
        f.ends.append(event.abandoned_at)
    elif isinstance(event, d.WithdrawalExercised):
        f.ends.append(event.exercised_at)
    elif isinstance(event, d.WorkingDocumentsDestroyed):
        f.destroyed.append(event.destroyed_at)
    elif isinstance(event, d.RetentionAgreed):
        f.retentions.append(event)


def _before(times: list[datetime], moment: datetime) -> bool:
    return any(t <= moment for t in times)


def _dossier_rules(
    dossier_id: str, f: _Dossier, as_of: datetime, grace: timedelta
) -> Iterable[Violation]:
    bilan = [x for x in f.sessions.values() if x.phase in BILAN_PHASES]
    for session in bilan:
        if not _before(f.signed, session.started_at):
            yield Violation(3, dossier_id, f"session {session.session_id} before ConventionSigned")
    for started in f.phase_started.get("investigation", []):
        parts = (f.phase_completed.get("preliminary", []), f.needs, f.programme)
        if not all(_before(part, started) for part in parts):
            yield Violation(4, dossier_id, "investigation started before its prerequisites")
    for started in f.phase_started.get("conclusion", []):
        if not _before(f.phase_completed.get("investigation", []), started):
            yield Violation(4, dossier_id, "conclusion started before investigation completed")
    for completed in f.completed:
        at = completed.completed_at
        parts = (f.phase_completed.get("conclusion", []), f.synthesis, f.results)
        if not all(_before(part, at) for part in parts):
            yield Violation(5, dossier_id, "completed before conclusion, synthesis and results")
        held = sum(x.duration_minutes for x in bilan)
        if completed.held_minutes != held or held > MAX_BILAN_MINUTES:
            yield Violation(
                5, dossier_id, f"held_minutes {completed.held_minutes}, sessions say {held}"
            )
    if f.ends:
        ended = min(f.ends)
        deadline = ended + grace
        covering = [r.expires_at for r in f.retentions if "working_documents" in r.document_classes]
        if covering:
            deadline = max(deadline, max(covering))
        destroyed = min(f.destroyed, default=None)
        if destroyed is not None and destroyed > deadline:
            yield Violation(7, dossier_id, "working documents destroyed after the deadline")
        if destroyed is None and as_of > deadline:
            yield Violation(7, dossier_id, "working documents not destroyed by the deadline")
