"""The base of every domain event: a frozen dataclass named by its type and version.

Standard library only: a domain imports it.
"""

from __future__ import annotations

from typing import ClassVar


class DomainEvent:
    """Base of domain events; subclasses are frozen dataclasses of plain values.

    `event_type` is the name the event is stored under (the class name unless set), and
    `event_version` the version of its fields: raise it when a field changes, and give the
    codec an upcaster from the previous version (`shared.aggregate.codec.Upcaster`).
    """

    __slots__ = ()

    event_type: ClassVar[str]
    event_version: ClassVar[int] = 1
    published: ClassVar[bool] = True
    """False for internal facts that have no contract event (e.g. a held session's minutes)."""

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if "event_type" not in cls.__dict__:
            cls.event_type = cls.__name__

    @property
    def type(self) -> str:
        return self.event_type
