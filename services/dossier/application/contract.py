"""Translation of domain events into the integration contract (`events.md`).

A domain event is published when a contract event of the same name exists and the domain
event is not internal; the contract event takes exactly its own fields, so sealed content and
internal ids never reach Kafka whatever the domain event carries.
"""

from __future__ import annotations

import dataclasses

from services.dossier.domain.beneficiary import Beneficiary
from services.dossier.domain.dossier import Dossier
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


def dossier_outbox(state: Dossier, event: DomainEvent) -> list[OutboxMessage]:
    """Outbox messages of a new dossier event: keyed by dossier, on the dossier's site."""
    published = to_contract(event, dossier_id=state.dossier_id)
    return [] if published is None else [outbox_message(published, state.site_id)]


def beneficiary_outbox(state: Beneficiary, event: DomainEvent) -> list[OutboxMessage]:
    """Outbox messages of a new beneficiary event: keyed by subject, organisation-wide (the
    person may have dossiers on several sites)."""
    published = to_contract(event, subject_id=state.beneficiary_id)
    return [] if published is None else [outbox_message(published, ORGANISATION_SITE)]
