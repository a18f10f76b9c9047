"""Stakeholders' addresses, sealed under a key of their survey's own, held only while it is open
(the row is deleted, and the key shredded, when the survey closes)."""

from __future__ import annotations

from uuid import UUID

from shared.db import Connection


async def put(conn: Connection, survey_id: UUID, sealed_email: str) -> None:
    await conn.execute(
        "INSERT INTO stakeholder_contacts (survey_id, sealed_email) VALUES ($1, $2)",
        survey_id,
        sealed_email,
    )


async def sealed_email(conn: Connection, survey_id: UUID) -> str | None:
    """The sealed address of a stakeholder survey, if still held."""
    value = await conn.fetchval(
        "SELECT sealed_email FROM stakeholder_contacts WHERE survey_id = $1", survey_id
    )
    return str(value) if value is not None else None


async def forget(conn: Connection, survey_id: UUID) -> bool:
    """Delete the survey's address; whether it had one (whose key is then to be shredded)."""
    return bool(
        await conn.fetchval(
            "DELETE FROM stakeholder_contacts WHERE survey_id = $1 RETURNING true", survey_id
        )
    )
