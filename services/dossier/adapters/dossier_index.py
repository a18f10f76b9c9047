"""The dossier index: one row a dossier (its beneficiary, site, status and referent), refreshed
with each append to its stream (the dossier repository's projection), and its queries."""

from __future__ import annotations

from uuid import UUID

from services.dossier.domain import dossier as d
from shared.db import Connection


async def refresh(
    conn: Connection, before: d.Dossier | None, after: d.Dossier, _version: int
) -> None:
    """Keep the dossier's index row in step with its stream (written only when it changes;
    the version is read from `streams` when the index is listed)."""
    if before is not None and (before.status, before.referent_id) == (
        after.status,
        after.referent_id,
    ):
        return
    await conn.execute(
        """INSERT INTO dossier_index
               (dossier_id, beneficiary_id, site_id, status, referent_id, opened_at)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (dossier_id) DO UPDATE SET status = $4, referent_id = $5""",
        UUID(after.dossier_id),
        UUID(after.beneficiary_id),
        UUID(after.site_id),
        after.status,
        UUID(after.referent_id) if after.referent_id else None,
        after.opened_at,
    )


async def dossier_exists(conn: Connection, dossier_id: str) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT true FROM dossier_index WHERE dossier_id = $1", UUID(dossier_id)
        )
    )


async def dossiers_of(conn: Connection, beneficiary_id: str) -> list[tuple[str, str]]:
    """(dossier_id, status) of every dossier of a beneficiary, oldest first."""
    return [(d, status) for d, status, _ in await dossiers_with_sites(conn, beneficiary_id)]


async def dossiers_with_sites(conn: Connection, beneficiary_id: str) -> list[tuple[str, str, str]]:
    """(dossier_id, status, site_id) of every dossier of a beneficiary, oldest first."""
    rows = await conn.fetch(
        """SELECT dossier_id, status, site_id FROM dossier_index WHERE beneficiary_id = $1
           ORDER BY opened_at""",
        UUID(beneficiary_id),
    )
    return [(str(r["dossier_id"]), r["status"], str(r["site_id"])) for r in rows]


async def beneficiary_of(conn: Connection, dossier_id: str) -> str | None:
    value = await conn.fetchval(
        "SELECT beneficiary_id FROM dossier_index WHERE dossier_id = $1", UUID(dossier_id)
    )
    return str(value) if value else None


async def list_dossiers(
    conn: Connection,
    *,
    site_ids: list[str] | None,
    referent_id: str | None,
    status: str | None,
    limit: int,
) -> list[dict[str, object]]:
    """Index rows, newest first; `site_ids=None` means every site."""
    rows = await conn.fetch(
        """SELECT i.dossier_id, i.beneficiary_id, i.site_id, i.status, i.referent_id,
                  s.version, i.opened_at
           FROM dossier_index i JOIN streams s ON s.stream_id = 'dossier-' || i.dossier_id
           WHERE ($1::uuid[] IS NULL OR site_id = ANY($1::uuid[]))
             AND ($2::uuid IS NULL OR referent_id = $2::uuid)
             AND ($3::text IS NULL OR status = $3::text)
           ORDER BY opened_at DESC, dossier_id
           LIMIT $4""",
        [UUID(s) for s in site_ids] if site_ids is not None else None,
        UUID(referent_id) if referent_id else None,
        status,
        limit,
    )
    return [
        {
            "dossier_id": str(r["dossier_id"]),
            "beneficiary_id": str(r["beneficiary_id"]),
            "site_id": str(r["site_id"]),
            "status": r["status"],
            "referent_id": str(r["referent_id"]) if r["referent_id"] else None,
            "version": r["version"],
            "opened_at": r["opened_at"],
        }
        for r in rows
    ]
