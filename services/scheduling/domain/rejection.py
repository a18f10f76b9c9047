"""Why the domain refuses a command: a machine-readable code, a sentence, and details."""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class RejectionKind(StrEnum):
    """What sort of refusal it is; the API turns it into a status code."""

    NOT_FOUND = "not_found"
    CONFLICT = "conflict"
    """The request is fine but the current state forbids it (double booking, wrong status)."""
    INVALID = "invalid"
    """The request breaks a business rule on its own terms (the 24-hour cap, a room elsewhere)."""
    FORBIDDEN = "forbidden"
    GONE = "gone"
    """It existed and is no more (a staff member who left, an address erased)."""


class Rejected(Exception):
    """A command the domain refuses; nothing is recorded."""

    def __init__(self, kind: RejectionKind, code: str, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.kind = kind
        self.code = code
        self.detail = detail
        self.extra = extra


def not_found(code: str, detail: str, **extra: Any) -> Rejected:
    return Rejected(RejectionKind.NOT_FOUND, code, detail, **extra)


def conflict(code: str, detail: str, **extra: Any) -> Rejected:
    return Rejected(RejectionKind.CONFLICT, code, detail, **extra)


def invalid(code: str, detail: str, **extra: Any) -> Rejected:
    return Rejected(RejectionKind.INVALID, code, detail, **extra)


def forbidden(code: str, detail: str, **extra: Any) -> Rejected:
    return Rejected(RejectionKind.FORBIDDEN, code, detail, **extra)
