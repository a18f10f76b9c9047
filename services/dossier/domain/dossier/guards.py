"""Checks every topic shares: business-time order (rules 4 and 5) and the phase a fact
belongs to (R6313-4)."""

from __future__ import annotations

from datetime import datetime

from services.dossier.domain.dossier.state import Dossier
from services.dossier.domain.errors import INVALID, refuse


def not_before(at: datetime, **earlier: datetime | None) -> None:
    """Rules 4 and 5 speak of business time: a fact cannot be dated before what it follows."""
    late = [name for name, moment in earlier.items() if moment is not None and at < moment]
    if late:
        raise refuse(
            "time_order",
            "this fact cannot be dated before: " + ", ".join(late),
            kind=INVALID,
        )


def before_phase(state: Dossier, phase: str, why: str) -> None:
    if phase in state.phases_started:
        raise refuse("phase_passed", why)


def in_phase(state: Dossier, phase: str, why: str) -> None:
    if phase not in state.phases_started:
        raise refuse("phase_not_reached", why)
