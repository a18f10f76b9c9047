"""Why the domain refuses a command: a machine-readable code and a safe explanation.

The API turns each kind into its HTTP status; the detail never quotes submitted values, which
may be personal data.
"""

from __future__ import annotations


class DomainError(Exception):
    """A command the rules refuse; `code` is stable and machine-readable."""

    status_hint = 409

    def __init__(self, code: str, detail: str, **extra: object) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.extra = extra


class InvalidCommand(DomainError):
    """The command itself is malformed or inconsistent (HTTP 422)."""

    status_hint = 422


class NotAllowedNow(DomainError):
    """The command is well formed but the aggregate's state forbids it (HTTP 409)."""

    status_hint = 409


class Gone(DomainError):
    """The thing existed but is closed for good, e.g. an expired survey (HTTP 410)."""

    status_hint = 410


class NotFound(DomainError):
    """Nothing answers to that reference (HTTP 404); says nothing more on purpose."""

    status_hint = 404
