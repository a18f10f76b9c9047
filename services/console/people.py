"""Who a sign-in address belongs to, and how to reach them, asked of the owning services.

Beneficiaries are found through the dossier service and staff through the scheduling
directory, both by the keyed blind index of their address (`shared.blind_index`); the address
itself never leaves the owning service except, at send time, to the mail sender that writes
the sign-in mail (`contact`).
"""

from __future__ import annotations

from dataclasses import dataclass

from services.console.backend import Backend
from shared.auth import Role
from shared.mail import Contact

BENEFICIARY_REF = "beneficiary:"
STAFF_REF = "staff:"
TOKEN_ROLES = frozenset(r.value for r in Role)


@dataclass(frozen=True, slots=True)
class Person:
    """Whom a session is for: an id, roles and sites (what their tokens will say)."""

    subject: str
    roles: tuple[str, ...]
    sites: tuple[str, ...]

    @property
    def is_staff(self) -> bool:
        return Role.BENEFICIARY.value not in self.roles

    @property
    def recipient_ref(self) -> str:
        return (STAFF_REF if self.is_staff else BENEFICIARY_REF) + self.subject


class People:
    def __init__(self, backend: Backend) -> None:
        self._backend = backend

    async def by_email_index(self, index: str) -> Person | None:
        """The one person holding that address: a beneficiary or a staff member still working
        here. None when nobody does, or when two records do (no guess between them)."""
        beneficiaries = await self._backend.call(
            "dossier",
            "GET",
            f"/internal/beneficiaries?email_index={index}",
            token=self._backend.service_token(),
        )
        staff = await self._backend.call(
            "scheduling",
            "GET",
            f"/internal/staff?email_index={index}",
            token=self._backend.service_token(),
        )
        found = [_beneficiary(x) for x in _rows(beneficiaries.body)]
        found += [_staff(x) for x in _rows(staff.body)]
        return found[0] if len(found) == 1 else None

    async def staff_by_email_index(self, index: str) -> Person | None:
        """The one staff member still working here with that address (OpenID Connect: staff
        only), or None."""
        reply = await self._backend.call(
            "scheduling",
            "GET",
            f"/internal/staff?email_index={index}",
            token=self._backend.service_token(),
        )
        found = [_staff(x) for x in _rows(reply.body)]
        return found[0] if len(found) == 1 else None

    async def beneficiary(self, beneficiary_id: str) -> Person | None:
        reply = await self._backend.call(
            "dossier",
            "GET",
            f"/internal/beneficiaries/{beneficiary_id}",
            token=self._backend.service_token(),
            expect=(200, 404, 410, 422),
        )
        return _beneficiary(reply.body) if reply.status == 200 else None

    async def staff(self, staff_id: str) -> Person | None:
        """A staff member's roles and sites as the directory holds them now; None once they
        left (or never were)."""
        reply = await self._backend.call(
            "scheduling",
            "GET",
            f"/internal/staff/{staff_id}",
            token=self._backend.service_token(),
            expect=(200, 404, 422),
        )
        return _staff(reply.body) if reply.status == 200 else None

    async def contact(self, recipient_ref: str) -> Contact | None:
        """The address to write to, at send time (the mail sender's resolver)."""
        if recipient_ref.startswith(BENEFICIARY_REF):
            service, path = "dossier", "/internal/beneficiaries/{}/contact"
            subject = recipient_ref.removeprefix(BENEFICIARY_REF)
        elif recipient_ref.startswith(STAFF_REF):
            service, path = "scheduling", "/internal/staff/{}/contact"
            subject = recipient_ref.removeprefix(STAFF_REF)
        else:
            return None
        reply = await self._backend.call(
            service,  # type: ignore[arg-type]
            "GET",
            path.format(subject),
            token=self._backend.service_token(),
            expect=(200, 404, 410),
        )
        return Contact.model_validate(reply.body) if reply.status == 200 else None


def _rows(body: object) -> list[dict[str, object]]:
    return [x for x in body if isinstance(x, dict)] if isinstance(body, list) else []


def _beneficiary(row: dict[str, object]) -> Person:
    sites = row.get("site_ids")
    return Person(
        subject=str(row["beneficiary_id"]),
        roles=(Role.BENEFICIARY.value,),
        sites=tuple(str(s) for s in sites) if isinstance(sites, list) else (),
    )


def _staff(row: dict[str, object]) -> Person:
    """Roles the tokens know (the directory also records e.g. `disability_referent`)."""
    roles = row.get("roles")
    sites = row.get("site_ids")
    return Person(
        subject=str(row["staff_id"]),
        roles=tuple(str(r) for r in roles if r in TOKEN_ROLES) if isinstance(roles, list) else (),
        sites=tuple(str(s) for s in sites) if isinstance(sites, list) else (),
    )
