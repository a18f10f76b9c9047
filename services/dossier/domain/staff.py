"""What the dossier knows of a staff member (learnt from the scheduling service's events)."""

from __future__ import annotations

from dataclasses import dataclass

REFERENT_ROLES = frozenset({"consultant", "psychologist"})
"""Roles that may be a beneficiary's referent and conduct the bilan."""


@dataclass(frozen=True, slots=True)
class StaffFacts:
    """A staff member as of now: roles, sites, whether still with us, habilitations."""

    staff_id: str
    roles: frozenset[str]
    site_ids: frozenset[str]
    active: bool
    habilitations: frozenset[str] = frozenset()

    def can_conduct_bilans_at(self, site_id: str) -> bool:
        """An active consultant or psychologist of that site."""
        return self.active and bool(self.roles & REFERENT_ROLES) and site_id in self.site_ids
