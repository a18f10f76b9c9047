"""Figures as indicators.md returns them: rates with their parts, null when nothing to count."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

Figure = dict[str, Any]
"""`{"value"}` for counts, medians and breakdowns; `{"value", "numerator", "denominator"}`
for rates and means."""

DAY_S = 86_400.0
HOUR_S = 3_600.0


def count(value: int) -> Figure:
    return {"value": value}


def rate(numerator: int, denominator: int) -> Figure:
    """A share between 0 and 1; `null`, never 0, when the denominator is 0."""
    return {
        "value": numerator / denominator if denominator else None,
        "numerator": numerator,
        "denominator": denominator,
    }


def mean(total: float, how_many: int) -> Figure:
    """A mean with its sum and count; `null` over nothing."""
    return {
        "value": total / how_many if how_many else None,
        "numerator": total,
        "denominator": how_many,
    }


def median(values: Sequence[float]) -> Figure:
    """The median; of an even count, the mean of the two middle values; `null` over nothing."""
    return {"value": statistics.median(values) if values else None}


def day_start(day: date) -> float:
    """POSIX seconds of 00:00 UTC on `day`: periods are half-open `[from, to)` of UTC dates."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()


def iso(seconds: float | None) -> str | None:
    """RFC 3339 UTC text of POSIX seconds."""
    if seconds is None:
        return None
    return datetime.fromtimestamp(seconds, UTC).isoformat().replace("+00:00", "Z")
