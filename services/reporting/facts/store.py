"""`apply`, the one entry point that folds an event into the fact store.

The only importer of the fact modules: each gives its appliers by event class (`APPLIERS`).
`FactStore` itself lives in `facts.state`, which the fact modules import instead of this one.
"""

from __future__ import annotations

from shared.contracts.base import IntegrationEvent
from shared.envelope import Envelope

from . import complaints, data_requests, dossiers, staff, surveys
from .state import Applier, FactStore, ts

__all__ = ["Applier", "FactStore", "apply", "apply_event", "handles", "ts"]


def _registry() -> dict[type[IntegrationEvent], Applier]:
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
