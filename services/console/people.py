"""Who a sign-in address belongs to, and how to reach them, asked of the owning services.

Beneficiaries are found through the dossier service by the keyed blind index of their address
(`shared.blind_index`); the address itself never leaves the dossier service except, at send
time, to the mail sender that writes the sign-in mail (`contact`).
"""

from __future__ import annotations

from dataclasses import dataclass

from services.console.backend import Backend
from shared.auth import Role
from shared.mail import Contact

BENEFICIARY_REF = "beneficiary:"


@dataclass(frozen=True, slots=True)
class Person:
    """Whom a session is for: an id, roles and sites (what their tokens will say)."""

    subject: str
    roles: tuple[str, ...]
    sites: tuple[str, ...]

    @property
    def recipient_ref(self) -> str:
        return BENEFICIARY_REF + self.subject


class People:
    def __init__(self, backend: Backend) -> None:
        self._backend = backend

    async def by_email_index(self, index: str) -> Person | None:
        """The beneficiary holding that address, if exactly one does."""
        reply = await self._backend.call(
            "dossier",
            "GET",
            f"/internal/beneficiaries?email_index={index}",
            token=self._backend.service_token(),
        )
        found = reply.body if isinstance(reply.body, list) else []
        if len(found) != 1:
            return None  # none, or an address shared by two records: no guess
        return _beneficiary(found[0])

    async def beneficiary(self, beneficiary_id: str) -> Person | None:
        reply = await self._backend.call(
            "dossier",
            "GET",
            f"/internal/beneficiaries/{beneficiary_id}",
            token=self._backend.service_token(),
            expect=(200, 404, 410, 422),
        )
        return _beneficiary(reply.body) if reply.status == 200 else None

    async def contact(self, recipient_ref: str) -> Contact | None:
        """The address to write to, at send time (the mail sender's resolver)."""
        if not recipient_ref.startswith(BENEFICIARY_REF):
            return None
        beneficiary_id = recipient_ref.removeprefix(BENEFICIARY_REF)
        reply = await self._backend.call(
            "dossier",
            "GET",
            f"/internal/beneficiaries/{beneficiary_id}/contact",
            token=self._backend.service_token(),
            expect=(200, 404, 410),
        )
        return Contact.model_validate(reply.body) if reply.status == 200 else None


def _beneficiary(row: dict[str, object]) -> Person:
    sites = row.get("site_ids")
    return Person(
        subject=str(row["beneficiary_id"]),
        roles=(Role.BENEFICIARY.value,),
        sites=tuple(str(s) for s in sites) if isinstance(sites, list) else (),
    )
