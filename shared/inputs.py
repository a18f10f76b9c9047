"""What the system accepts from outside, decided once for every service's request bodies.

Text: any Unicode a person may type, but no control character other than tab and line
breaks, no lone surrogate and no non-character. PostgreSQL refuses NUL in `text`, a lone
surrogate cannot be encoded as UTF-8, and neither belongs in a name or a note; refusing them
everywhere (encrypted fields too) gives one answer, a 422, instead of a 500 in some places.

Business times: RFC 3339 with a timezone (never a number), between 2000 and 2100 — a fact
of a bilan, a training or a qualification recorded in this system happened in that window,
and the bound keeps date arithmetic (a session's end, a week of free slots) far from the
limits of `datetime`. Dates likewise. Integers are strict (JSON `true` is not 1) and bounded.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from shared.contracts.base import UtcDatetime

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
"""No business time before this is plausible (the first bilans date from 1991; none of
theirs is recorded here)."""
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
"""Nor after this one."""
MAX_INT = 2**31 - 1
"""Upper bound of any integer a client sends (ids of versions, counts, amounts in cents)."""

_REFUSED_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


def check_text(value: str) -> str:
    """`value` if the system accepts it as text, else `ValueError` naming the first refusal."""
    found = _REFUSED_CHARACTERS.search(value)
    if found is not None:
        raise ValueError(
            f"text must not contain the control character U+{ord(found.group()):04X} "
            f"(at position {found.start()})"
        )
    return value


def _check_nested(value: Any) -> None:
    if isinstance(value, str):
        check_text(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_nested(key)
            _check_nested(item)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            _check_nested(item)


class RequestBody(BaseModel):
    """Base of every request body: unknown fields are refused and every string in it, however
    deeply nested, follows `check_text`."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _accepted_text(cls, value: Any) -> Any:
        _check_nested(value)
        return value


def _within_window(value: datetime) -> datetime:
    if not EARLIEST <= value < LATEST:
        raise ValueError(
            f"time must lie between {EARLIEST.year} and {LATEST.year - 1} (a business time)"
        )
    return value


BusinessTime = Annotated[UtcDatetime, AfterValidator(_within_window)]
"""A business time from a client: RFC 3339 with a timezone, in the plausible window."""


def _require_iso_date(value: object) -> object:
    # Pydantic would read a number as days or seconds since 1970.
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _DATE.fullmatch(value):
        return value
    raise ValueError("date must be an ISO 8601 calendar date, e.g. 2026-03-09")


def _date_within_window(value: date) -> date:
    if not EARLIEST.date() <= value < LATEST.date():
        raise ValueError(f"date must lie between {EARLIEST.year} and {LATEST.year - 1}")
    return value


BusinessDate = Annotated[
    date, BeforeValidator(_require_iso_date), AfterValidator(_date_within_window)
]
"""A calendar day from a client, `YYYY-MM-DD`, in the plausible window."""

StrictCount = Annotated[int, Field(strict=True, ge=0, le=MAX_INT)]
"""A non-negative JSON integer (not `true`, not `"5"`, not `5.0`), bounded."""

PathInt = Annotated[int, Field(ge=1, le=MAX_INT)]
"""A positive integer in a path or a query (a version number): bounded, so that a 20-digit
number is a 422 rather than an overflow in the database driver."""
