"""The beneficiaries' e-mail blind indexes (the console's sign-in look-up)."""

from __future__ import annotations

from uuid import UUID

from shared.db import Connection


async def put(conn: Connection, beneficiary_id: str, index: str) -> None:
    await conn.execute(
        """INSERT INTO beneficiary_email_index (beneficiary_id, email_index) VALUES ($1, $2)
           ON CONFLICT (beneficiary_id) DO UPDATE SET email_index = EXCLUDED.email_index""",
        UUID(beneficiary_id),
        index,
    )


async def forget(conn: Connection, beneficiary_id: str) -> None:
    await conn.execute(
        "DELETE FROM beneficiary_email_index WHERE beneficiary_id = $1", UUID(beneficiary_id)
    )


async def holders(conn: Connection, index: str) -> list[str]:
    """Beneficiaries whose address has that index (normally one)."""
    rows = await conn.fetch(
        "SELECT beneficiary_id FROM beneficiary_email_index WHERE email_index = $1 LIMIT 2",
        index,
    )
    return [str(r["beneficiary_id"]) for r in rows]


async def unindexed(conn: Connection, limit: int) -> list[str]:
    """Beneficiaries registered before the index existed (a back-fill at start-up)."""
    rows = await conn.fetch(
        """SELECT DISTINCT i.beneficiary_id FROM dossier_index i
           WHERE NOT EXISTS (SELECT FROM beneficiary_email_index e
                             WHERE e.beneficiary_id = i.beneficiary_id)
           LIMIT $1""",
        limit,
    )
    return [str(r["beneficiary_id"]) for r in rows]
