"""The in-memory fact store: every entity's facts by kind, and what changed since the last save.

The fact modules (dossiers, surveys, …) build on it; `facts.store` imports them to route each
event to its applier, so that they never import `facts.store` back (no import cycle).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from .model import (
    ActionFacts,
    ComplaintFacts,
    DataRequestFacts,
    DossierFacts,
    SiteFacts,
    StaffFacts,
    SurveyFacts,
)

T = TypeVar("T")
_TABLES = {
    "dossier": "dossiers",
    "survey": "surveys",
    "complaint": "complaints",
    "action": "actions",
    "staff": "staff",
    "data_request": "data_requests",
    "site": "sites",
}
"""Attribute of `FactStore` holding each kind's entities (looked up per applied event)."""


def ts(value: datetime) -> float:
    """POSIX seconds of an aware datetime."""
    return value.timestamp()


@dataclass(slots=True)
class FactStore:
    """Every entity's facts, the entities changed since the last save, and a change counter."""

    dossiers: dict[str, DossierFacts] = field(default_factory=dict)
    surveys: dict[str, SurveyFacts] = field(default_factory=dict)
    complaints: dict[str, ComplaintFacts] = field(default_factory=dict)
    actions: dict[str, ActionFacts] = field(default_factory=dict)
    staff: dict[str, StaffFacts] = field(default_factory=dict)
    data_requests: dict[str, DataRequestFacts] = field(default_factory=dict)
    sites: dict[str, SiteFacts] = field(default_factory=dict)
    dirty: set[tuple[str, str]] = field(default_factory=set)
    """`(kind, id)` of entities to persist."""
    changed_dossiers: set[str] = field(default_factory=set)
    """Dossiers whose derived query rows are stale (drained by the query engine)."""
    version: int = 0
    """Grows with every applied event: query caches are valid for one version."""
    last_event_at: float | None = None
    """Latest business time (`ce_time`) seen."""

    def table(self, kind: str) -> dict[str, Any]:
        """The dict of entities of `kind` (a key of `facts.model.KINDS`)."""
        table: dict[str, Any] = getattr(self, _TABLES[kind])
        return table

    def touch(self, kind: str, entity_id: str, factory: Callable[[], T]) -> T:
        """The entity's facts, created if new, marked as changed."""
        table = self.table(kind)
        found = table.get(entity_id)
        if found is None:
            found = table[entity_id] = factory()
        self.dirty.add((kind, entity_id))
        if kind == "dossier":
            self.changed_dossiers.add(entity_id)
        return found


Applier = Callable[[FactStore, str, Any], None]
"""Folds one event (with its `ce_id`) into the store."""
