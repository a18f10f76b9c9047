"""Why the domain refuses a command: the platform's refusal (`shared.aggregate.refusal`).

A kind (not found, conflict, invalid, forbidden, gone), a machine-readable code, a sentence and
details; the API turns the kind into a status code once (`services.scheduling.api`).
"""

from __future__ import annotations

from shared.aggregate.refusal import (
    RefusalKind,
    Refused,
    conflict,
    forbidden,
    gone,
    invalid,
    not_found,
)

Rejected = Refused
"""A command the domain refuses; nothing is recorded."""
RejectionKind = RefusalKind

__all__ = [
    "Rejected",
    "RejectionKind",
    "conflict",
    "forbidden",
    "gone",
    "invalid",
    "not_found",
]
