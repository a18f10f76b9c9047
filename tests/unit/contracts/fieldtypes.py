"""Inspection of the annotations of the event models, for tests."""

from __future__ import annotations

import types
from datetime import datetime
from typing import Annotated, Any, Literal, Union, get_args, get_origin
from uuid import UUID

from shared.contracts import EVENT_TYPES, IntegrationEvent


def annotation(cls: type[IntegrationEvent], name: str) -> Any:
    return cls.model_fields[name].annotation


def strip_annotated(tp: Any) -> Any:
    while get_origin(tp) is Annotated:
        tp = get_args(tp)[0]
    return tp


def is_nullable(tp: Any) -> bool:
    tp = strip_annotated(tp)
    return get_origin(tp) in (Union, types.UnionType) and type(None) in get_args(tp)


def without_none(tp: Any) -> Any:
    """The annotation with `| None` and top-level `Annotated` removed."""
    tp = strip_annotated(tp)
    if get_origin(tp) in (Union, types.UnionType):
        rest = [arg for arg in get_args(tp) if arg is not type(None)]
        assert len(rest) == 1, f"unexpected union {tp!r}"
        tp = strip_annotated(rest[0])
    return tp


def literal_values(tp: Any) -> frozenset[str]:
    """Every value of every `Literal` inside the annotation (in lists, unions, …)."""
    tp = strip_annotated(tp)
    if get_origin(tp) is Literal:
        return frozenset(get_args(tp))
    values: frozenset[str] = frozenset()
    if get_origin(tp) is not None:
        for arg in get_args(tp):
            values |= literal_values(arg)
    return values


def kind(cls: type[IntegrationEvent], name: str) -> str:
    """`id`, `time`, `closed`, `int`, `float`, `bool`, `text`, `list` or `dict`."""
    tp = without_none(annotation(cls, name))
    origin = get_origin(tp)
    if origin is list:
        return "list"
    if origin is dict:
        return "dict"
    if origin is Literal:
        return "closed"
    simple = {UUID: "id", datetime: "time", bool: "bool", int: "int", float: "float", str: "text"}
    if tp in simple:
        return simple[tp]
    raise AssertionError(f"{cls.__name__}.{name}: unexpected annotation {tp!r}")


def item_type(cls: type[IntegrationEvent], name: str) -> Any:
    """The type of the items of a list field (Annotated removed)."""
    tp = without_none(annotation(cls, name))
    assert get_origin(tp) is list
    return strip_annotated(get_args(tp)[0])


def fields_of_kind(*kinds: str) -> list[tuple[type[IntegrationEvent], str]]:
    return [
        (cls, name)
        for cls in EVENT_TYPES.values()
        for name in cls.model_fields
        if kind(cls, name) in kinds
    ]
