"""Registry of the contract's event types, by CloudEvents type (`bilan.<service>.<Name>.v<N>`).

A consumer reads `ce_type` from the Kafka headers and asks `event_type()` for the model that
validates the value. A type that is not in the contract is an `UnknownEventType`, never a
silent skip: the caller decides whether to park the record or to fail.
"""

from __future__ import annotations

from collections.abc import Iterable

from shared.contracts import dossier, scheduling, survey
from shared.contracts.base import IntegrationEvent

__all__ = ["EVENT_TYPES", "PUBLISHED_TYPES", "UnknownEventType", "event_type"]


class UnknownEventType(LookupError):
    """A `ce_type` that names no event type of the contract."""

    def __init__(self, ce_type: str) -> None:
        self.ce_type = ce_type
        name = ce_type.split(".")[2] if ce_type.count(".") == 3 else None
        near = sorted(known for known, cls in EVENT_TYPES.items() if cls.event_name == name)
        hint = f"; known with this name: {', '.join(near)}" if near else ""
        super().__init__(
            f"unknown event type {ce_type!r}: not in the integration contract "
            f"(expected 'bilan.<service>.<EventName>.v<version>'){hint}"
        )


def _index(event_types: Iterable[type[IntegrationEvent]]) -> dict[str, type[IntegrationEvent]]:
    index: dict[str, type[IntegrationEvent]] = {}
    for cls in event_types:
        ce_type = cls.ce_type()
        if ce_type in index:
            raise RuntimeError(f"{ce_type} is declared twice: {index[ce_type]!r} and {cls!r}")
        index[ce_type] = cls
    return index


EVENT_TYPES: dict[str, type[IntegrationEvent]] = _index(
    (*dossier.EVENTS, *scheduling.EVENTS, *survey.EVENTS)
)
"""Every event type of the contract, keyed by its `ce_type`: what consumers decode."""

PUBLISHED_TYPES: dict[str, type[IntegrationEvent]] = {
    ce_type: cls for ce_type, cls in EVENT_TYPES.items() if cls.published
}
"""The types producers publish: every type but the versions superseded by a newer one."""


def event_type(ce_type: str) -> type[IntegrationEvent]:
    """The model of the event type named `ce_type`; `UnknownEventType` if there is none."""
    try:
        return EVENT_TYPES[ce_type]
    except KeyError:
        raise UnknownEventType(ce_type) from None
