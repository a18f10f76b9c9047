"""The models say what `../shared/events.md` says: same types, fields, keys and closed lists.

The contract is parsed at test time, so a change to it that the models do not follow (or the
reverse) fails here.
"""

from __future__ import annotations

from datetime import datetime
from typing import get_args
from uuid import UUID

import pytest

from shared.contracts import EVENT_TYPES, IntegrationEvent, event_type
from tests.unit.contracts.events_md import EventSpec, read_contract
from tests.unit.contracts.fieldtypes import (
    annotation,
    is_nullable,
    item_type,
    kind,
    literal_values,
    without_none,
)

CONTRACT = read_contract()
BY_TYPE = {spec.ce_type: spec for spec in CONTRACT}

# Deliberate departures from the letter of the contract, each to be settled in events.md.
NULLABLE_BEYOND_CONTRACT = {
    # A `stakeholder` survey has no dossier (SurveySent says so), so neither has its answer.
    ("SurveyAnswered", "dossier_id"),
}

# Fields the contract lists without values, whose closed list is another field's.
CLOSED_LIST_OF_ANOTHER_FIELD = {
    # The party that signs is one of the parties whose signature the convention requires.
    ("ConventionSignedByParty", "party"): ("ConventionDrafted", "required_parties"),
}

# The business time of events with more than one `*_at` field (or none ending so).
TIME_FIELDS = {
    "DossierOpened": "opened_at",
    "ConventionSentForSignature": "sent_at",
    "ConventionDeemedRefused": "refused_at",
    "RetentionAgreed": "agreed_at",
    "DataSubjectRequestReceived": "received_at",
    "SurveySent": "sent_at",
    "ImprovementActionOpened": "opened_at",
    "SessionScheduled": "scheduled_at",
    "SessionRescheduled": "rescheduled_at",
    "SessionHeld": "started_at",
}

by_type = pytest.mark.parametrize("spec", CONTRACT, ids=lambda spec: spec.name)


def model(spec: EventSpec) -> type[IntegrationEvent]:
    return event_type(spec.ce_type)


def test_the_contract_has_three_tables_of_events() -> None:
    topics = {spec.topic for spec in CONTRACT}
    assert topics == {"bilan.dossier.events", "bilan.scheduling.events", "bilan.survey.events"}
    assert len(BY_TYPE) == len(CONTRACT), "an event type appears twice in the contract"


def test_the_registry_holds_exactly_the_contract_types() -> None:
    assert set(EVENT_TYPES) == set(BY_TYPE)


def test_per_topic_the_registry_holds_the_rows_of_its_table() -> None:
    for topic in {spec.topic for spec in CONTRACT}:
        expected = {spec.name for spec in CONTRACT if spec.topic == topic}
        actual = {cls.event_name for cls in EVENT_TYPES.values() if cls.topic() == topic}
        assert actual == expected, topic


@by_type
def test_identity(spec: EventSpec) -> None:
    cls = model(spec)
    assert cls.event_name == spec.name
    assert cls.__name__ == spec.name
    assert cls.service == spec.service
    assert cls.topic() == spec.topic
    assert cls.ce_source() == f"/bilan/{spec.service}"
    assert cls.ce_type() == spec.ce_type
    assert cls.__doc__, "every model says in one line what fact it records"


@by_type
def test_fields_are_exactly_the_contract_fields(spec: EventSpec) -> None:
    assert set(model(spec).model_fields) == {field.name for field in spec.fields}


@by_type
def test_every_field_is_required(spec: EventSpec) -> None:
    # Nullable fields too: the producer states the null, the consumer never guesses a default.
    cls = model(spec)
    optional = [name for name, info in cls.model_fields.items() if not info.is_required()]
    assert optional == []


@by_type
def test_key_and_subject(spec: EventSpec) -> None:
    cls = model(spec)
    assert (cls.key_field, cls.subject_field) == (spec.key, spec.subject)
    assert kind(cls, cls.key_field) == "id"
    assert kind(cls, cls.subject_field) == "id"
    assert not is_nullable(annotation(cls, cls.key_field))
    assert not is_nullable(annotation(cls, cls.subject_field))


@by_type
def test_time_field(spec: EventSpec) -> None:
    cls = model(spec)
    at_fields = [name for name in cls.model_fields if name.endswith("_at")]
    expected = TIME_FIELDS.get(spec.name)
    if expected is None:
        assert len(at_fields) == 1, "several times: say which is the business time"
        expected = at_fields[0]
    assert cls.time_field == expected
    assert kind(cls, cls.time_field) == "time"
    assert not is_nullable(annotation(cls, cls.time_field))


def test_time_field_exceptions_name_real_events() -> None:
    assert set(TIME_FIELDS) <= {spec.name for spec in CONTRACT}


@by_type
def test_closed_lists_are_the_contract_lists(spec: EventSpec) -> None:
    cls = model(spec)
    for field in spec.fields:
        actual = literal_values(annotation(cls, field.name))
        borrowed = CLOSED_LIST_OF_ANOTHER_FIELD.get((spec.name, field.name))
        if borrowed is not None:
            assert field.values is None, f"events.md now lists {field.name}: drop the borrowing"
            other_event, other_field = borrowed
            other = next(row for row in CONTRACT if row.name == other_event).field(other_field)
            assert actual == other.values, field.name
        elif field.values is not None:
            assert actual == field.values, field.name
            if field.is_list:
                assert kind(cls, field.name) == "list", field.name
        else:
            assert actual == frozenset(), f"{field.name}: a closed list the contract lacks"


@by_type
def test_nullable_exactly_where_the_contract_says(spec: EventSpec) -> None:
    cls = model(spec)
    for field in spec.fields:
        nullable = is_nullable(annotation(cls, field.name))
        if (spec.name, field.name) in NULLABLE_BEYOND_CONTRACT:
            assert nullable
            assert not field.nullable, (
                f"events.md now makes {spec.name}.{field.name} nullable: "
                "remove it from NULLABLE_BEYOND_CONTRACT"
            )
        else:
            assert nullable == field.nullable, field.name


@by_type
def test_field_types_follow_the_contract_notes(spec: EventSpec) -> None:
    cls = model(spec)
    for field in spec.fields:
        name, actual = field.name, kind(cls, field.name)
        if field.note == "bool":
            assert actual == "bool", name
        elif field.note == "int" or field.note.startswith("integer"):
            assert actual == "int", name
        elif field.note == "number":
            assert actual == "float", name
        elif field.note.startswith("object"):
            assert actual == "dict", name
        elif field.note.startswith("list of"):
            assert actual == "list", name
        if name.endswith("_at") or name.endswith("_deadline"):
            assert actual == "time", name
        if name.endswith("_id") or name == "administered_by":
            assert actual == "id", name
        if name.endswith("_ids"):
            assert actual == "list", name
            assert item_type(cls, name) is UUID, name
        if name.endswith("_minutes") or name.endswith("_cents"):
            assert actual == "int", name


def test_time_and_id_annotations_are_the_shared_ones() -> None:
    # The shared types, not bare datetime/UUID: UTC normalisation, `Z`, and string ids.
    for cls in EVENT_TYPES.values():
        for name, info in cls.model_fields.items():
            tp = without_none(info.annotation)
            if tp is datetime or tp is UUID:
                # Annotated metadata is either on the FieldInfo or inside the Optional.
                metadata = info.metadata or get_args(get_args(info.annotation)[0])[1:]
                assert metadata, f"{cls.__name__}.{name} must use UtcDatetime / Id"


def test_only_site_names_are_free_text() -> None:
    # The privacy rule: events carry ids, closed lists, codes, times and numbers. A string
    # that is neither a closed value nor a code matched by an anchored pattern is free text.
    allowed = {("SiteOpened", "name"), ("SiteOpened", "region")}
    free: set[tuple[str, str]] = set()
    for cls in EVENT_TYPES.values():
        properties = cls.model_json_schema()["properties"]
        for name, schema in properties.items():
            if any(_is_free_text(node) for node in _string_nodes(schema)):
                free.add((cls.__name__, name))
    assert free == allowed


def _string_nodes(schema: dict[str, object]) -> list[dict[str, object]]:
    nodes: list[dict[str, object]] = []
    if schema.get("type") == "string":
        nodes.append(schema)
    for key in ("items", "additionalProperties"):
        child = schema.get(key)
        if isinstance(child, dict):
            nodes.extend(_string_nodes(child))
    for child in schema.get("anyOf", []):  # type: ignore[attr-defined]
        nodes.extend(_string_nodes(child))
    patterns = schema.get("patternProperties")
    if isinstance(patterns, dict):
        for pattern, child in patterns.items():
            nodes.append({"type": "string", "pattern": pattern})  # the keys
            nodes.extend(_string_nodes(child))
    return nodes


def _is_free_text(node: dict[str, object]) -> bool:
    if "enum" in node or "const" in node or node.get("format") in {"uuid", "date-time"}:
        return False
    pattern = node.get("pattern")
    return not (isinstance(pattern, str) and pattern.startswith("^") and pattern.endswith("$"))
