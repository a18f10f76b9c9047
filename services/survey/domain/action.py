"""The improvement action aggregate (Qualiopi indicator 32): opened from a source, completed.

An action says what the centre changes because of a complaint, a survey, an abandonment, an
audit or anything else; the auditor looks for actions that are followed through on time.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal, assert_never
from uuid import UUID

from services.survey.domain.complaint import FUTURE_LEEWAY, past_due
from services.survey.domain.errors import InvalidCommand, NotAllowedNow, NotFound
from shared.aggregate.events import DomainEvent

Source = Literal["complaint", "survey", "abandonment", "audit", "other"]
SOURCES_WITH_ID: frozenset[Source] = frozenset({"complaint", "survey", "abandonment"})
"""Sources that are a record of the system (a complaint, survey or dossier id), so traceable."""


@dataclass(frozen=True, slots=True)
class ActionOpened(DomainEvent):
    action_id: UUID
    source: Source
    source_id: UUID | None
    site_id: UUID | None
    owner_id: str
    sealed_description: str
    due_at: datetime
    opened_at: datetime


@dataclass(frozen=True, slots=True)
class ActionCompleted(DomainEvent):
    completed_at: datetime


ActionEvent = ActionOpened | ActionCompleted


@dataclass(frozen=True, slots=True)
class OpenAction:
    action_id: UUID
    source: Source
    source_id: UUID | None
    site_id: UUID | None
    owner_id: str
    sealed_description: str
    due_at: datetime


@dataclass(frozen=True, slots=True)
class CompleteAction:
    completed_at: datetime | None


ActionCommand = OpenAction | CompleteAction


@dataclass(frozen=True, slots=True)
class ImprovementAction:
    action_id: UUID
    source: Source
    source_id: UUID | None
    site_id: UUID | None
    owner_id: str
    sealed_description: str
    due_at: datetime
    opened_at: datetime
    completed_at: datetime | None = None

    def overdue(self, now: datetime) -> bool:
        """Not completed and past its due date."""
        return past_due(self.completed_at, self.due_at, now)


def evolve(state: ImprovementAction | None, event: ActionEvent) -> ImprovementAction:
    """The action after `event`."""
    match event:
        case ActionOpened():
            return ImprovementAction(
                action_id=event.action_id,
                source=event.source,
                source_id=event.source_id,
                site_id=event.site_id,
                owner_id=event.owner_id,
                sealed_description=event.sealed_description,
                due_at=event.due_at,
                opened_at=event.opened_at,
            )
        case ActionCompleted():
            assert state is not None, "an action starts with ActionOpened"
            return replace(state, completed_at=event.completed_at)
        case _:
            assert_never(event)


def decide(
    state: ImprovementAction | None, command: ActionCommand, now: datetime
) -> list[ActionEvent]:
    """The events `command` causes, or a `DomainError`."""
    match command:
        case OpenAction():
            if state is not None:
                raise NotAllowedNow("action_exists", "this action already exists")
            if command.due_at.tzinfo is None:
                raise InvalidCommand("naive_time", "times must carry a timezone")
            if command.due_at <= now:
                raise InvalidCommand("due_date_in_past", "an action is due after it is opened")
            if command.source_id is None and command.source in SOURCES_WITH_ID:
                raise InvalidCommand(
                    "source_id_required",
                    "an action from a complaint, survey or abandonment names it",
                )
            return [
                ActionOpened(
                    action_id=command.action_id,
                    source=command.source,
                    source_id=command.source_id,
                    site_id=command.site_id,
                    owner_id=command.owner_id,
                    sealed_description=command.sealed_description,
                    due_at=command.due_at,
                    opened_at=now,
                )
            ]
        case CompleteAction():
            if state is None:
                raise NotFound("action_not_found", "no such improvement action")
            if state.completed_at is not None:
                raise NotAllowedNow("action_already_completed", "this action is already completed")
            at = command.completed_at or now
            if at.tzinfo is None:
                raise InvalidCommand("naive_time", "times must carry a timezone")
            if at > now + FUTURE_LEEWAY:
                raise InvalidCommand(
                    "time_in_future", "a fact cannot be recorded before it happens"
                )
            if at < state.opened_at:
                raise InvalidCommand(
                    "time_before_previous_step", "an action is completed after it opens"
                )
            return [ActionCompleted(at)]
        case _:
            assert_never(command)
