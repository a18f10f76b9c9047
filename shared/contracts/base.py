"""Base of the integration event models (the integration contract, v1.1).

Every event published on Kafka is one of these models: the data fields only. The CloudEvents
envelope (`shared.envelope`) adds id, type, time, subject, sequence and the extensions.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar
from uuid import UUID

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, PlainSerializer

_RFC3339_DATE_TIME = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})", re.ASCII
)


def _require_rfc3339(value: object) -> object:
    # Left alone, pydantic reads a number or a numeric string as a Unix timestamp (seconds or
    # milliseconds, guessed from its size) and accepts a time without seconds: silent
    # coercions that the contract's "RFC 3339 times" does not allow.
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and _RFC3339_DATE_TIME.fullmatch(value):
        return value
    raise ValueError(
        "time must be an RFC 3339 date-time with a timezone, e.g. 2025-03-03T09:00:00Z"
    )


def _require_utc(value: datetime) -> datetime:
    # The contract says UTC RFC 3339 times; a naive datetime is ambiguous, so it is refused
    # rather than guessed.
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("time must carry a timezone (UTC RFC 3339)")
    return value.astimezone(UTC)


def format_utc(value: datetime) -> str:
    """RFC 3339 in UTC with a `Z` suffix, microseconds only when present."""
    text = value.astimezone(UTC).isoformat()
    return text.replace("+00:00", "Z")


UtcDatetime = Annotated[
    datetime,
    BeforeValidator(_require_rfc3339),
    AfterValidator(_require_utc),
    PlainSerializer(format_utc, return_type=str, when_used="json"),
]
"""A timezone-aware datetime, normalised to UTC and serialised as RFC 3339 with `Z`."""

Id = Annotated[UUID, PlainSerializer(str, return_type=str, when_used="json")]
"""A pseudonymous identifier (UUID)."""


class IntegrationEvent(BaseModel):
    """One event type of the contract.

    Subclasses declare, as class variables, which service publishes them, under which name, and
    which data fields give the Kafka key, the CloudEvents subject and the business time.
    """

    model_config = ConfigDict(
        frozen=True, extra="forbid", strict=False, use_attribute_docstrings=True
    )

    service: ClassVar[str]
    """`dossier`, `scheduling` or `survey`: names the topic and `ce_source`."""
    event_name: ClassVar[str]
    """PascalCase name, as in `events.md`."""
    event_version: ClassVar[int] = 1
    key_field: ClassVar[str]
    """Data field whose value is the Kafka key (the contract's partition key)."""
    subject_field: ClassVar[str]
    """Data field naming the aggregate that emitted the event (`ce_subject`)."""
    time_field: ClassVar[str]
    """Data field holding the business time of the fact (`ce_time`)."""
    published: ClassVar[bool] = True
    """False for a type version superseded by a newer one: still decoded (the topics keep the
    whole history), never published again."""

    @classmethod
    def optional_fields(cls) -> frozenset[str]:
        """Fields added after the type's first version (v1.1): absent from older records."""
        return frozenset(name for name, info in cls.model_fields.items() if not info.is_required())

    @classmethod
    def ce_type(cls) -> str:
        return f"bilan.{cls.service}.{cls.event_name}.v{cls.event_version}"

    @classmethod
    def topic(cls) -> str:
        return f"bilan.{cls.service}.events"

    @classmethod
    def ce_source(cls) -> str:
        return f"/bilan/{cls.service}"

    def partition_key(self) -> str:
        return str(getattr(self, self.key_field))

    def subject(self) -> str:
        return str(getattr(self, self.subject_field))

    def occurred_at(self) -> datetime:
        value = getattr(self, self.time_field)
        assert isinstance(value, datetime)
        return value

    def upcast(self) -> IntegrationEvent:
        """The same fact in the current version of its type (itself, unless superseded)."""
        return self

    def to_json_dict(self) -> dict[str, Any]:
        """The Kafka value: snake_case keys, UTC RFC 3339 times, ids as strings.

        An optional field without a value is left out rather than written `null`: "optional"
        in the contract means the key may be absent (as it is in records older than it).
        """
        data = self.model_dump(mode="json")
        for name in self.optional_fields():
            if data.get(name) is None:
                data.pop(name, None)
        return data
