"""The state of a session, as its events leave it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal
from uuid import UUID

from services.scheduling.domain.values import BILAN_PHASES, Modality, Phase

Status = Literal["scheduled", "cancelled", "no_show", "held"]


@dataclass(frozen=True, slots=True)
class Session:
    session_id: UUID
    dossier_id: UUID
    site_id: UUID
    consultant_id: UUID
    room_id: UUID | None
    modality: Modality
    phase: Phase
    starts_at: datetime
    planned_minutes: int
    join_link: str | None
    status: Status = "scheduled"
    revision: int = 0
    """How many times it was moved: reminders of an earlier start are told apart by it."""
    held_started_at: datetime | None = None
    held_minutes: int | None = None
    signatures: dict[str, datetime] = field(default_factory=dict)
    reminders_sent: int = 0

    @property
    def counts_towards_cap(self) -> bool:
        return self.phase in BILAN_PHASES

    def cap_minutes(self) -> int:
        """Minutes this session takes from the 24 hours: planned while live, held once held."""
        if not self.counts_towards_cap:
            return 0
        if self.status == "held":
            return self.held_minutes or 0
        if self.status == "scheduled":
            return self.planned_minutes
        return 0
