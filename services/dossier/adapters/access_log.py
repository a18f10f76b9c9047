"""The record of every read of bilan content (who, when, what)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from shared.db import Connection


async def record(
    conn: Connection,
    *,
    beneficiary_id: str,
    dossier_id: str | None,
    reader_id: str,
    reader_roles: list[str],
    what: str,
    at: datetime,
) -> None:
    await conn.execute(
        """INSERT INTO content_access_log
               (beneficiary_id, dossier_id, reader_id, reader_roles, what, read_at)
           VALUES ($1, $2, $3, $4, $5, $6)""",
        UUID(beneficiary_id),
        UUID(dossier_id) if dossier_id else None,
        reader_id,
        sorted(reader_roles),
        what,
        at,
    )


async def entries(conn: Connection, beneficiary_id: str) -> list[dict[str, Any]]:
    """The beneficiary's log, oldest first."""
    rows = await conn.fetch(
        """SELECT dossier_id, reader_id, reader_roles, what, read_at FROM content_access_log
           WHERE beneficiary_id = $1 ORDER BY read_at, id""",
        UUID(beneficiary_id),
    )
    return [
        {
            "dossier_id": str(r["dossier_id"]) if r["dossier_id"] else None,
            "reader_id": r["reader_id"],
            "reader_roles": list(r["reader_roles"]),
            "what": r["what"],
            "read_at": r["read_at"],
        }
        for r in rows
    ]
