"""The held time of a bilan: the sessions of its three phases, learnt from the scheduling
service, counted up to the legal ceiling of 24 hours (L6313-4, contract rule 5).

It is an aggregate of its own, beside the dossier, so that a session counted in the background
never makes a person's concurrent edit of the dossier fail as stale.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from services.dossier.domain.events import DomainEvent

BILAN_PHASES = frozenset({"preliminary", "investigation", "conclusion"})
MAX_HELD_MINUTES = 1440
"""A bilan lasts at most 24 hours of accompanied time (L6313-4)."""


@dataclass(frozen=True, slots=True)
class HeldSessionRecorded(DomainEvent):
    """A session of the bilan held; `counted_minutes` is what fits under the ceiling."""

    published = False
    session_id: str
    phase: str
    duration_minutes: int
    counted_minutes: int
    started_at: datetime


@dataclass(frozen=True, slots=True)
class HeldTime:
    sessions: dict[str, int] = field(default_factory=dict)

    @property
    def minutes(self) -> int:
        return sum(self.sessions.values())


@dataclass(frozen=True, slots=True)
class RecordHeldSession:
    session_id: str
    phase: str
    duration_minutes: int
    started_at: datetime


def decide(state: HeldTime | None, command: RecordHeldSession) -> list[DomainEvent]:
    """Count a session once; sessions outside the bilan phases (follow-up) never count."""
    held = state or HeldTime()
    if command.phase not in BILAN_PHASES or command.session_id in held.sessions:
        return []
    # The cap is a legal ceiling: time beyond it is recorded but never counted.
    room = max(MAX_HELD_MINUTES - held.minutes, 0)
    counted = min(max(command.duration_minutes, 0), room)
    return [
        HeldSessionRecorded(
            command.session_id, command.phase, command.duration_minutes, counted, command.started_at
        )
    ]


def evolve(state: HeldTime | None, event: DomainEvent) -> HeldTime:
    held = state or HeldTime()
    assert isinstance(event, HeldSessionRecorded)
    return replace(held, sessions={**held.sessions, event.session_id: event.counted_minutes})


def fold(events: list[DomainEvent]) -> HeldTime:
    state = HeldTime()
    for event in events:
        state = evolve(state, event)
    return state
