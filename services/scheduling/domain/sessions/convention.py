"""R6313-8: a bilan-phase session only once the dossier's convention is signed (and not while
it is deemed refused); and a dossier that ended (abandoned, withdrawn, completed but for its
follow-up) takes no new session."""

from __future__ import annotations

from datetime import datetime

from services.scheduling.domain.errors import conflict
from services.scheduling.domain.sessions.commands import DossierFacts
from services.scheduling.domain.values import BILAN_PHASES, Phase


def still_open(dossier: DossierFacts, phase: Phase) -> None:
    """The dossier takes a new session of `phase`."""
    if dossier.abandoned_at is not None:
        raise conflict("dossier_ended", "the dossier was abandoned: no new session")
    if dossier.withdrawn_at is not None:
        raise conflict("dossier_ended", "the beneficiary withdrew from the convention")
    if dossier.convention_refused and phase in BILAN_PHASES:
        raise conflict(
            "convention_refused",
            "the convention was deemed refused (R6313-8): no bilan session until one is signed",
        )
    if dossier.completed_at is not None and phase != "follow_up":
        raise conflict(
            "dossier_ended", "the dossier is completed: only a follow-up session can be scheduled"
        )


def signed_for_scheduling(dossier: DossierFacts, now: datetime) -> None:
    """A bilan-phase session is booked only once the convention is signed."""
    if dossier.convention_signed_at is None or dossier.convention_signed_at > now:
        raise conflict(
            "convention_not_signed",
            "a bilan-phase session needs the dossier's signed convention (R6313-8)",
        )


def signed_before(dossier: DossierFacts, started_at: datetime) -> None:
    """A bilan-phase session is held only after the convention was signed."""
    if dossier.convention_signed_at is None or dossier.convention_signed_at > started_at:
        raise conflict(
            "convention_not_signed",
            "a bilan-phase session cannot be held before the convention was signed",
        )
