"""The staff member aggregate: the team a Qualiopi audit looks at (ind. 17, 18, 21, 22).

Roles, sites and contract at onboarding; qualifications and the habilitations they confer
(who may administer which tests); continuous training; periodic competence evaluations;
leaving. A staff member's name is not here: it is personal data kept encrypted by the
application, and nothing below needs it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal, TypeAlias, assert_never
from uuid import UUID

from services.scheduling.domain.errors import conflict, invalid, not_found
from services.scheduling.domain.stored import StoredCodec
from services.scheduling.domain.values import CompetenceOutcome, Contract, StaffRole
from shared.aggregate.events import DomainEvent

MAX_TRAINING_HOURS = 1000.0
PSYCHOMETRIC_TESTS = "psychometric_tests"
PSYCHOLOGIST_TITLES = frozenset(
    {
        "psychologue",
        "master_psychologie",
        "master_psychologie_travail",
        "dess_psychologie",
        "doctorat_psychologie",
    }
)
"""Qualifications giving the title of psychologist (loi 85-772, art. 44; décret 90-255): a
master's degree in psychology, or its predecessors. Psychometric tests are reserved to them."""
Registry = Literal["adeli", "rpps"]
"""Where a psychologist's title is registered: ADELI (9 digits) then RPPS (11 digits)."""
REGISTRATION_DIGITS: dict[str, int] = {"adeli": 9, "rpps": 11}


@dataclass(frozen=True, slots=True)
class OnboardStaffMember:
    staff_id: UUID
    roles: tuple[StaffRole, ...]
    site_ids: tuple[UUID, ...]
    contract: Contract
    known_sites: frozenset[UUID]
    """The sites that exist: a staff member works only at those."""


@dataclass(frozen=True, slots=True)
class RecordQualification:
    qualification: str
    habilitations: tuple[str, ...]
    recorded_at: datetime
    registry: Registry | None = None
    """The register of the psychologist's title, required for psychometric tests."""
    registration_sealed: str | None = None
    """The ADELI or RPPS number, sealed under the staff member's key by the application."""
    registration_number: str | None = None
    """The same number in clear, only to check it here: it never reaches an event."""


@dataclass(frozen=True, slots=True)
class RecordTraining:
    title_code: str
    hours: float
    completed_at: datetime


@dataclass(frozen=True, slots=True)
class EvaluateCompetence:
    outcome: CompetenceOutcome
    evaluated_at: datetime


@dataclass(frozen=True, slots=True)
class RecordLeaving:
    left_at: datetime


Command: TypeAlias = (
    OnboardStaffMember | RecordQualification | RecordTraining | EvaluateCompetence | RecordLeaving
)


@dataclass(frozen=True, slots=True)
class StaffMemberOnboarded(DomainEvent):
    staff_id: UUID
    roles: list[StaffRole]
    site_ids: list[UUID]
    contract: Contract
    onboarded_at: datetime


@dataclass(frozen=True, slots=True)
class QualificationRecorded(DomainEvent):
    qualification: str
    habilitations: list[str]
    recorded_at: datetime
    registry: Registry | None = None
    registration_sealed: str | None = None


@dataclass(frozen=True, slots=True)
class ContinuousTrainingCompleted(DomainEvent):
    title_code: str
    hours: float
    completed_at: datetime


@dataclass(frozen=True, slots=True)
class CompetenceEvaluated(DomainEvent):
    outcome: CompetenceOutcome
    evaluated_at: datetime


@dataclass(frozen=True, slots=True)
class StaffMemberLeft(DomainEvent):
    left_at: datetime


Event: TypeAlias = (
    StaffMemberOnboarded
    | QualificationRecorded
    | ContinuousTrainingCompleted
    | CompetenceEvaluated
    | StaffMemberLeft
)

EVENTS: tuple[type[Event], ...] = (
    StaffMemberOnboarded,
    QualificationRecorded,
    ContinuousTrainingCompleted,
    CompetenceEvaluated,
    StaffMemberLeft,
)
CODEC = StoredCodec[Event](EVENTS)
"""Staff events to and from the store, in the shape they were first stored in."""


@dataclass(frozen=True, slots=True)
class StaffMember:
    staff_id: UUID
    roles: frozenset[str]
    site_ids: frozenset[UUID]
    contract: Contract
    onboarded_at: datetime
    habilitations: frozenset[str] = frozenset()
    left_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.left_at is None


def evolve(state: StaffMember | None, event: Event) -> StaffMember:
    """The staff member after `event`: training and evaluations are records only."""
    match event:
        case StaffMemberOnboarded():
            return StaffMember(
                staff_id=event.staff_id,
                roles=frozenset(event.roles),
                site_ids=frozenset(event.site_ids),
                contract=event.contract,
                onboarded_at=event.onboarded_at,
            )
        case QualificationRecorded():
            member = _onboarded(state, event)
            return replace(member, habilitations=member.habilitations | set(event.habilitations))
        case StaffMemberLeft():
            return replace(_onboarded(state, event), left_at=event.left_at)
        case ContinuousTrainingCompleted() | CompetenceEvaluated():
            return _onboarded(state, event)
        case _:
            assert_never(event)


def _onboarded(state: StaffMember | None, event: Event) -> StaffMember:
    assert state is not None, f"{event.type} before StaffMemberOnboarded"
    return state


def fold(events: list[Event]) -> StaffMember | None:
    state: StaffMember | None = None
    for event in events:
        state = evolve(state, event)
    return state


def decide(state: StaffMember | None, command: Command, now: datetime) -> list[Event]:
    """The events `command` causes, or `Rejected`."""
    match command:
        case OnboardStaffMember():
            return [_onboard(state, command, now)]
        case RecordLeaving():
            member = _working(state)
            _not_future(command.left_at, now)
            if command.left_at < member.onboarded_at:
                raise invalid("time_invalid", "one leaves after joining")
            return [StaffMemberLeft(left_at=command.left_at)]
        case RecordQualification():
            _working(state)
            return [_qualification(command, now)]
        case RecordTraining():
            _working(state)
            _not_future(command.completed_at, now)
            if not 0 < command.hours <= MAX_TRAINING_HOURS:
                raise invalid("hours_invalid", f"hours are between 0 and {MAX_TRAINING_HOURS:g}")
            return [
                ContinuousTrainingCompleted(
                    title_code=command.title_code,
                    # A float, as the event declares (and as it was always stored).
                    hours=float(command.hours),
                    completed_at=command.completed_at,
                )
            ]
        case EvaluateCompetence():
            _working(state)
            _not_future(command.evaluated_at, now)
            return [CompetenceEvaluated(outcome=command.outcome, evaluated_at=command.evaluated_at)]
        case _:
            assert_never(command)


def _onboard(
    state: StaffMember | None, command: OnboardStaffMember, now: datetime
) -> StaffMemberOnboarded:
    if state is not None:
        raise conflict("staff_exists", "this staff member is already onboarded")
    unknown = [s for s in command.site_ids if s not in command.known_sites]
    if unknown:
        raise invalid(
            "site_unknown",
            "a staff member works only at open sites",
            unknown_site_ids=[str(s) for s in unknown],
        )
    if not command.roles or not command.site_ids:
        raise invalid("roles_and_sites_required", "at least one role and one site")
    return StaffMemberOnboarded(
        staff_id=command.staff_id,
        roles=list(dict.fromkeys(command.roles)),
        site_ids=list(dict.fromkeys(command.site_ids)),
        contract=command.contract,
        onboarded_at=now,
    )


def _working(state: StaffMember | None) -> StaffMember:
    """Records are kept of someone onboarded who has not left."""
    if state is None:
        raise not_found("staff_not_found", "no such staff member")
    if not state.active:
        raise conflict("staff_left", "this staff member has left")
    return state


def registration_problem(registry: str | None, number: str | None) -> str | None:
    """What is wrong with a psychologist's registration, or None: the register named, and a
    number of its length in digits (ADELI 9, RPPS 11)."""
    if registry not in REGISTRATION_DIGITS:
        return "registration_registry_required"
    digits = REGISTRATION_DIGITS[registry]
    if number is None or len(number) != digits or not number.isascii() or not number.isdigit():
        return "registration_number_invalid"
    return None


def _qualification(command: RecordQualification, now: datetime) -> QualificationRecorded:
    """Ind. 17: psychometric tests only by a psychologist, whose title is registered."""
    _not_future(command.recorded_at, now)
    if command.registry is not None or command.registration_number is not None:
        problem = registration_problem(command.registry, command.registration_number)
        if problem is not None:
            raise invalid(
                problem,
                "an ADELI number has 9 digits, an RPPS number 11",
                digits=REGISTRATION_DIGITS,
            )
    if PSYCHOMETRIC_TESTS in command.habilitations:
        if command.qualification not in PSYCHOLOGIST_TITLES:
            raise invalid(
                "psychologist_title_required",
                "psychometric tests need a psychologist's title (a master in psychology)",
                accepted_qualifications=sorted(PSYCHOLOGIST_TITLES),
            )
        if command.registry is None or command.registration_number is None:
            raise invalid(
                "psychologist_registration_required",
                "psychometric tests need the title's ADELI or RPPS number",
            )
    return QualificationRecorded(
        qualification=command.qualification,
        habilitations=list(dict.fromkeys(command.habilitations)),
        recorded_at=command.recorded_at,
        registry=command.registry,
        registration_sealed=command.registration_sealed,
    )


def _not_future(moment: datetime, now: datetime) -> None:
    if moment > now:
        raise invalid("time_in_future", "a fact is recorded once it has happened")
