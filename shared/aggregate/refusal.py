"""Why the domain refuses a command: a kind, a stable machine-readable code, a safe sentence.

Standard library only: a domain raises them. Each service's API maps `RefusalKind` to an HTTP
status once (`shared.web.install_refusal_handler`); the detail never quotes submitted values,
which may be personal data. Nothing is recorded when a command is refused.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class RefusalKind(StrEnum):
    """What sort of refusal it is; the API turns it into a status code."""

    NOT_FOUND = "not_found"
    """Nothing answers to that reference (or the caller may not know it exists)."""
    FORBIDDEN = "forbidden"
    """The caller may not do this, whatever the state."""
    CONFLICT = "conflict"
    """The command is fine but the current state forbids it (wrong order, already done)."""
    INVALID = "invalid"
    """The command breaks a rule on its own terms, whatever the state (a period too long)."""
    GONE = "gone"
    """The thing existed but is closed or erased for good."""


class Refused(Exception):
    """A command the rules refuse; `code` is stable and machine-readable."""

    def __init__(self, kind: RefusalKind, code: str, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.kind = kind
        self.code = code
        self.detail = detail
        self.extra = extra

    def __repr__(self) -> str:
        return f"Refused({self.kind.value!r}, {self.code!r}, {self.detail!r})"


def refuse(
    code: str, detail: str, *, kind: RefusalKind = RefusalKind.CONFLICT, **extra: Any
) -> Refused:
    """The refusal to raise (reads well at the call site: `raise refuse(...)`)."""
    return Refused(kind, code, detail, **extra)


def not_found(code: str, detail: str, **extra: Any) -> Refused:
    return Refused(RefusalKind.NOT_FOUND, code, detail, **extra)


def forbidden(code: str, detail: str, **extra: Any) -> Refused:
    return Refused(RefusalKind.FORBIDDEN, code, detail, **extra)


def conflict(code: str, detail: str, **extra: Any) -> Refused:
    return Refused(RefusalKind.CONFLICT, code, detail, **extra)


def invalid(code: str, detail: str, **extra: Any) -> Refused:
    return Refused(RefusalKind.INVALID, code, detail, **extra)


def gone(code: str, detail: str, **extra: Any) -> Refused:
    return Refused(RefusalKind.GONE, code, detail, **extra)
