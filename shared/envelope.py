"""CloudEvents 1.0 envelope in Kafka binary content mode, exactly as `events.md` says.

`encode` turns a contract event plus its envelope attributes into a Kafka record; `decode` does
the reverse and validates everything, raising `EnvelopeError` with a reason that is safe to log
(it never quotes the payload, which must not carry personal data anyway).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import orjson
from pydantic import ValidationError

from shared.contracts.base import IntegrationEvent, format_utc
from shared.contracts.registry import UnknownEventType, event_type

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/json"
ORGANISATION_SITE = "org"
"""`ce_siteid` of organisation-wide facts."""

Headers = list[tuple[str, bytes]]
_DECIMAL = re.compile(r"^[1-9][0-9]*$")


class EnvelopeError(ValueError):
    """A record that is not a valid contract event; `reason` is a short machine-readable code."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class KafkaRecord:
    """What goes to the broker: topic, key, value and headers."""

    topic: str
    key: bytes
    value: bytes
    headers: Headers


@dataclass(frozen=True, slots=True)
class Envelope:
    """A decoded, validated event with its CloudEvents attributes."""

    id: UUID
    source: str
    type: str
    time: datetime
    subject: str
    sequence: int
    site_id: str
    correlation_id: str
    causation_id: str
    data: IntegrationEvent


def validate_site_id(site_id: str) -> str:
    """A site id is a UUID, or `org` for organisation-wide facts."""
    if site_id == ORGANISATION_SITE:
        return site_id
    try:
        return str(UUID(site_id))
    except ValueError:
        raise EnvelopeError("bad_site_id", "ce_siteid must be a UUID or 'org'") from None


def build_headers(
    *,
    event_id: UUID | str,
    ce_type: str,
    source: str,
    time: datetime | str,
    subject: str,
    sequence: int,
    site_id: str,
    correlation_id: str,
    causation_id: str,
) -> Headers:
    """The `ce_*` headers of one event, in the contract's order."""
    time_text = time if isinstance(time, str) else format_utc(time)
    return [
        ("ce_specversion", SPEC_VERSION.encode()),
        ("ce_id", str(event_id).encode()),
        ("ce_source", source.encode()),
        ("ce_type", ce_type.encode()),
        ("ce_time", time_text.encode()),
        ("ce_subject", subject.encode()),
        ("ce_sequence", str(sequence).encode()),
        ("ce_siteid", site_id.encode()),
        ("ce_correlationid", correlation_id.encode()),
        ("ce_causationid", causation_id.encode()),
        ("content-type", CONTENT_TYPE.encode()),
    ]


def serialize_data(event: IntegrationEvent) -> bytes:
    """Validate the event again (it may have been built without validation) and dump its JSON."""
    data = event.to_json_dict()
    try:
        type(event).model_validate(data)
    except ValidationError as exc:
        raise EnvelopeError("invalid_data", _summarise(exc)) from None
    return orjson.dumps(data)


def encode(
    event: IntegrationEvent,
    *,
    event_id: UUID,
    sequence: int,
    site_id: str,
    correlation_id: str,
    causation_id: str,
) -> KafkaRecord:
    """The Kafka record of `event`; `sequence` is its subject's stream version (1, 2, …)."""
    if sequence < 1:
        raise EnvelopeError("bad_sequence", "ce_sequence starts at 1")
    value = serialize_data(event)
    headers = build_headers(
        event_id=event_id,
        ce_type=event.ce_type(),
        source=event.ce_source(),
        time=event.occurred_at(),
        subject=event.subject(),
        sequence=sequence,
        site_id=validate_site_id(site_id),
        correlation_id=correlation_id,
        causation_id=causation_id,
    )
    return KafkaRecord(event.topic(), event.partition_key().encode(), value, headers)


def decode(key: bytes | None, value: bytes | None, headers: Headers | None) -> Envelope:
    """Validate and decode one Kafka record; any defect raises `EnvelopeError`."""
    found = _header_map(headers or [])
    if found.get("ce_specversion") != SPEC_VERSION:
        raise EnvelopeError("bad_specversion", "ce_specversion must be 1.0")
    if found.get("content-type", CONTENT_TYPE).split(";")[0].strip() != CONTENT_TYPE:
        raise EnvelopeError("bad_content_type", "content-type must be application/json")
    ce_type = _required(found, "ce_type")
    try:
        model = event_type(ce_type)
    except UnknownEventType:
        raise EnvelopeError("unknown_type", f"no contract event type {ce_type!r}") from None
    source = _required(found, "ce_source")
    if source != model.ce_source():
        raise EnvelopeError("bad_source", f"{ce_type} comes from {model.ce_source()}, not {source}")
    try:
        event_id = UUID(_required(found, "ce_id"))
    except ValueError:
        raise EnvelopeError("bad_id", "ce_id must be a UUID") from None
    sequence_text = _required(found, "ce_sequence")
    if not _DECIMAL.match(sequence_text):
        raise EnvelopeError("bad_sequence", "ce_sequence must be a positive decimal")
    if value is None:
        raise EnvelopeError("missing_value", "the record has no value")
    try:
        raw = orjson.loads(value)
    except orjson.JSONDecodeError:
        raise EnvelopeError("bad_json", "the value is not JSON") from None
    if not isinstance(raw, dict):
        raise EnvelopeError("bad_json", "the value must be a JSON object")
    try:
        data = model.model_validate(raw)
    except ValidationError as exc:
        raise EnvelopeError("invalid_data", _summarise(exc)) from None
    _check_consistency(found, key, data)
    return Envelope(
        id=event_id,
        source=source,
        type=ce_type,
        time=data.occurred_at(),
        subject=data.subject(),
        sequence=int(sequence_text),
        site_id=validate_site_id(_required(found, "ce_siteid")),
        correlation_id=_required(found, "ce_correlationid"),
        causation_id=_required(found, "ce_causationid"),
        data=data,
    )


def _check_consistency(found: dict[str, str], key: bytes | None, data: IntegrationEvent) -> None:
    if key is None or key.decode("utf-8", "replace") != data.partition_key():
        raise EnvelopeError("bad_key", f"the key must be the event's {data.key_field}")
    if _required(found, "ce_subject") != data.subject():
        raise EnvelopeError("bad_subject", f"ce_subject must be the event's {data.subject_field}")
    try:
        header_time = datetime.fromisoformat(_required(found, "ce_time"))
    except ValueError:
        raise EnvelopeError("bad_time", "ce_time must be RFC 3339") from None
    if header_time.tzinfo is None or header_time != data.occurred_at():
        raise EnvelopeError("bad_time", f"ce_time must equal the event's {data.time_field}")


def _header_map(headers: Headers) -> dict[str, str]:
    found: dict[str, str] = {}
    for name, raw in headers:
        try:
            found[name] = raw.decode("utf-8") if raw is not None else ""
        except UnicodeDecodeError:
            raise EnvelopeError("bad_header", f"header {name} is not UTF-8") from None
    return found


def _required(found: dict[str, str], name: str) -> str:
    text = found.get(name)
    if not text:
        raise EnvelopeError("missing_header", f"header {name} is missing or empty")
    return text


def _summarise(exc: ValidationError) -> str:
    # Field locations and error kinds only: input values are never echoed into logs or DLQ
    # headers.
    parts = [
        f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['type']}"
        for err in exc.errors()[:5]
    ]
    return "; ".join(parts)
