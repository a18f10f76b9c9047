"""Translation of domain events into the integration contract (`events.md`).

A domain event is published when a contract event of the same name exists and the domain
event is not internal; the contract event takes exactly its own fields, so sealed content and
internal ids never reach Kafka whatever the domain event carries.
"""

from __future__ import annotations

import dataclasses

from services.dossier.domain.events import DomainEvent
from shared.contracts import dossier as contract
from shared.contracts.base import IntegrationEvent
from shared.envelope import ORGANISATION_SITE
from shared.eventstore import OutboxMessage
from shared.runtime import outbox_message


def to_contract(event: DomainEvent, **ids: str) -> IntegrationEvent | None:
    """The contract event for `event`, with the ids (dossier_id or subject_id) it is keyed by."""
    if not event.published:
        return None
    model: type[IntegrationEvent] | None = getattr(contract, event.type, None)
    if model is None:
        return None
    values: dict[str, object] = dict(ids)
    for f in dataclasses.fields(event):  # type: ignore[arg-type]
        value = getattr(event, f.name)
        values[f.name] = list(value) if isinstance(value, tuple) else value
    wanted = {name: values[name] for name in model.model_fields if name in values}
    return model.model_validate(wanted)


def dossier_outbox(dossier_id: str, site_id: str, events: list[DomainEvent]) -> list[OutboxMessage]:
    """Outbox messages of a dossier's events: keyed by dossier, on the dossier's site."""
    published = (to_contract(e, dossier_id=dossier_id) for e in events)
    return [outbox_message(c, site_id) for c in published if c is not None]


def beneficiary_outbox(beneficiary_id: str, events: list[DomainEvent]) -> list[OutboxMessage]:
    """Outbox messages of a beneficiary's events: keyed by subject, organisation-wide (the
    person may have dossiers on several sites)."""
    published = (to_contract(e, subject_id=beneficiary_id) for e in events)
    return [outbox_message(c, ORGANISATION_SITE) for c in published if c is not None]
