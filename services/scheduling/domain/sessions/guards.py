"""Checks every command on an existing session shares: that it exists, and that it is still
scheduled (only then can it be moved, cancelled, missed or held)."""

from __future__ import annotations

from services.scheduling.domain.errors import conflict, not_found
from services.scheduling.domain.sessions.state import Session


def existing(state: Session | None) -> Session:
    if state is None:
        raise not_found("session_not_found", "no such session")
    return state


def scheduled(state: Session | None) -> Session:
    """Only a scheduled session can be rescheduled, cancelled, missed or held."""
    s = existing(state)
    if s.status != "scheduled":
        raise conflict(
            "session_not_scheduled",
            f"the session is {s.status.replace('_', ' ')}; only a scheduled session can change",
            # Not `status`: that name is the problem document's HTTP status.
            session_status=s.status,
        )
    return s
