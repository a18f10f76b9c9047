"""Every event type survives the trip to the Kafka value and back, in the contract's JSON form."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any
from uuid import UUID

import pytest
from pydantic import ValidationError

from shared.contracts import (
    EVENT_TYPES,
    IntegrationEvent,
    NoShowRecorded,
    SessionHeld,
    SynthesisDelivered,
    format_utc,
)
from tests.unit.contracts.examples import all_decodable_examples, example
from tests.unit.contracts.fieldtypes import kind

SNAKE_CASE = re.compile(r"^[a-z][a-z0-9_]*$")
RFC3339_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$")
CANONICAL_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

every_type = pytest.mark.parametrize(
    "cls", list(EVENT_TYPES.values()), ids=lambda cls: cls.event_name
)


def test_every_event_type_has_an_example() -> None:
    assert [type(event) for event in all_decodable_examples()] == list(EVENT_TYPES.values())


def test_example_is_stable_and_takes_overrides() -> None:
    assert example(SessionHeld) == example(SessionHeld)
    assert example(SessionHeld, duration_minutes=90).duration_minutes == 90


def test_example_of_an_unknown_class_says_what_to_do() -> None:
    class NotInTheContract(IntegrationEvent):
        service = "survey"
        event_name = "NotInTheContract"
        key_field = subject_field = time_field = "x"

    with pytest.raises(LookupError, match=r"examples\.py"):
        example(NotInTheContract)


@every_type
def test_round_trip_through_the_json_dict(cls: type[IntegrationEvent]) -> None:
    event = example(cls)
    data = event.to_json_dict()
    again = cls.model_validate(data)
    assert again == event
    assert again.to_json_dict() == data


@every_type
def test_round_trip_through_json_text(cls: type[IntegrationEvent]) -> None:
    event = example(cls)
    text = json.dumps(event.to_json_dict())
    assert cls.model_validate_json(text) == event
    assert cls.model_validate(json.loads(text)) == event


@every_type
def test_json_form(cls: type[IntegrationEvent]) -> None:
    event = example(cls)
    data = event.to_json_dict()
    given = [name for name in cls.model_fields if getattr(event, name) is not None]
    required = [name for name in cls.model_fields if name not in cls.optional_fields()]
    # Every required field, in declaration order, and the optional ones only with a value.
    assert list(data) == [name for name in cls.model_fields if name in required or name in given]
    _assert_snake_case_keys(data)
    for name, value in data.items():
        field_kind = kind(cls, name)
        if value is None:
            continue
        if field_kind == "time":
            assert isinstance(value, str)
            assert RFC3339_UTC.match(value), (name, value)
            assert value == format_utc(getattr(event, name))
        elif field_kind == "id":
            assert isinstance(value, str)
            assert CANONICAL_UUID.match(value), (name, value)
        elif field_kind == "list" and all(isinstance(item, str) for item in value):
            if name.endswith("_ids"):
                assert all(CANONICAL_UUID.match(item) for item in value)
        elif field_kind == "int":
            assert type(value) is int
        elif field_kind == "bool":
            assert type(value) is bool


@every_type
def test_key_subject_and_time_read_from_the_data(cls: type[IntegrationEvent]) -> None:
    event = example(cls)
    data = event.to_json_dict()
    assert event.partition_key() == data[cls.key_field]
    assert event.subject() == data[cls.subject_field]
    occurred_at = event.occurred_at()
    assert occurred_at.tzinfo is not None
    assert format_utc(occurred_at) == data[cls.time_field]


def test_times_are_normalised_to_utc() -> None:
    event = example(SessionHeld, started_at="2025-03-11T10:03:00+01:00")
    assert event.started_at == datetime.fromisoformat("2025-03-11T09:03:00+00:00")
    assert event.to_json_dict()["started_at"] == "2025-03-11T09:03:00Z"


def test_fractional_seconds_survive() -> None:
    data = example(SynthesisDelivered).to_json_dict()
    assert data["delivered_at"].endswith(".250000Z")
    assert SynthesisDelivered.model_validate(data).to_json_dict() == data


def test_ids_given_as_uuid_or_string_are_the_same_event() -> None:
    event = example(NoShowRecorded)
    as_strings = example(NoShowRecorded, session_id=str(event.session_id).upper())
    assert as_strings == event
    assert isinstance(as_strings.session_id, UUID)


def test_events_are_immutable() -> None:
    event = example(SessionHeld)
    with pytest.raises(ValidationError):
        event.duration_minutes = 1  # type: ignore[misc]


def _assert_snake_case_keys(value: Any) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            assert SNAKE_CASE.match(key), key
            _assert_snake_case_keys(item)
    elif isinstance(value, list):
        for item in value:
            _assert_snake_case_keys(item)
