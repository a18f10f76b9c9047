"""CloudEvents 1.0 envelope in Kafka binary content mode, exactly as `events.md` says.

`encode` turns a contract event plus its envelope attributes into a Kafka record; `decode` does
the reverse and validates everything, raising `EnvelopeError` with a reason that is safe to log
(it never quotes the payload, which must not carry personal data anyway).

`decode` runs on every record a consumer reads (a projection rebuild replays millions), so it
has two paths. `_decode_usual` accepts only records exactly as `encode` writes them (the eleven
headers once each, canonical lower-case UUIDs, `application/json` without parameters) and checks
them with per-type expectations computed once, comparing bytes where the full path compares
decoded and re-formatted text. Anything else, every defect included, goes to `_decode_checked`,
the complete decoder, which accepts what the contract allows and names the first defect. The
usual path never accepts a record the complete one refuses and returns the same `Envelope`; the
unit tests compare both paths on every contract example and on tampered records.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any
from uuid import UUID

import orjson
from pydantic import ValidationError
from pydantic_core import SchemaValidator, core_schema

from shared.contracts.base import IntegrationEvent, format_utc
from shared.contracts.registry import EVENT_TYPES, UnknownEventType, event_type

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
    """Validate the event again (it may have been built without validation) and dump its JSON.

    A superseded type version is refused: it is decoded from the history, never published.
    """
    if not event.published:
        raise EnvelopeError(
            "superseded_type", f"{event.ce_type()} is decoded only: publish its newer version"
        )
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
    try:
        envelope = _decode_usual(key, value, headers)
    except (ValueError, TypeError, AttributeError):
        # Not the usual shape after all (a header that is not UTF-8 or not bytes, a bad time,
        # JSON or data; pydantic's ValidationError is a ValueError): the complete path decides
        # and names the defect.
        envelope = None
    return envelope if envelope is not None else _decode_checked(key, value, headers)


@dataclass(frozen=True, slots=True)
class _Expected:
    """What the usual path needs to know of one event type, computed once."""

    ce_type: str
    source: str
    source_bytes: bytes
    validate: Callable[[Any], IntegrationEvent]
    subject_field: str
    key_field: str | None
    """None when the key is the subject (the record's key must then equal `ce_subject`)."""
    time_field: str


def _expectations() -> dict[bytes, _Expected]:
    found: dict[bytes, _Expected] = {}
    for ce_type, model in EVENT_TYPES.items():
        fields = model.model_fields
        if not all(
            fields[name].annotation is UUID for name in (model.key_field, model.subject_field)
        ):
            # The usual path compares key and subject as canonical UUID text; a type keyed
            # otherwise always takes the complete path.
            continue
        found[ce_type.encode()] = _Expected(
            ce_type=ce_type,
            source=model.ce_source(),
            source_bytes=model.ce_source().encode(),
            # What `model_validate` calls, without its per-call argument handling.
            validate=model.__pydantic_validator__.validate_python,
            subject_field=model.subject_field,
            key_field=None if model.key_field == model.subject_field else model.key_field,
            time_field=model.time_field,
        )
    return found


_EXPECTED = _expectations()
_HEADER_NAMES = frozenset(
    name
    for name, _ in build_headers(
        event_id="",
        ce_type="",
        source="",
        time="",
        subject="",
        sequence=1,
        site_id="",
        correlation_id="",
        causation_id="",
    )
)
_SPEC_VERSION_BYTES = SPEC_VERSION.encode()
_CONTENT_TYPE_BYTES = CONTENT_TYPE.encode()
_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
"""The text `str(UUID(...))` gives: a UUID written so is its own normal form."""
_CANONICAL_UUID_BYTES = re.compile(_CANONICAL_UUID.pattern.encode())
_parse_uuid = SchemaValidator(core_schema.uuid_schema()).validate_python
"""A UUID from its text, parsed in Rust (`UUID(text)` costs five times as much)."""
_SITE_IDS: dict[bytes, str] = {ORGANISATION_SITE.encode(): ORGANISATION_SITE}
"""`ce_siteid` values already seen in canonical form (a handful in practice; bounded)."""
_SITE_IDS_MAX = 4096


def _decode_usual(
    key: bytes | None, value: bytes | None, headers: Headers | None
) -> Envelope | None:
    """The envelope of a record written as `encode` writes it, or None to take the complete path.

    Returns an envelope only where `_decode_checked` would return the same one; raises
    ValueError, TypeError or AttributeError on odd input (the caller then takes the complete
    path too). Each shortcut below says why it is equivalent.
    """
    if headers is None or len(headers) != len(_HEADER_NAMES):
        return None
    found = dict(headers)
    # Eleven headers, eleven distinct expected names: none missing, repeated or extra, so the
    # complete path's UTF-8 check of every header reduces to those decoded below or compared
    # to ASCII constants.
    if found.keys() != _HEADER_NAMES:
        return None
    expected = _EXPECTED.get(found["ce_type"])
    if (
        expected is None
        or found["ce_specversion"] != _SPEC_VERSION_BYTES
        or found["content-type"] != _CONTENT_TYPE_BYTES
        or found["ce_source"] != expected.source_bytes
    ):
        return None
    sequence = found["ce_sequence"]
    # ASCII digits not starting with 0: what `_DECIMAL` accepts, minus a trailing newline.
    if not sequence.isdigit() or sequence[:1] == b"0":
        return None
    raw_id = found["ce_id"]
    if _CANONICAL_UUID_BYTES.fullmatch(raw_id) is None:
        return None
    subject_bytes = found["ce_subject"]
    subject = subject_bytes.decode()
    if _CANONICAL_UUID.fullmatch(subject) is None:
        return None
    site_id = _SITE_IDS.get(found["ce_siteid"])
    if site_id is None:
        site_id = _remember_site_id(found["ce_siteid"])
        if site_id is None:
            return None
    correlation_id = found["ce_correlationid"].decode()
    causation_id = found["ce_causationid"].decode()
    if not correlation_id or not causation_id or value is None:
        return None
    raw = orjson.loads(value)
    if type(raw) is not dict:
        return None
    data = expected.validate(raw)
    # The subject field is a UUID field that accepted `raw[subject_field]`; if that text is the
    # canonical `subject`, then `data.subject()` (str of the UUID) is `subject` too.
    if raw.get(expected.subject_field) != subject:
        return None
    if expected.key_field is None:
        # ASCII bytes equal to the subject's: `key.decode(...) == data.partition_key()`.
        if key != subject_bytes:
            return None
    else:
        key_text = raw.get(expected.key_field)
        if (
            type(key_text) is not str
            or _CANONICAL_UUID.fullmatch(key_text) is None
            or key != key_text.encode()
        ):
            return None
    time = getattr(data, expected.time_field)
    header_time = datetime.fromisoformat(found["ce_time"].decode())
    if header_time.tzinfo is None or header_time != time:
        return None
    return _new_envelope(
        _parse_uuid(raw_id.decode()),
        expected.source,
        expected.ce_type,
        time,
        subject,
        int(sequence),
        site_id,
        correlation_id,
        causation_id,
        data,
    )


_ENVELOPE_FIELDS = (
    "id",
    "source",
    "type",
    "time",
    "subject",
    "sequence",
    "site_id",
    "correlation_id",
    "causation_id",
    "data",
)
if tuple(field.name for field in fields(Envelope)) != _ENVELOPE_FIELDS:
    raise RuntimeError("_new_envelope must set every field of Envelope")
(
    _set_id,
    _set_source,
    _set_type,
    _set_time,
    _set_subject,
    _set_sequence,
    _set_site_id,
    _set_correlation_id,
    _set_causation_id,
    _set_data,
) = (getattr(Envelope, name).__set__ for name in _ENVELOPE_FIELDS)


def _new_envelope(
    event_id: UUID,
    source: str,
    ce_type: str,
    time: datetime,
    subject: str,
    sequence: int,
    site_id: str,
    correlation_id: str,
    causation_id: str,
    data: IntegrationEvent,
) -> Envelope:
    # `Envelope(...)` of already-checked values, through the slots' descriptors: the frozen
    # dataclass's `__init__` goes through `object.__setattr__` per field and costs twice as
    # much (about 0.8 µs per record more, measured). The result is an ordinary, equal, frozen
    # Envelope.
    envelope: Envelope = object.__new__(Envelope)
    _set_id(envelope, event_id)
    _set_source(envelope, source)
    _set_type(envelope, ce_type)
    _set_time(envelope, time)
    _set_subject(envelope, subject)
    _set_sequence(envelope, sequence)
    _set_site_id(envelope, site_id)
    _set_correlation_id(envelope, correlation_id)
    _set_causation_id(envelope, causation_id)
    _set_data(envelope, data)
    return envelope


def _remember_site_id(raw: bytes) -> str | None:
    # Only the canonical form is remembered: `validate_site_id` would normalise another form,
    # or refuse it, and the complete path does that.
    if _CANONICAL_UUID_BYTES.fullmatch(raw) is None:
        return None
    if len(_SITE_IDS) >= _SITE_IDS_MAX:
        _SITE_IDS.clear()
        _SITE_IDS[ORGANISATION_SITE.encode()] = ORGANISATION_SITE
    text = _SITE_IDS[raw] = raw.decode()
    return text


def _decode_checked(key: bytes | None, value: bytes | None, headers: Headers | None) -> Envelope:
    """The complete decoder: every check of the contract, in order; the first defect raises."""
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
