"""L6313-4: a bilan lasts at most 24 hours. Only bilan-phase time counts (R6313-4): planned
minutes while a session is live, held minutes once held."""

from __future__ import annotations

from services.scheduling.domain.errors import invalid
from services.scheduling.domain.values import DURATION_CAP_MINUTES


def check_cap(used: int, wanted: int) -> None:
    remaining = max(DURATION_CAP_MINUTES - used, 0)
    if wanted > remaining:
        raise invalid(
            "duration_cap_exceeded",
            f"a bilan lasts at most 24 hours (L6313-4): {remaining} minutes are left for this "
            f"dossier, {wanted} were asked",
            remaining_minutes=remaining,
        )
