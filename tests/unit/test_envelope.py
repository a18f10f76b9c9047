"""The CloudEvents envelope: every contract event round-trips; every defect is refused clearly."""

from __future__ import annotations

import uuid

import pytest

from shared.contracts.base import IntegrationEvent
from shared.contracts.dossier import DossierOpened
from shared.envelope import EnvelopeError, KafkaRecord, decode, encode
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
    assert headers["ce_type"] == f"bilan.{event.service}.{event.event_name}.v1".encode()
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
