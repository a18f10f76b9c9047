"""The models keep the contract's conventions: names, keys, business times, types, privacy.

The models are the contract's source of truth (the committed documents in `contract/` are
generated from them, `test_contract_document.py`); these tests hold them to the conventions
the contract states in words: ids are UUIDs, times are UTC, the key and subject are never
null, each event has one business time, minutes and cents are integers, and nothing but a
site's name and region is free text.
"""

from __future__ import annotations

from datetime import datetime
from typing import get_args
from uuid import UUID

import pytest

from shared.contracts import EVENT_TYPES, IntegrationEvent
from tests.unit.contracts.examples import example
from tests.unit.contracts.fieldtypes import (
    annotation,
    is_nullable,
    item_type,
    kind,
    without_none,
)

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

every_type = pytest.mark.parametrize(
    "cls", list(EVENT_TYPES.values()), ids=lambda cls: cls.ce_type()
)


def test_three_topics_of_the_three_services() -> None:
    topics = {cls.topic() for cls in EVENT_TYPES.values()}
    assert topics == {"bilan.dossier.events", "bilan.scheduling.events", "bilan.survey.events"}


@every_type
def test_identity(cls: type[IntegrationEvent]) -> None:
    assert cls.ce_type() == f"bilan.{cls.service}.{cls.event_name}.v{cls.event_version}"
    assert cls.ce_source() == f"/bilan/{cls.service}"
    # The class is named for the event; a superseded version carries its version in the name.
    expected = cls.event_name if cls.published else f"{cls.event_name}V{cls.event_version}"
    assert cls.__name__ == expected
    assert cls.__doc__, "every model says in one line what fact it records"


def test_one_published_version_per_event_name() -> None:
    names = [cls.event_name for cls in EVENT_TYPES.values() if cls.published]
    assert len(names) == len(set(names))
    for cls in EVENT_TYPES.values():
        if not cls.published:
            newer = example(cls).upcast()
            assert type(newer).event_name == cls.event_name
            assert type(newer).event_version > cls.event_version


@every_type
def test_key_and_subject(cls: type[IntegrationEvent]) -> None:
    assert kind(cls, cls.key_field) == "id"
    assert kind(cls, cls.subject_field) == "id"
    assert not is_nullable(annotation(cls, cls.key_field))
    assert not is_nullable(annotation(cls, cls.subject_field))
    if cls.published:
        # Rule 2 needs one subject on one partition: the key is the subject, or a dossier id
        # for events of a dossier's sub-aggregates (a session) that carry it.
        assert cls.key_field == cls.subject_field or cls.key_field == "dossier_id"


@every_type
def test_time_field(cls: type[IntegrationEvent]) -> None:
    at_fields = [name for name in cls.model_fields if name.endswith("_at")]
    expected = TIME_FIELDS.get(cls.event_name)
    if expected is None:
        assert len(at_fields) == 1, "several times: say which is the business time"
        expected = at_fields[0]
    assert cls.time_field == expected
    assert kind(cls, cls.time_field) == "time"
    assert not is_nullable(annotation(cls, cls.time_field))


def test_time_field_exceptions_name_real_events() -> None:
    assert set(TIME_FIELDS) <= {cls.event_name for cls in EVENT_TYPES.values()}


@every_type
def test_field_types_follow_the_naming_conventions(cls: type[IntegrationEvent]) -> None:
    for name in cls.model_fields:
        actual = kind(cls, name)
        if name.endswith("_at") or name.endswith("_deadline"):
            assert actual == "time", name
        if name.endswith("_id") or name == "administered_by":
            assert actual == "id", name
        if name.endswith("_ids"):
            assert actual == "list", name
            assert item_type(cls, name) is UUID, name
        if name.endswith("_minutes") or name.endswith("_cents") or name.endswith("_version"):
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
