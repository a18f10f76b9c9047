"""The committed contract document (`contract/asyncapi.json`), and records checked against it.

Tests hold the models and every producer to the document as committed, inside the repository:
a model that drifts from it, or a service that publishes something it does not describe, fails
whatever the models say of themselves.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

REPO_ROOT = Path(__file__).resolve().parents[3]
ASYNCAPI_FILE = REPO_ROOT / "contract" / "asyncapi.json"
PAGE_FILE = REPO_ROOT / "contract" / "events.md"
ASYNCAPI_SCHEMA_FILE = Path(__file__).resolve().parent / "asyncapi_schema" / "3.0.0.json"
"""The AsyncAPI 3.0.0 JSON Schema, from the `@asyncapi/specs` package (see its README)."""
_DOCUMENT_URI = "urn:bilan:contract"


@cache
def committed_document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(ASYNCAPI_FILE.read_text(encoding="utf-8"))
    return document


def messages() -> dict[str, Any]:
    """`ce_type -> message` of the committed document."""
    return {m["title"]: m for m in committed_document()["components"]["messages"].values()}


def message_key(ce_type: str) -> str:
    name: str = next(
        name
        for name, m in committed_document()["components"]["messages"].items()
        if m["title"] == ce_type
    )
    return name


@cache
def _registry() -> Registry[Any]:
    resource: Resource[Any] = DRAFT7.create_resource(committed_document())
    registry: Registry[Any] = Registry().with_resource(_DOCUMENT_URI, resource)
    return registry


def validator(pointer: str) -> jsonschema.Draft7Validator:
    """A validator for the schema at `pointer` of the document (its `$ref`s resolve in it)."""
    schema = {"$ref": f"{_DOCUMENT_URI}#{pointer}"}
    return jsonschema.Draft7Validator(
        schema, registry=_registry(), format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
    )


def payload_errors(ce_type: str, value: Any) -> list[str]:
    pointer = f"/components/messages/{message_key(ce_type)}/payload"
    return [error.message for error in validator(pointer).iter_errors(value)]


def record_errors(
    key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes]]
) -> list[str]:
    """What is wrong with a Kafka record by the committed document ([] when nothing)."""
    found = {name: raw.decode() for name, raw in headers}
    ce_type = found.get("ce_type", "")
    message = messages().get(ce_type)
    if message is None:
        return [f"{ce_type!r} is not a message of the contract"]
    if not message["x-bilan-published"]:
        return [f"{ce_type} is superseded: producers never publish it"]
    name = message_key(ce_type)
    errors = [
        f"header: {e.message}"
        for e in validator(f"/components/messages/{name}/headers").iter_errors(found)
    ]
    data = json.loads(value or b"null")
    errors += [f"value: {e}" for e in payload_errors(ce_type, data)]
    if isinstance(data, dict):
        if key is None or key.decode() != str(data.get(message["x-bilan-key"])):
            errors.append(f"key {key!r} is not the value's {message['x-bilan-key']}")
        if found.get("ce_subject") != str(data.get(message["x-bilan-subject"])):
            errors.append(f"ce_subject is not the value's {message['x-bilan-subject']}")
    return errors


def assert_record_conforms(
    key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes]]
) -> None:
    errors = record_errors(key, value, headers)
    assert not errors, f"record not as the committed contract says: {errors}"
