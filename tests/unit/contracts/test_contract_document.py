"""The committed contract documents: what the models give, valid AsyncAPI 3.0, and binding.

`contract/asyncapi.json` and `contract/events.md` are generated from the models
(`python -m shared.contracts`) and committed. Regenerating them must change nothing, the
AsyncAPI document must be valid against the AsyncAPI 3.0.0 JSON Schema, and what it says of
every message must be what the models do (fields, keys, closed lists), on examples too.
"""

from __future__ import annotations

import copy
import json
import uuid
from typing import Any

import jsonschema
import pytest

from shared.contracts import EVENT_TYPES, PUBLISHED_TYPES, IntegrationEvent
from shared.contracts.__main__ import ASYNCAPI_FILE as WRITTEN_ASYNCAPI
from shared.contracts.__main__ import PAGE_FILE as WRITTEN_PAGE
from shared.contracts.__main__ import generated, main
from shared.envelope import encode
from tests.unit.contracts.document import (
    ASYNCAPI_FILE,
    ASYNCAPI_SCHEMA_FILE,
    PAGE_FILE,
    committed_document,
    messages,
    payload_errors,
    record_errors,
)
from tests.unit.contracts.examples import all_decodable_examples, example, example_data
from tests.unit.contracts.fieldtypes import annotation, literal_values

every_type = pytest.mark.parametrize(
    "cls", list(EVENT_TYPES.values()), ids=lambda cls: cls.ce_type()
)


def _asyncapi_validator() -> jsonschema.Draft7Validator:
    schema = json.loads(ASYNCAPI_SCHEMA_FILE.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def test_the_documents_are_where_the_tests_read_them() -> None:
    assert (WRITTEN_ASYNCAPI, WRITTEN_PAGE) == (ASYNCAPI_FILE, PAGE_FILE)


def test_regenerating_the_documents_changes_nothing() -> None:
    for path, text in generated().items():
        assert path.read_text(encoding="utf-8") == text, (
            f"{path.name} is stale: run `python -m shared.contracts` and commit the result"
        )
    assert main(["--check"]) == 0


def test_the_asyncapi_document_is_valid_asyncapi_3() -> None:
    document = committed_document()
    assert document["asyncapi"] == "3.0.0"
    errors = [e.message for e in _asyncapi_validator().iter_errors(document)]
    assert errors == []


@pytest.mark.parametrize(
    "spoil",
    [
        lambda d: d["channels"]["dossierEvents"].update(address=7),
        lambda d: d["operations"]["publishSurveyEvents"].update(action="publish"),
        lambda d: d["components"]["messages"]["DossierOpened.v1"].update(payload=[]),
        lambda d: d["components"]["messages"]["SessionHeld.v1"]["bindings"]["kafka"].update(
            bindingVersion="9.9.9"
        ),
        lambda d: d.pop("info"),
    ],
    ids=["address", "action", "payload", "binding", "info"],
)
def test_the_validator_refuses_a_spoilt_document(spoil: Any) -> None:
    # The validation above proves something only if a wrong document fails it.
    spoilt = copy.deepcopy(committed_document())
    spoil(spoilt)
    assert list(_asyncapi_validator().iter_errors(spoilt))


def test_the_document_holds_exactly_the_models() -> None:
    assert set(messages()) == set(EVENT_TYPES)
    document = committed_document()
    for cls in EVENT_TYPES.values():
        channel = document["channels"][f"{cls.service}Events"]
        assert channel["address"] == cls.topic()
        assert f"{cls.event_name}.v{cls.event_version}" in channel["messages"]
    published = {
        ref["$ref"].rsplit("/", 1)[-1]
        for operation in document["operations"].values()
        for ref in operation["messages"]
    }
    assert published == {f"{c.event_name}.v{c.event_version}" for c in PUBLISHED_TYPES.values()}
    assert "SixMonthSituationReported.v1" not in published


@every_type
def test_each_message_says_what_its_model_does(cls: type[IntegrationEvent]) -> None:
    message = messages()[cls.ce_type()]
    assert message["name"] == cls.event_name
    assert (message["x-bilan-key"], message["x-bilan-subject"], message["x-bilan-time"]) == (
        cls.key_field,
        cls.subject_field,
        cls.time_field,
    )
    assert message["x-bilan-published"] is cls.published
    payload = message["payload"]
    assert list(payload["properties"]) == list(cls.model_fields)
    assert set(payload["required"]) == set(cls.model_fields) - cls.optional_fields()
    assert payload["additionalProperties"] is False
    header_consts = message["headers"]["allOf"][1]["properties"]
    assert header_consts["ce_type"] == {"const": cls.ce_type()}
    assert header_consts["ce_source"] == {"const": cls.ce_source()}


@every_type
def test_each_closed_list_of_the_document_is_the_models(cls: type[IntegrationEvent]) -> None:
    schemas = committed_document()["components"]["schemas"]
    properties = messages()[cls.ce_type()]["payload"]["properties"]
    for name in cls.model_fields:
        expected = literal_values(annotation(cls, name))
        listed = _enum_of(properties[name], schemas)
        assert listed == expected, f"{cls.__name__}.{name}"


def _enum_of(node: Any, schemas: dict[str, Any]) -> frozenset[str]:
    if isinstance(node, dict):
        if "$ref" in node:
            return frozenset(schemas[node["$ref"].rsplit("/", 1)[-1]]["enum"])
        if "enum" in node:
            return frozenset(node["enum"])
        found: frozenset[str] = frozenset()
        for value in node.values():
            found |= _enum_of(value, schemas)
        return found
    if isinstance(node, list):
        found = frozenset()
        for item in node:
            found |= _enum_of(item, schemas)
        return found
    return frozenset()


@pytest.mark.parametrize("event", list(all_decodable_examples()), ids=lambda e: e.ce_type())
def test_every_example_is_a_valid_payload_by_the_document(event: IntegrationEvent) -> None:
    assert payload_errors(event.ce_type(), event.to_json_dict()) == []


@every_type
def test_the_document_refuses_what_the_models_refuse(cls: type[IntegrationEvent]) -> None:
    data = example_data(cls)
    ce_type = cls.ce_type()
    assert payload_errors(ce_type, {**data, "beneficiary_name": "x"})
    for name in set(cls.model_fields) - cls.optional_fields():
        assert payload_errors(ce_type, {k: v for k, v in data.items() if k != name}), name
    for name in cls.model_fields:
        if literal_values(annotation(cls, name)) and isinstance(data.get(name), str):
            assert payload_errors(ce_type, {**data, name: "not_in_the_list"}), name


@pytest.mark.parametrize("event", [example(c) for c in PUBLISHED_TYPES.values()], ids=str)
def test_every_published_type_encodes_to_a_record_the_document_accepts(
    event: IntegrationEvent,
) -> None:
    record = encode(
        event,
        event_id=uuid.uuid4(),
        sequence=3,
        site_id="org",
        correlation_id="c",
        causation_id="c",
    )
    assert record_errors(record.key, record.value, record.headers) == []
    # And a record keyed otherwise is not the contract's.
    assert record_errors(b"not-the-key", record.value, record.headers)


def test_the_optional_fields_are_those_the_contract_added_in_v1_1() -> None:
    optional = {
        (m["name"], name)
        for m in messages().values()
        for name in m["payload"]["properties"]
        if name not in m["payload"]["required"]
    }
    assert optional == {("ConventionSignedByParty", "method"), ("SurveySent", "session_id")}


def test_the_page_lists_every_type_and_rule() -> None:
    page = PAGE_FILE.read_text(encoding="utf-8")
    for cls in EVENT_TYPES.values():
        assert f"**{cls.event_name}** `.v{cls.event_version}`" in page
    assert "## Rules every producer keeps" in page
    assert "8. Every `DataSubjectRequestReceived`" in page
    assert "| `cpf`, `employer_plan`, `conge_reclassement`, `france_travail`, `opco`," in page
