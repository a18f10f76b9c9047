"""A staff member's contact, from the scheduling service's directory at send time."""

from __future__ import annotations

from shared.mail import Contact, HttpContactResolver, close_resolver

STAFF_REF = "staff:"


class StaffContacts:
    """Resolves `staff:<id>` through `GET /internal/staff/{id}/contact` (404, 410: None)."""

    def __init__(self, http: HttpContactResolver) -> None:
        self._http = http

    async def __call__(self, recipient_ref: str) -> Contact | None:
        return await self._http(recipient_ref.removeprefix(STAFF_REF))

    async def aclose(self) -> None:
        await close_resolver(self._http)
