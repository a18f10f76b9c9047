"""The AsyncAPI 3.0 document of the three topics, generated from the typed models.

The models are the source of truth; this module only describes them: one channel per topic,
one message per event type (superseded versions included, marked `x-bilan-published: false`:
consumers still decode them), the CloudEvents headers of each message with its `ce_type` and
`ce_source`, the Kafka key, the payload schema (pydantic's JSON Schema, closed lists moved to
`components/schemas` under the names the models give them), and one `send` operation per
topic. `python -m shared.contracts` writes it to `contract/asyncapi.json`.
"""

from __future__ import annotations

import ast
import copy
import inspect
import itertools
from collections.abc import Iterator
from types import ModuleType
from typing import Any, Literal, get_args, get_origin

from shared.contracts import dossier, prose, scheduling, survey
from shared.contracts.base import IntegrationEvent
from shared.contracts.registry import EVENT_TYPES

SERVICES: tuple[tuple[str, ModuleType], ...] = (
    ("dossier", dossier),
    ("scheduling", scheduling),
    ("survey", survey),
)
KAFKA_BINDING_VERSION = "0.5.0"
UUID_PATTERN = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
ORGANISATION_SITE = "org"


def message_name(cls: type[IntegrationEvent]) -> str:
    """`DossierOpened.v1`: the message's key in the document."""
    return f"{cls.event_name}.v{cls.event_version}"


def channel_name(service: str) -> str:
    return f"{service}Events"


def closed_lists() -> dict[str, tuple[tuple[str, ...], str]]:
    """Every closed list of the models: name -> (values, the docstring the module gives it)."""
    found: dict[str, tuple[tuple[str, ...], str]] = {}
    for _, module in SERVICES:
        docs = _attribute_docstrings(module)
        for name, value in vars(module).items():
            # Only the lists the module defines (and documents), not those it imports.
            if get_origin(value) is Literal and name in docs:
                found[name] = (tuple(str(v) for v in get_args(value)), docs[name])
    return dict(sorted(found.items()))


def _attribute_docstrings(module: ModuleType) -> dict[str, str]:
    # A module-level alias is documented by the string that follows it (as Sphinx reads it).
    tree = ast.parse(inspect.getsource(module))
    docs: dict[str, str] = {}
    body = tree.body
    for node, following in itertools.pairwise(body):
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1):
            continue
        target = node.targets[0]
        if (
            isinstance(target, ast.Name)
            and isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
            and isinstance(following.value.value, str)
        ):
            docs[target.id] = " ".join(following.value.value.split())
    return docs


def _list_refs() -> dict[tuple[str, ...], str]:
    refs: dict[tuple[str, ...], str] = {}
    for name, (values, _) in closed_lists().items():
        key = tuple(sorted(values))
        if key in refs:
            raise ValueError(f"closed lists {refs[key]} and {name} hold the same values")
        refs[key] = name
    return refs


def payload_schema(cls: type[IntegrationEvent]) -> dict[str, Any]:
    """The JSON Schema of the event's value, as producers must write it."""
    schema = cls.model_json_schema()
    optional = cls.optional_fields()
    properties: dict[str, Any] = schema["properties"]
    refs = _list_refs()
    for name, prop in properties.items():
        prop.pop("title", None)
        if name in optional:
            # Absent rather than null (`IntegrationEvent.to_json_dict`): the value, when given.
            prop.pop("default", None)
            (given,) = [branch for branch in prop.pop("anyOf") if branch.get("type") != "null"]
            prop.update(given)
            prop["description"] = prop.get("description") or "optional"
        properties[name] = _with_list_refs(prop, refs)
    schema.pop("title", None)
    schema["description"] = " ".join((cls.__doc__ or "").split())
    return schema


def _with_list_refs(node: Any, refs: dict[tuple[str, ...], str]) -> Any:
    if isinstance(node, list):
        return [_with_list_refs(item, refs) for item in node]
    if not isinstance(node, dict):
        return node
    values = node["enum"] if "enum" in node else [node["const"]] if "const" in node else None
    if values is not None:
        name = refs.get(tuple(sorted(str(v) for v in values)))
        if name is not None:
            rest = {k: v for k, v in node.items() if k not in ("enum", "const", "type")}
            ref = {"$ref": f"#/components/schemas/{name}"}
            # Draft-07 ignores siblings of $ref: keep any description beside it with allOf.
            return {"allOf": [ref], **rest} if rest else ref
    return {key: _with_list_refs(value, refs) for key, value in node.items()}


def headers_schema(cls: type[IntegrationEvent]) -> dict[str, Any]:
    return {
        "allOf": [
            {"$ref": "#/components/schemas/CloudEventsHeaders"},
            {
                "type": "object",
                "properties": {
                    "ce_type": {"const": cls.ce_type()},
                    "ce_source": {"const": cls.ce_source()},
                    "ce_subject": {"description": f"= the value's `{cls.subject_field}`"},
                    "ce_time": {"description": f"= the value's `{cls.time_field}`"},
                },
            },
        ]
    }


def _cloud_events_headers() -> dict[str, Any]:
    described = dict(prose.HEADERS)
    properties: dict[str, Any] = {
        "ce_specversion": {"const": "1.0"},
        "ce_id": {"type": "string", "pattern": UUID_PATTERN},
        "ce_source": {"type": "string", "pattern": "^/bilan/(dossier|scheduling|survey)$"},
        "ce_type": {
            "type": "string",
            "pattern": "^bilan\\.(dossier|scheduling|survey)\\.[A-Z][A-Za-z]+\\.v[1-9][0-9]*$",
        },
        "ce_time": {"type": "string", "format": "date-time", "pattern": "Z$"},
        "ce_subject": {"type": "string", "pattern": UUID_PATTERN},
        "ce_sequence": {"type": "string", "pattern": "^[1-9][0-9]*$"},
        "ce_siteid": {
            "type": "string",
            "pattern": UUID_PATTERN.replace("^", f"^({ORGANISATION_SITE}|", 1).replace("$", ")$"),
        },
        "ce_correlationid": {"type": "string", "minLength": 1},
        "ce_causationid": {"type": "string", "minLength": 1},
        "content-type": {"const": "application/json"},
    }
    for name, prop in properties.items():
        prop["description"] = described[name]
    return {
        "type": "object",
        "description": "CloudEvents 1.0, Kafka binary content mode: the record's headers.",
        "required": list(properties),
        "properties": properties,
    }


def _message(cls: type[IntegrationEvent]) -> dict[str, Any]:
    keyed = f"the value's `{cls.key_field}`"
    if cls.key_field != cls.subject_field:
        keyed += f" (the subject, `ce_subject`, is `{cls.subject_field}`)"
    message: dict[str, Any] = {
        "name": cls.event_name,
        "title": cls.ce_type(),
        "summary": " ".join((cls.__doc__ or "").split()),
        "contentType": "application/json",
        "headers": headers_schema(cls),
        "payload": payload_schema(cls),
        "correlationId": {"location": "$message.header#/ce_correlationid"},
        "bindings": {
            "kafka": {
                "key": {"type": "string", "pattern": UUID_PATTERN, "description": keyed},
                "bindingVersion": KAFKA_BINDING_VERSION,
            }
        },
        "x-bilan-key": cls.key_field,
        "x-bilan-subject": cls.subject_field,
        "x-bilan-time": cls.time_field,
        "x-bilan-published": cls.published,
    }
    if not cls.published:
        message["description"] = (
            "Superseded: consumers decode it from the history (and upcast it to the newer "
            "version); producers never publish it."
        )
    return message


def event_types_of(service: str) -> Iterator[type[IntegrationEvent]]:
    return (cls for cls in EVENT_TYPES.values() if cls.service == service)


def asyncapi_document() -> dict[str, Any]:
    """The whole document, as a JSON-ready dict (keys in a stable order)."""
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for service, module in SERVICES:
        channel = channel_name(service)
        names = []
        for cls in event_types_of(service):
            name = message_name(cls)
            names.append(name)
            messages[name] = _message(cls)
        channels[channel] = {
            "address": f"bilan.{service}.events",
            "title": f"bilan.{service}.events",
            "description": " ".join((module.__doc__ or "").split()),
            "messages": {n: {"$ref": f"#/components/messages/{n}"} for n in names},
            "bindings": {
                "kafka": {
                    "topic": f"bilan.{service}.events",
                    "topicConfiguration": {"retention.ms": -1},
                    "bindingVersion": KAFKA_BINDING_VERSION,
                }
            },
        }
        operations[f"publish{service.capitalize()}Events"] = {
            "action": "send",
            "title": f"The {service} service publishes",
            "channel": {"$ref": f"#/channels/{channel}"},
            "messages": [
                {"$ref": f"#/channels/{channel}/messages/{n}"}
                for n in names
                if messages[n]["x-bilan-published"]
            ],
        }
    schemas: dict[str, Any] = {"CloudEventsHeaders": _cloud_events_headers()}
    for name, (values, doc) in closed_lists().items():
        schemas[name] = {"type": "string", "enum": list(values), "description": doc}
    description = "\n\n".join(
        (
            prose.PURPOSE,
            prose.EVOLUTION,
            prose.PRIVACY,
            prose.TOPICS_NOTE,
            "Rules every producer keeps (consumers may rely on them):\n\n"
            + "\n".join(f"{n}. {rule}" for n, rule in enumerate(prose.RULES, start=1)),
        )
    )
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": prose.TITLE,
            "version": prose.CONTRACT_VERSION,
            "description": description,
        },
        "defaultContentType": "application/json",
        "servers": {
            "local": {
                "host": "127.0.0.1:9092",
                "protocol": "kafka",
                "description": "The development stack's broker (`bilan stack up`).",
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {"schemas": schemas, "messages": copy.deepcopy(messages)},
    }
