"""A site's name and address, as the mails about its sessions sign them (no personal data)."""

from __future__ import annotations

from typing import TypeAlias
from uuid import UUID

import asyncpg

from shared.db import Connection

Db: TypeAlias = "Connection | asyncpg.Pool"


async def site_name_and_address(db: Db, site_id: UUID) -> tuple[str | None, str | None]:
    """The site's name and address; (None, None) for a site this service does not know."""
    row = await db.fetchrow("SELECT name, address FROM sites WHERE site_id = $1", site_id)
    return (row["name"], row["address"]) if row else (None, None)
