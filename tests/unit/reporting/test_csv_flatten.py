"""Breakdowns become one CSV row per leaf, named by their path."""

from __future__ import annotations

from services.reporting.api import flatten


def test_nested_values_flatten_to_dotted_names() -> None:
    value = {"by_reason_category": {"health": 2}, "by_phase_at_abandon": {"none": 1}}
    assert flatten("abandonment_causes", value) == [
        ("abandonment_causes.by_reason_category.health", 2),
        ("abandonment_causes.by_phase_at_abandon.none", 1),
    ]
    assert flatten("bilans_completed", 3) == [("bilans_completed", 3)]
    assert flatten("abandonment_rate", None) == [("abandonment_rate", None)]
