"""The refusal every domain decision raises: the platform's `Refused`, with a kind.

`kind` is `CONFLICT` when the command conflicts with the aggregate's state (wrong order,
already done), `INVALID` when its values break a rule whatever the state (a period too long),
`NOT_FOUND`, `FORBIDDEN` or `GONE` (erased). The API answers each kind with its status
(`services.dossier.api.REFUSAL_STATUS`).
"""

from __future__ import annotations

from shared.aggregate.refusal import RefusalKind, Refused

CONFLICT = RefusalKind.CONFLICT
INVALID = RefusalKind.INVALID
NOT_FOUND = RefusalKind.NOT_FOUND
FORBIDDEN = RefusalKind.FORBIDDEN
GONE = RefusalKind.GONE

_CONVENTIONAL_STATUS = {NOT_FOUND: 404, FORBIDDEN: 403, CONFLICT: 409, INVALID: 422, GONE: 410}


class DomainError(Refused):
    """A command the rules refuse; `code` is stable and machine-readable."""

    def __init__(self, code: str, detail: str, *, kind: RefusalKind = CONFLICT) -> None:
        super().__init__(kind, code, detail)

    @property
    def status(self) -> int:
        """The conventional HTTP status of the kind, for callers that read it (the API uses
        its own `REFUSAL_STATUS`, which agrees: a test holds them together)."""
        return _CONVENTIONAL_STATUS[self.kind]


def refuse(code: str, detail: str, *, kind: RefusalKind = CONFLICT) -> DomainError:
    """Build the error to raise (reads better at the call site: `raise refuse(...)`)."""
    return DomainError(code, detail, kind=kind)
