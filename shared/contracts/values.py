"""Value types shared by the event models of the integration contract (v1.1).

Counts, minutes, cents and versions are strict integers: a JSON string `"5"`, a float `5.0`
or a boolean is refused instead of being coerced. Codes are lower snake_case strings checked
by a pattern. Lists of closed values or ids never hold the same value twice.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Annotated, TypeVar

from pydantic import AfterValidator, Field, StrictBool, StringConstraints

__all__ = [
    "BilanMinutes",
    "Cents",
    "CertificationCode",
    "Code",
    "Flag",
    "HeldMinutes",
    "Hours",
    "LegalGround",
    "NonEmptyUniqueList",
    "Ordinal",
    "OrganisationLabel",
    "UniqueList",
    "Version",
]

_H = TypeVar("_H", bound=Hashable)


def _no_duplicates(values: list[_H]) -> list[_H]:
    seen: set[_H] = set()
    duplicates: list[_H] = []
    for value in values:
        if value in seen and value not in duplicates:
            duplicates.append(value)
        seen.add(value)
    if duplicates:
        shown = ", ".join(repr(str(value)) for value in duplicates)
        raise ValueError(f"list must not contain duplicates, found {shown}")
    return values


_UNIQUE = Field(json_schema_extra={"uniqueItems": True})
"""Says in the JSON Schema what `_no_duplicates` checks."""

UniqueList = Annotated[list[_H], _UNIQUE, AfterValidator(_no_duplicates)]
"""A list (possibly empty) in which every value occurs at most once."""

NonEmptyUniqueList = Annotated[
    list[_H], Field(min_length=1), _UNIQUE, AfterValidator(_no_duplicates)
]
"""A list of at least one value in which every value occurs at most once."""

Flag = StrictBool
"""A real JSON boolean: `"true"`, `1` or `"yes"` are refused."""

Code = Annotated[str, StringConstraints(strict=True, pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
"""A lower snake_case code from a catalogue kept by a service (habilitation, qualification,
training title, survey question)."""

LegalGround = Annotated[str, StringConstraints(strict=True, pattern=r"^[a-z0-9_]+$", max_length=64)]
"""A lower snake_case reference to a legal provision, e.g. `art17_3_b` (GDPR art. 17(3)(b))."""

CertificationCode = Annotated[
    str, StringConstraints(strict=True, pattern=r"^(RNCP|RS)[0-9]+$", max_length=16)
]
"""A France Compétences register code: `RNCP` or `RS` followed by digits, e.g. `RNCP35185`."""

OrganisationLabel = Annotated[
    str, StringConstraints(strict=True, min_length=1, max_length=200, pattern=r"\S")
]
"""A short non-blank label naming something of the organisation (never a person)."""

BilanMinutes = Annotated[int, Field(strict=True, ge=1, le=1440)]
"""A positive duration in minutes, at most the 24 hours a bilan may last (L6313-4)."""

HeldMinutes = Annotated[int, Field(strict=True, ge=0, le=1440)]
"""Minutes held in the three phases of a bilan: 0 to 1,440 (rule 5 of the contract)."""

Cents = Annotated[int, Field(strict=True, ge=0)]
"""An amount of money in euro cents."""

Version = Annotated[int, Field(strict=True, ge=1)]
"""A version number, counted from 1."""

Ordinal = Annotated[int, Field(strict=True, ge=1)]
"""A rank counted from 1: first, second, third…"""

Hours = Annotated[float, Field(strict=True, ge=0, allow_inf_nan=False)]
"""A finite non-negative number of hours (a JSON integer or decimal number)."""
