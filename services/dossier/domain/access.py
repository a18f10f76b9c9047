"""Need-to-know: who may read what of a dossier (professional secrecy, Code pénal 226-13).

Bilan content is for the beneficiary, their referent, and a psychologist for the assessments
they administered. Managers see administration, never content; nobody sees another site.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

STAFF_ROLES = frozenset(
    {"consultant", "psychologist", "site_manager", "quality_lead", "auditor", "admin"}
)
CONDUCTING_ROLES = frozenset({"consultant", "psychologist"})


class Access(StrEnum):
    """The outcome: allowed, forbidden (403), or hidden as if it did not exist (404)."""

    ALLOWED = "allowed"
    FORBIDDEN = "forbidden"
    HIDDEN = "hidden"


@dataclass(frozen=True, slots=True)
class Reader:
    """The caller, as the policy needs to know them."""

    subject: str
    roles: frozenset[str]
    sites: frozenset[str]
    all_sites: bool = False

    def covers(self, site_id: str) -> bool:
        return self.all_sites or site_id in self.sites


@dataclass(frozen=True, slots=True)
class DossierParties:
    """Who the dossier belongs to and who conducts it."""

    beneficiary_id: str
    site_id: str
    referent_id: str | None


def _own_or_site(reader: Reader, dossier: DossierParties) -> Access | None:
    if "beneficiary" in reader.roles:
        return Access.ALLOWED if reader.subject == dossier.beneficiary_id else Access.HIDDEN
    if not reader.covers(dossier.site_id) or not (reader.roles & STAFF_ROLES):
        return Access.HIDDEN
    return None


def administrative(reader: Reader, dossier: DossierParties) -> Access:
    """Dates, phases, convention status, durations: any staff role of the site."""
    return _own_or_site(reader, dossier) or Access.ALLOWED


def content(reader: Reader, dossier: DossierParties) -> Access:
    """Needs analysis, notes, synthesis: the beneficiary and the referent only."""
    decided = _own_or_site(reader, dossier)
    if decided is not None:
        return decided
    if reader.roles & CONDUCTING_ROLES and reader.subject == dossier.referent_id:
        return Access.ALLOWED
    return Access.FORBIDDEN


def assessment_result(reader: Reader, dossier: DossierParties, administered_by: str) -> Access:
    """A test result: as content, plus the psychologist who administered that test."""
    decided = content(reader, dossier)
    if decided is Access.FORBIDDEN and "psychologist" in reader.roles:
        return Access.ALLOWED if reader.subject == administered_by else Access.FORBIDDEN
    return decided


def conduct(reader: Reader, dossier: DossierParties) -> Access:
    """Writing bilan content: the referent, or before one is named a conducting staff member."""
    decided = _own_or_site(reader, dossier)
    if decided is Access.HIDDEN:
        return decided
    if "beneficiary" in reader.roles or not (reader.roles & CONDUCTING_ROLES):
        return Access.FORBIDDEN
    if dossier.referent_id is None or dossier.referent_id == reader.subject:
        return Access.ALLOWED
    return Access.FORBIDDEN
