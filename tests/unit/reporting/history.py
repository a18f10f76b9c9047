"""Hand-built event histories for the reporting projections, without a broker."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from services.reporting.facts import FactStore, apply_event
from services.reporting.indicators import QueryEngine, checklist, compute
from shared.contracts import IntegrationEvent
from tests.unit.contracts.examples import example

SITE_A = str(uuid.UUID("aaaaaaaa-0000-4000-8000-000000000001"))
SITE_B = str(uuid.UUID("bbbbbbbb-0000-4000-8000-000000000002"))


def at(text: str) -> datetime:
    """`at("2025-01-10T09:00")`: a UTC time."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def new_id() -> uuid.UUID:
    return uuid.uuid4()


@dataclass
class History:
    """Events with their ce_ids, folded into a fresh store on demand."""

    events: list[tuple[str, IntegrationEvent]] = field(default_factory=list)

    def add(self, cls: type[IntegrationEvent], **fields: Any) -> IntegrationEvent:
        event = example(cls, **fields)
        self.events.append((str(uuid.uuid4()), event))
        return event

    def store(self, events: list[tuple[str, IntegrationEvent]] | None = None) -> FactStore:
        store = FactStore()
        for ce_id, event in self.events if events is None else events:
            apply_event(store, ce_id, event)
        return store

    def figures(
        self, first: str, after_last: str, site: str | None = None, **options: Any
    ) -> dict[str, Any]:
        engine = QueryEngine(self.store())
        return compute(
            engine, date.fromisoformat(first), date.fromisoformat(after_last), site, **options
        )

    def value(self, name: str, first: str, after_last: str, site: str | None = None) -> Any:
        return self.figures(first, after_last, site)[name]["value"]

    def checklist(self, dossier_id: uuid.UUID) -> dict[str, Any] | None:
        return checklist(QueryEngine(self.store()), str(dossier_id))
