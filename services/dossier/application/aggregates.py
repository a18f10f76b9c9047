"""The service's aggregates on the kit's `Repository`, typed on the `EventStore` protocol (so
the same handlers run on PostgreSQL and on the in-memory store): the dossier, whose index row
each append refreshes, the beneficiary, and the held time of a bilan.

Every stream is read and written with the one codec of the service's domain events; each
aggregate's `evolve` refuses an event that is not its own.
"""

from __future__ import annotations

from services.dossier.adapters import dossier_index
from services.dossier.application.contract import beneficiary_outbox, dossier_outbox
from services.dossier.domain import beneficiary as b
from services.dossier.domain import dossier as d
from services.dossier.domain import held_time
from services.dossier.domain.events import DomainEvent, codec
from shared.aggregate.repository import Repository
from shared.runtime import ServiceRuntime

# The runtime's event store is looked up at each use: it exists once the runtime started,
# after the handlers are made. The codec is taken when a repository is made: by then every
# domain module (dossier, beneficiary, held time) is imported, so every event type is known.


def dossiers(runtime: ServiceRuntime) -> Repository[d.Dossier, DomainEvent]:
    """Streams `dossier-<id>`: published on the dossier's site, indexed in `dossier_index`."""
    return Repository(
        prefix="dossier",
        codec=codec(),
        evolve=d.evolve,
        store=lambda: runtime.store,
        outbox=dossier_outbox,
        project=dossier_index.refresh,
    )


def beneficiaries(runtime: ServiceRuntime) -> Repository[b.Beneficiary, DomainEvent]:
    """Streams `beneficiary-<id>`: published organisation-wide, keyed by the person."""
    return Repository(
        prefix="beneficiary",
        codec=codec(),
        evolve=b.evolve,
        store=lambda: runtime.store,
        outbox=beneficiary_outbox,
    )


def held_times(runtime: ServiceRuntime) -> Repository[held_time.HeldTime, DomainEvent]:
    """Streams `held-time-<dossier id>`: internal, never published, no read model."""
    return Repository(
        prefix="held-time", codec=codec(), evolve=held_time.evolve, store=lambda: runtime.store
    )
