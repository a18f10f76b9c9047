"""The refusal every domain decision raises: a machine-readable code and a status hint."""

from __future__ import annotations


class DomainError(Exception):
    """A command the rules refuse; `code` is stable and machine-readable.

    `status` is 409 when the command conflicts with the aggregate's state (wrong order, already
    done) and 422 when its values break a rule whatever the state (a period too long).
    """

    def __init__(self, code: str, detail: str, *, status: int = 409) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.status = status


def refuse(code: str, detail: str, *, status: int = 409) -> DomainError:
    """Build the error to raise (reads better at the call site: `raise refuse(...)`)."""
    return DomainError(code, detail, status=status)
