"""Why the domain refuses a command: the platform's `Refused`, one class per kind.

The API maps each kind to its HTTP status once (`services.survey.api.REFUSAL_STATUS`); the
detail never quotes submitted values, which may be personal data.
"""

from __future__ import annotations

from typing import ClassVar

from shared.aggregate.refusal import RefusalKind, Refused


class DomainError(Refused):
    """A command the rules refuse; `code` is stable and machine-readable."""

    KIND: ClassVar[RefusalKind] = RefusalKind.CONFLICT

    def __init__(self, code: str, detail: str, **extra: object) -> None:
        super().__init__(self.KIND, code, detail, **extra)


class InvalidCommand(DomainError):
    """The command itself is malformed or inconsistent (HTTP 422)."""

    KIND = RefusalKind.INVALID


class NotAllowedNow(DomainError):
    """The command is well formed but the aggregate's state forbids it (HTTP 409)."""

    KIND = RefusalKind.CONFLICT


class Gone(DomainError):
    """The thing existed but is closed for good, e.g. an expired survey (HTTP 410)."""

    KIND = RefusalKind.GONE


class NotFound(DomainError):
    """Nothing answers to that reference (HTTP 404); says nothing more on purpose."""

    KIND = RefusalKind.NOT_FOUND
