"""The beneficiary's contact for a mail about a dossier, read at send time, never stored.

One rule for every sender (this service's own mails, and the other services through
`GET /internal/dossiers/{id}/contact`): an unknown dossier has no contact (404); an erased
beneficiary none (410), nor one whose processing is restricted (GDPR art. 18: their data is
only stored, so nobody writes to them about their bilan until the restriction is lifted).
"""

from __future__ import annotations

import asyncpg

from services.dossier.adapters import dossier_index
from services.dossier.application import aggregates
from services.dossier.application.views import DESTROYED, ContentReader
from services.dossier.domain.errors import GONE, NOT_FOUND, refuse
from shared.aggregate.refusal import Refused
from shared.db import Connection
from shared.mail import Contact
from shared.runtime import ServiceRuntime
from shared.unit_of_work import unit_of_work


async def contact_for_dossier(
    conn: Connection, runtime: ServiceRuntime, reader: ContentReader, dossier_id: str
) -> Contact:
    """The contact of the dossier's beneficiary; refused 404 (unknown) or 410 (erased,
    restricted)."""
    beneficiary_id = await dossier_index.beneficiary_of(conn, dossier_id)
    if beneficiary_id is None:
        raise refuse("dossier_not_found", "no such dossier", kind=NOT_FOUND)
    state = (await aggregates.beneficiaries(runtime).load(beneficiary_id, conn=conn)).state
    if state is None or state.erased_at is not None:
        raise refuse("beneficiary_erased", "this beneficiary's data was erased", kind=GONE)
    if state.restricted:
        raise refuse(
            "processing_restricted",
            "the beneficiary restricted the processing of their data (GDPR art. 18)",
            kind=GONE,
        )
    identity = await reader.identity(conn, state)
    name, email, phone = identity["name"], identity["email"], identity["phone"]
    if name in (None, DESTROYED) or email in (None, DESTROYED):
        raise refuse("beneficiary_erased", "this beneficiary's data was erased", kind=GONE)
    assert name is not None
    assert email is not None
    return Contact(name=name, email=email, phone=None if phone == DESTROYED else phone)


class DossierContacts:
    """The mail sender's resolver: a dossier id's contact, or None when there is none."""

    def __init__(self, runtime: ServiceRuntime, reader: ContentReader) -> None:
        self._runtime = runtime
        self._reader = reader

    async def __call__(self, recipient_ref: str) -> Contact | None:
        pool: asyncpg.Pool = self._runtime.pool
        async with unit_of_work(pool) as conn:
            try:
                return await contact_for_dossier(conn, self._runtime, self._reader, recipient_ref)
            except Refused:
                return None
