"""The aggregate kit every command-side service builds on.

Pure parts (standard library only, a domain may import them):

- `shared.aggregate.events`: `DomainEvent`, the base of every domain event (a frozen
  dataclass with a type name, a version and whether it is published);
- `shared.aggregate.codec`: `EventCodec`, domain events to and from stored JSON, with explicit
  `Upcaster`s for older stored versions;
- `shared.aggregate.refusal`: `Refused`, why the domain refuses a command, with a
  machine-readable `RefusalKind` that each service's API maps to an HTTP status once.

Not pure (it talks to the event store): `shared.aggregate.repository.Repository`, which loads an
aggregate (fold with `evolve`) and appends with the expected version and the outbox.
"""

from shared.aggregate.codec import (
    EventCodec,
    MissingField,
    UnknownEventType,
    UnknownEventVersion,
    Upcaster,
)
from shared.aggregate.events import DomainEvent
from shared.aggregate.refusal import (
    RefusalKind,
    Refused,
    conflict,
    forbidden,
    gone,
    invalid,
    not_found,
    refuse,
)

__all__ = [
    "DomainEvent",
    "EventCodec",
    "MissingField",
    "RefusalKind",
    "Refused",
    "UnknownEventType",
    "UnknownEventVersion",
    "Upcaster",
    "conflict",
    "forbidden",
    "gone",
    "invalid",
    "not_found",
    "refuse",
]
