"""The answer links of surveys, by the SHA-256 hash of their token (never the token itself)."""

from __future__ import annotations

from uuid import UUID

from shared.db import Connection


async def add(conn: Connection, link_hash: str, survey_id: UUID) -> None:
    await conn.execute(
        "INSERT INTO survey_links (token_hash, survey_id) VALUES ($1, $2)",
        link_hash,
        survey_id,
    )


async def survey_of(conn: Connection, link_hash: str) -> UUID | None:
    """The survey a link answers, if any (one indexed look-up, whatever the token was)."""
    survey_id = await conn.fetchval(
        "SELECT survey_id FROM survey_links WHERE token_hash = $1", link_hash
    )
    assert survey_id is None or isinstance(survey_id, UUID)
    return survey_id
