"""The service's aggregates on the kit's `Repository`, typed on the `EventStore` protocol (so
the same handlers run on PostgreSQL and on the in-memory store): the dossier, whose index row
each append refreshes, the beneficiary, and the held time of a bilan.

Every stream is read and written with the one codec of the service's domain events; each
aggregate's `evolve` refuses an event that is not its own.
"""

from __future__ import annotations

from typing import TypeVar

from services.dossier.adapters import dossier_index
from services.dossier.application.contract import beneficiary_outbox, dossier_outbox
from services.dossier.domain import beneficiary as b
from services.dossier.domain import dossier as d
from services.dossier.domain import held_time
from services.dossier.domain.events import DomainEvent, codec
from shared.aggregate.repository import Evolve, OutboxOf, Project, Repository
from shared.runtime import ServiceRuntime

S = TypeVar("S")

# The runtime's event store is looked up at each use: it exists once the runtime started,
# after the handlers are made. The codec is taken when a repository is made: by then every
# domain module (dossier, beneficiary, held time) is imported, so every event type is known.


def dossiers(runtime: ServiceRuntime) -> Repository[d.Dossier, DomainEvent]:
    """Streams `dossier-<id>`: published on the dossier's site, indexed in `dossier_index`."""
    return _on(runtime, "dossier", d.evolve, dossier_outbox, dossier_index.refresh)


def beneficiaries(runtime: ServiceRuntime) -> Repository[b.Beneficiary, DomainEvent]:
    """Streams `beneficiary-<id>`: published organisation-wide, keyed by the person."""
    return _on(runtime, "beneficiary", b.evolve, beneficiary_outbox)


def held_times(runtime: ServiceRuntime) -> Repository[held_time.HeldTime, DomainEvent]:
    """Streams `held-time-<dossier id>`: internal, never published, no read model."""
    return _on(runtime, "held-time", held_time.evolve)


def _on(
    runtime: ServiceRuntime,
    prefix: str,
    evolve: Evolve[S, DomainEvent],
    outbox: OutboxOf[S, DomainEvent] | None = None,
    project: Project[S] | None = None,
) -> Repository[S, DomainEvent]:
    return Repository(
        prefix=prefix,
        codec=codec(),
        evolve=evolve,
        store=lambda: runtime.store,
        outbox=outbox,
        project=project,
    )
