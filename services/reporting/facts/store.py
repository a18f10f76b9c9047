"""The in-memory fact store and `apply`, the one entry point that folds an event into it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from shared.contracts.base import IntegrationEvent
from shared.envelope import Envelope

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


def _registry() -> dict[type[IntegrationEvent], Applier]:
    # Imported here: the feature modules import FactStore from this module.
    from . import complaints, data_requests, dossiers, staff, surveys

    found: dict[type[IntegrationEvent], Applier] = {}
    for module in (dossiers, surveys, complaints, staff, data_requests):
        found.update(module.APPLIERS)
    return found


_APPLIERS: dict[type[IntegrationEvent], Applier] | None = None
"""By event class: `apply` runs per event, and `ce_type()` formats a new string per call."""


def handles(ce_type: str) -> bool:
    """Whether any projection needs events of this type (others are read and skipped)."""
    return any(cls.ce_type() == ce_type for cls in _appliers())


def _appliers() -> dict[type[IntegrationEvent], Applier]:
    global _APPLIERS
    if _APPLIERS is None:
        _APPLIERS = _registry()
    return _APPLIERS


def apply(store: FactStore, envelope: Envelope) -> None:
    """Fold one decoded event into the store: commutative and idempotent (see facts.model)."""
    event = envelope.data
    # `envelope.time` is the event's `occurred_at()`, already looked up by `decode`.
    _count(store, ts(envelope.time))
    applier = _appliers().get(type(event))
    if applier is not None:
        # `str(UUID)` only for events that are kept: most of a replay is not (reminders,
        # schedules, attendance signatures).
        applier(store, str(envelope.id), event)


def apply_event(store: FactStore, ce_id: str, event: IntegrationEvent) -> None:
    """`apply` for an event known by its `ce_id` and data alone (tests, replays)."""
    _count(store, ts(event.occurred_at()))
    applier = _appliers().get(type(event))
    if applier is not None:
        applier(store, ce_id, event)


def _count(store: FactStore, at: float) -> None:
    store.version += 1
    if store.last_event_at is None or at > store.last_event_at:
        store.last_event_at = at
