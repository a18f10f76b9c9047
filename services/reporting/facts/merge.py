"""Merging two fact stores: what lets a rebuild replay partitions in parallel processes.

Facts are merged commutatively (see `facts.model`), so the facts of two disjoint sets of events
combine into the facts of their union: the earlier time or the smaller record of a one-off
fact, the union of repeatable facts keyed by `ce_id`.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from .model import KINDS
from .state import FactStore


def combine(mine: Any, theirs: Any) -> Any:
    """The merge of two values of one fact field."""
    if mine is None:
        return theirs
    if theirs is None:
        return mine
    if isinstance(mine, dict):
        merged = dict(mine)
        for key, value in theirs.items():
            merged[key] = combine(merged[key], value) if key in merged else value
        return merged
    # Times and records: the earliest, or the smallest, as `earliest` and `least` keep.
    return theirs if theirs < mine else mine


def merge_into(target: FactStore, other: FactStore) -> None:
    """Fold `other`'s facts into `target`, as if `target` had applied `other`'s events too."""
    for kind in KINDS:
        table = target.table(kind)
        for entity_id, facts in other.table(kind).items():
            found = table.get(entity_id)
            if found is None:
                table[entity_id] = facts
            else:
                for field in fields(found):
                    name = field.name
                    setattr(found, name, combine(getattr(found, name), getattr(facts, name)))
            target.dirty.add((kind, entity_id))
            if kind == "dossier":
                target.changed_dossiers.add(entity_id)
    target.version += other.version + 1
    if other.last_event_at is not None:
        target.last_event_at = max(target.last_event_at or other.last_event_at, other.last_event_at)
