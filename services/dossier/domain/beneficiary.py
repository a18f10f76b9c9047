"""The beneficiary aggregate: identity and contact (sealed under the beneficiary's key) and the
data-subject requests of GDPR art. 15 to 21, each answered once, due one month after receipt.

Pure: identity values arrive sealed; the application shreds keys when erasure is decided.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal, TypeGuard, assert_never, get_args

from services.dossier.domain.errors import GONE, INVALID, NOT_FOUND, refuse
from services.dossier.domain.events import DomainEvent

REQUEST_KINDS = ("access", "rectification", "erasure", "restriction", "objection")
LEGAL_GROUNDS = ("art17_3_b", "art17_3_e", "art12_5_manifestly_unfounded")
"""Grounds for refusing a request: a legal obligation to keep (17(3)(b)), legal claims
(17(3)(e)), a manifestly unfounded or excessive request (12(5))."""


def one_month_after(moment: datetime) -> datetime:
    """The same day of the next month, or its last day when it is shorter (GDPR art. 12(3))."""
    year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


# --- Events -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BeneficiaryRegistered(DomainEvent):
    published = False
    beneficiary_id: str
    sealed_name: str
    sealed_email: str
    sealed_phone: str | None
    registered_at: datetime


@dataclass(frozen=True, slots=True)
class DataSubjectRequestReceived(DomainEvent):
    request_id: str
    kind: str
    received_at: datetime
    due_at: datetime
    sealed_name: str | None = None
    sealed_email: str | None = None
    sealed_phone: str | None = None


@dataclass(frozen=True, slots=True)
class IdentityRectified(DomainEvent):
    published = False
    request_id: str
    sealed_name: str | None
    sealed_email: str | None
    sealed_phone: str | None
    rectified_at: datetime


@dataclass(frozen=True, slots=True)
class DataSubjectRequestFulfilled(DomainEvent):
    request_id: str
    kind: str
    fulfilled_at: datetime


@dataclass(frozen=True, slots=True)
class DataSubjectRequestRefused(DomainEvent):
    request_id: str
    kind: str
    legal_ground: str
    refused_at: datetime


@dataclass(frozen=True, slots=True)
class BeneficiaryErased(DomainEvent):
    erased_at: datetime


@dataclass(frozen=True, slots=True)
class RestrictionLifted(DomainEvent):
    """The restriction of processing (art. 18) ends: the reason for it no longer holds (art.
    18(3): the person is told beforehand). Internal: the contract has no event for it."""

    published = False
    lifted_at: datetime


BeneficiaryEvent = (
    BeneficiaryRegistered
    | DataSubjectRequestReceived
    | IdentityRectified
    | DataSubjectRequestFulfilled
    | DataSubjectRequestRefused
    | BeneficiaryErased
    | RestrictionLifted
)
"""Every event of the beneficiary's stream."""
_BENEFICIARY_EVENTS = get_args(BeneficiaryEvent)


# --- State ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DataRequest:
    request_id: str
    kind: str
    received_at: datetime
    due_at: datetime
    changes: DataSubjectRequestReceived
    status: Literal["open", "fulfilled", "refused"] = "open"
    answered_at: datetime | None = None
    legal_ground: str | None = None


@dataclass(frozen=True, slots=True)
class Beneficiary:
    beneficiary_id: str
    sealed_name: str
    sealed_email: str
    sealed_phone: str | None
    registered_at: datetime
    requests: dict[str, DataRequest] = field(default_factory=dict)
    erased_at: datetime | None = None
    restricted: bool = False
    """A restriction request was fulfilled and not lifted since (art. 18)."""


# --- Commands ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RegisterBeneficiary:
    beneficiary_id: str
    sealed_name: str
    sealed_email: str
    sealed_phone: str | None


@dataclass(frozen=True, slots=True)
class ReceiveDataRequest:
    request_id: str
    kind: str
    received_at: datetime
    sealed_name: str | None = None
    sealed_email: str | None = None
    sealed_phone: str | None = None


@dataclass(frozen=True, slots=True)
class FulfilDataRequest:
    request_id: str
    dossiers_in_progress: int
    fulfilled_at: datetime


@dataclass(frozen=True, slots=True)
class RefuseDataRequest:
    request_id: str
    legal_ground: str
    refused_at: datetime


@dataclass(frozen=True, slots=True)
class LiftRestriction:
    lifted_at: datetime


Command = (
    RegisterBeneficiary
    | ReceiveDataRequest
    | FulfilDataRequest
    | RefuseDataRequest
    | LiftRestriction
)


def decide(state: Beneficiary | None, command: Command, now: datetime) -> list[DomainEvent]:
    """The events a command produces on this beneficiary, or a DomainError."""
    match command:
        case RegisterBeneficiary():
            if state is not None:
                raise refuse("beneficiary_exists", "this beneficiary is already registered")
            return [
                BeneficiaryRegistered(
                    command.beneficiary_id,
                    command.sealed_name,
                    command.sealed_email,
                    command.sealed_phone,
                    now,
                )
            ]
        case LiftRestriction():
            if not _live(state).restricted:
                raise refuse("not_restricted", "no restriction of processing is in force")
            return [RestrictionLifted(command.lifted_at)]
        case ReceiveDataRequest():
            return _receive(_live(state), command)
        case RefuseDataRequest():
            request = _open_request(_live(state), command.request_id)
            if command.legal_ground not in LEGAL_GROUNDS:
                raise refuse(
                    "unknown_legal_ground", "name a legal ground of the list", kind=INVALID
                )
            return [
                DataSubjectRequestRefused(
                    request.request_id, request.kind, command.legal_ground, command.refused_at
                )
            ]
        case FulfilDataRequest():
            return _fulfil(_open_request(_live(state), command.request_id), command)
        case _:
            assert_never(command)


def _live(state: Beneficiary | None) -> Beneficiary:
    """The beneficiary a command other than registration applies to: registered, not erased."""
    if state is None:
        raise refuse("beneficiary_not_found", "no such beneficiary", kind=NOT_FOUND)
    if state.erased_at is not None:
        raise refuse("beneficiary_erased", "this beneficiary's data was erased", kind=GONE)
    return state


def _open_request(state: Beneficiary, request_id: str) -> DataRequest:
    request = state.requests.get(request_id)
    if request is None:
        raise refuse("request_not_found", "no such request", kind=NOT_FOUND)
    if request.status != "open":
        raise refuse("request_answered", "this request has already been answered")
    return request


def _receive(state: Beneficiary, command: ReceiveDataRequest) -> list[DomainEvent]:
    if command.kind not in REQUEST_KINDS:
        raise refuse("unknown_request_kind", "no such data-subject right", kind=INVALID)
    if command.request_id in state.requests:
        raise refuse("request_exists", "a request with this id exists")
    has_changes = any((command.sealed_name, command.sealed_email, command.sealed_phone))
    if (command.kind == "rectification") != has_changes:
        raise refuse(
            "rectification_changes",
            "a rectification names the corrected values, and only a rectification does",
            kind=INVALID,
        )
    return [
        DataSubjectRequestReceived(
            command.request_id,
            command.kind,
            command.received_at,
            one_month_after(command.received_at),
            command.sealed_name,
            command.sealed_email,
            command.sealed_phone,
        )
    ]


def _fulfil(request: DataRequest, command: FulfilDataRequest) -> list[DomainEvent]:
    events: list[DomainEvent] = []
    if request.kind == "rectification":
        changes = request.changes
        events.append(
            IdentityRectified(
                request.request_id,
                changes.sealed_name,
                changes.sealed_email,
                changes.sealed_phone,
                command.fulfilled_at,
            )
        )
    if request.kind == "erasure" and command.dossiers_in_progress:
        raise refuse(
            "erasure_blocked_dossier_in_progress",
            "a bilan under way must be ended first, or the request refused with its legal ground",
        )
    events.append(
        DataSubjectRequestFulfilled(request.request_id, request.kind, command.fulfilled_at)
    )
    if request.kind == "erasure":
        events.append(BeneficiaryErased(command.fulfilled_at))
    return events


def evolve(state: Beneficiary | None, event: DomainEvent) -> Beneficiary:
    """The beneficiary after `event`."""
    if not _is_beneficiary_event(event):
        raise AssertionError(f"{event.type} is not a beneficiary event")
    match event:
        case BeneficiaryRegistered():
            return Beneficiary(
                event.beneficiary_id,
                event.sealed_name,
                event.sealed_email,
                event.sealed_phone,
                event.registered_at,
            )
        case DataSubjectRequestReceived():
            registered = _registered(state)
            request = DataRequest(
                event.request_id, event.kind, event.received_at, event.due_at, event
            )
            return replace(registered, requests={**registered.requests, event.request_id: request})
        case IdentityRectified():
            registered = _registered(state)
            return replace(
                registered,
                sealed_name=event.sealed_name or registered.sealed_name,
                sealed_email=event.sealed_email or registered.sealed_email,
                sealed_phone=event.sealed_phone or registered.sealed_phone,
            )
        case DataSubjectRequestFulfilled():
            answered = _answer(
                _registered(state), event.request_id, "fulfilled", event.fulfilled_at, None
            )
            if event.kind == "restriction":
                return replace(answered, restricted=True)
            return answered
        case RestrictionLifted():
            return replace(_registered(state), restricted=False)
        case DataSubjectRequestRefused():
            return _answer(
                _registered(state),
                event.request_id,
                "refused",
                event.refused_at,
                event.legal_ground,
            )
        case BeneficiaryErased():
            return replace(_registered(state), erased_at=event.erased_at)
        case _:
            assert_never(event)


def _is_beneficiary_event(event: DomainEvent) -> TypeGuard[BeneficiaryEvent]:
    return isinstance(event, _BENEFICIARY_EVENTS)


def _registered(state: Beneficiary | None) -> Beneficiary:
    assert state is not None, "a beneficiary's stream starts with BeneficiaryRegistered"
    return state


def _answer(
    state: Beneficiary,
    request_id: str,
    status: Literal["fulfilled", "refused"],
    at: datetime,
    legal_ground: str | None,
) -> Beneficiary:
    request = replace(
        state.requests[request_id], status=status, answered_at=at, legal_ground=legal_ground
    )
    return replace(state, requests={**state.requests, request_id: request})


def fold(events: list[DomainEvent]) -> Beneficiary | None:
    """The state after a history of events."""
    state: Beneficiary | None = None
    for event in events:
        state = evolve(state, event)
    return state
