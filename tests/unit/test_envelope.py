"""The CloudEvents envelope: every contract event round-trips; every defect is refused clearly."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import fields
from datetime import timedelta, timezone
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.contracts.base import IntegrationEvent
from shared.contracts.dossier import ConventionSignedByParty, DossierOpened
from shared.contracts.scheduling import SessionHeld
from shared.contracts.survey import SixMonthSituationReported, SixMonthSituationReportedV1
from shared.envelope import (
    Envelope,
    EnvelopeError,
    Headers,
    KafkaRecord,
    _decode_checked,
    _decode_usual,
    build_headers,
    decode,
    encode,
)
from tests.unit.contracts.examples import all_examples, example

SITE = str(uuid.uuid4())
EXPECTED_HEADERS = [
    "ce_specversion",
    "ce_id",
    "ce_source",
    "ce_type",
    "ce_time",
    "ce_subject",
    "ce_sequence",
    "ce_siteid",
    "ce_correlationid",
    "ce_causationid",
    "content-type",
]


def _encode(event: IntegrationEvent, sequence: int = 3) -> KafkaRecord:
    return encode(
        event,
        event_id=uuid.uuid4(),
        sequence=sequence,
        site_id=SITE,
        correlation_id="req-42",
        causation_id="cause-7",
    )


@pytest.mark.parametrize("event", list(all_examples()), ids=lambda e: e.event_name)
def test_every_contract_event_round_trips(event: IntegrationEvent) -> None:
    record = _encode(event)
    assert record.topic == f"bilan.{event.service}.events"
    assert [name for name, _ in record.headers] == EXPECTED_HEADERS
    headers = dict(record.headers)
    assert headers["ce_type"] == event.ce_type().encode()
    assert headers["ce_source"] == f"/bilan/{event.service}".encode()
    assert headers["ce_time"].endswith(b"Z")
    assert record.key == event.partition_key().encode()
    decoded = decode(record.key, record.value, record.headers)
    assert decoded.data == event
    assert decoded.sequence == 3
    assert decoded.site_id == SITE
    assert decoded.correlation_id == "req-42"
    assert decoded.causation_id == "cause-7"
    assert decoded.subject == event.subject()


def _tamper(record: KafkaRecord, name: str, value: bytes | None) -> KafkaRecord:
    headers = [(k, v) for k, v in record.headers if k != name]
    if value is not None:
        headers.append((name, value))
    return KafkaRecord(record.topic, record.key, record.value, headers)


@pytest.mark.parametrize(
    ("header", "value", "reason"),
    [
        ("ce_type", b"bilan.dossier.DossierExploded.v1", "unknown_type"),
        ("ce_type", None, "missing_header"),
        ("ce_specversion", b"0.3", "bad_specversion"),
        ("ce_source", b"/bilan/survey", "bad_source"),
        ("ce_id", b"not-a-uuid", "bad_id"),
        ("ce_sequence", b"0", "bad_sequence"),
        ("ce_sequence", b"two", "bad_sequence"),
        ("ce_subject", str(uuid.uuid4()).encode(), "bad_subject"),
        ("ce_time", b"2020-01-01T00:00:00Z", "bad_time"),
        ("ce_siteid", b"paris", "bad_site_id"),
        ("ce_correlationid", None, "missing_header"),
        ("content-type", b"text/plain", "bad_content_type"),
    ],
)
def test_bad_headers_are_refused(header: str, value: bytes | None, reason: str) -> None:
    record = _tamper(_encode(example(DossierOpened)), header, value)
    with pytest.raises(EnvelopeError) as caught:
        decode(record.key, record.value, record.headers)
    assert caught.value.reason == reason


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (b"{oops", "bad_json"),
        (b"[1, 2]", "bad_json"),
        (None, "missing_value"),
        (b'{"dossier_id": "x"}', "invalid_data"),
    ],
)
def test_bad_values_are_refused(value: bytes | None, reason: str) -> None:
    record = _encode(example(DossierOpened))
    with pytest.raises(EnvelopeError) as caught:
        decode(record.key, value, record.headers)
    assert caught.value.reason == reason


def test_wrong_key_is_refused() -> None:
    record = _encode(example(DossierOpened))
    with pytest.raises(EnvelopeError) as caught:
        decode(b"another-key", record.value, record.headers)
    assert caught.value.reason == "bad_key"


def test_invalid_data_error_names_fields_but_never_values() -> None:
    record = _encode(example(DossierOpened))
    value = record.value.replace(b'"cpf"', b'"jeanne.martin@example.fr"').replace(
        b'"funding_route":"employer_plan"', b'"funding_route":"jeanne.martin@example.fr"'
    )
    bad = b'{"dossier_id": "jeanne.martin@example.fr"}' if value == record.value else value
    with pytest.raises(EnvelopeError) as caught:
        decode(record.key, bad, record.headers)
    assert "jeanne" not in str(caught.value)


def test_encode_validates_events_built_without_validation() -> None:
    good = example(DossierOpened)
    forged = DossierOpened.model_construct(**{**dict(good), "funding_route": "lottery"})
    with pytest.raises(EnvelopeError) as caught:
        _encode(forged)
    assert caught.value.reason == "invalid_data"


def test_encode_refuses_bad_sequence_and_site() -> None:
    with pytest.raises(EnvelopeError):
        _encode(example(DossierOpened), sequence=0)
    with pytest.raises(EnvelopeError):
        encode(
            example(DossierOpened),
            event_id=uuid.uuid4(),
            sequence=1,
            site_id="not-a-site",
            correlation_id="c",
            causation_id="c",
        )


# `decode` takes a usual path for records exactly as `encode` writes them and hands everything
# else to the complete decoder (`_decode_checked`). The usual path must never accept what the
# complete one refuses, and must return the very same envelope.

Decoder = Callable[[bytes | None, bytes | None, Headers | None], Envelope]


def _outcome(decoder: Decoder, record: KafkaRecord) -> Envelope | str:
    """The envelope, or the reason of the refusal."""
    try:
        return decoder(record.key, record.value, record.headers)
    except EnvelopeError as exc:
        return exc.reason


def _assert_paths_agree(record: KafkaRecord) -> None:
    expected = _outcome(_decode_checked, record)
    assert _outcome(decode, record) == expected
    try:
        usual = _decode_usual(record.key, record.value, record.headers)
    except (ValueError, TypeError, AttributeError):  # what `decode` hands to the complete path
        usual = None
    if usual is not None:
        assert usual == expected


@pytest.mark.parametrize("event", list(all_examples()), ids=lambda e: e.event_name)
@pytest.mark.parametrize("site_id", [SITE, "org"])
def test_every_contract_event_takes_the_usual_path(event: IntegrationEvent, site_id: str) -> None:
    record = encode(
        event,
        event_id=uuid.uuid4(),
        sequence=12,
        site_id=site_id,
        correlation_id="req-42",
        causation_id="cause-7",
    )
    usual = _decode_usual(record.key, record.value, record.headers)
    assert usual is not None
    checked = _decode_checked(record.key, record.value, record.headers)
    assert [getattr(usual, f.name) for f in fields(Envelope)] == [
        getattr(checked, f.name) for f in fields(Envelope)
    ]


def _edit(
    record: KafkaRecord, edit: Callable[[list[tuple[str, Any]]], list[tuple[str, Any]]]
) -> KafkaRecord:
    return KafkaRecord(record.topic, record.key, record.value, edit(list(record.headers)))


def _set(name: str, value: Any) -> Callable[[list[tuple[str, Any]]], list[tuple[str, Any]]]:
    return lambda headers: [(k, value if k == name else v) for k, v in headers]


def _upper(name: str) -> Callable[[list[tuple[str, Any]]], list[tuple[str, Any]]]:
    return lambda headers: [(k, v.upper() if k == name else v) for k, v in headers]


OPENED = example(DossierOpened)
SESSION = example(SessionHeld)
"""Keyed by `dossier_id`, with `session_id` as subject: key and subject differ."""
OPENED_AT_PLUS_2 = OPENED.opened_at.astimezone(timezone(timedelta(hours=2))).isoformat().encode()


@pytest.mark.parametrize(
    ("event", "edit"),
    [
        # Accepted by the contract, though `encode` never writes them so (the site id is
        # normalised).
        (OPENED, _upper("ce_id")),
        (OPENED, _upper("ce_siteid")),
        (OPENED, _set("ce_time", OPENED_AT_PLUS_2)),
        (OPENED, _set("content-type", b"application/json; charset=utf-8")),
        (OPENED, lambda h: [(k, v) for k, v in h if k != "content-type"]),
        (OPENED, lambda h: [*h, ("traceparent", b"00-4bf92f3577b34da6-00f067aa0ba902b7-01")]),
        (OPENED, lambda h: h[::-1]),
        (SESSION, _set("ce_sequence", b"5\n")),
        # Refused, whichever path looks first.
        (OPENED, lambda h: [*h, ("x-note", b"\xff")]),
        (OPENED, lambda h: [*h, h[0]]),
        (SESSION, _set("ce_correlationid", b"\xff")),
        (SESSION, _set("ce_subject", b"\xff")),
        (SESSION, _set("ce_causationid", b"")),
        (SESSION, _set("ce_siteid", None)),
        (SESSION, _set("ce_type", None)),
        (SESSION, _set("ce_id", bytearray(b"not-a-uuid"))),
        (SESSION, _upper("ce_subject")),
        (SESSION, _set("ce_sequence", b"+5")),
        (SESSION, _set("ce_sequence", b"05")),
        (SESSION, _set("ce_time", b"2025-03-03T09:00:00")),
        (SESSION, _set("ce_siteid", b"ORG")),
    ],
)
def test_usual_and_complete_paths_agree(
    event: IntegrationEvent, edit: Callable[[list[tuple[str, Any]]], list[tuple[str, Any]]]
) -> None:
    _assert_paths_agree(_edit(_encode(event), edit))


@pytest.mark.parametrize("event", [OPENED, SESSION], ids=lambda e: e.event_name)
def test_wrong_key_or_value_leaves_the_usual_path(event: IntegrationEvent) -> None:
    record = _encode(event)
    other = _encode(example(type(event), **{event.key_field: uuid.uuid4()}))
    for key, value in [
        (record.key.upper(), record.value),
        (None, record.value),
        (other.key, record.value),
        (record.key, other.value),
        (record.key, record.value.replace(b"Z", b"+00:00")),
        (record.key, None),
        (record.key, b"[]"),
        (record.key, b'{"dossier_id": 1}'),
    ]:
        _assert_paths_agree(KafkaRecord(record.topic, key, value, record.headers))  # type: ignore[arg-type]


@pytest.mark.parametrize("event", [OPENED, SESSION], ids=lambda e: e.event_name)
@pytest.mark.parametrize("field", ["key_field", "subject_field"])
def test_ids_in_capitals_everywhere_are_refused_by_both_paths(
    event: IntegrationEvent, field: str
) -> None:
    """An id written in capitals in the value, the key and `ce_subject` alike is consistent
    text, but the key and subject must be the event's id in its normal (lower-case) form."""
    record = _encode(event)
    lower = str(getattr(event, getattr(event, field))).encode()
    upper = lower.upper()
    headers = [(k, upper if v == lower else v) for k, v in record.headers]
    capitals = KafkaRecord(
        record.topic, record.key.replace(lower, upper), record.value.replace(lower, upper), headers
    )
    assert _outcome(_decode_checked, capitals) in {"bad_key", "bad_subject"}
    _assert_paths_agree(capitals)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    event=st.sampled_from(list(all_examples())),
    name=st.sampled_from(EXPECTED_HEADERS),
    position=st.integers(min_value=0, max_value=40),
    byte=st.binary(min_size=0, max_size=2),
)
def test_a_changed_header_byte_never_splits_the_paths(
    event: IntegrationEvent, name: str, position: int, byte: bytes
) -> None:
    """One header's bytes spliced at one place: both paths return or refuse the same."""
    record = _encode(event)
    original = dict(record.headers)[name]
    at = position % (len(original) + 1)
    changed = original[:at] + byte + original[at + 1 :]
    _assert_paths_agree(_edit(record, _set(name, changed)))


def test_a_superseded_version_is_decoded_but_never_published() -> None:
    old = example(SixMonthSituationReportedV1)
    with pytest.raises(EnvelopeError) as refused:
        _encode(old)
    assert refused.value.reason == "superseded_type"
    # A record of the history, as the survey service published it before v1.1.
    headers = build_headers(
        event_id=uuid.uuid4(),
        ce_type="bilan.survey.SixMonthSituationReported.v1",
        source="/bilan/survey",
        time=old.reported_at,
        subject=str(old.survey_id),
        sequence=4,
        site_id=SITE,
        correlation_id="c",
        causation_id="c",
    )
    decoded = decode(str(old.dossier_id).encode(), serialize_data_unchecked(old), headers)
    assert decoded.data == old
    assert decoded.data.upcast() == example(SixMonthSituationReported)


def test_an_optional_field_without_value_is_left_out_of_the_record() -> None:
    signed = example(ConventionSignedByParty, method=None)
    record = _encode(signed)
    assert b"method" not in record.value
    assert decode(record.key, record.value, record.headers).data == signed
    with_method = _encode(example(ConventionSignedByParty))
    assert b'"method":"electronic"' in with_method.value


def serialize_data_unchecked(event: IntegrationEvent) -> bytes:
    return orjson.dumps(event.to_json_dict())
