"""The questionnaire catalogue: every published version of each campaign's questionnaire, as
the JSON definition `domain.questionnaire` reads and writes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from shared.db import Connection

_INSERT = """INSERT INTO questionnaires (campaign, version, definition, published_at, published_by)
             VALUES ($1, $2, $3, $4, $5)"""
_INSERT_IF_ABSENT = """INSERT INTO questionnaires (campaign, version, definition, published_at,
                                                   published_by)
                       VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING"""


async def insert(
    conn: Connection | asyncpg.Pool,
    campaign: str,
    version: int,
    definition: dict[str, Any],
    *,
    published_at: datetime,
    published_by: str,
    if_absent: bool = False,
) -> None:
    """Store a version; with `if_absent`, one already there is kept (seeding at every start)."""
    await conn.execute(
        _INSERT_IF_ABSENT if if_absent else _INSERT,
        campaign,
        version,
        definition,
        published_at,
        published_by,
    )


async def latest_definition(conn: Connection | asyncpg.Pool, campaign: str) -> Any:
    """The definition of the campaign's latest version (None when it has none)."""
    return await conn.fetchval(
        "SELECT definition FROM questionnaires WHERE campaign = $1 ORDER BY version DESC LIMIT 1",
        campaign,
    )


async def definition(conn: Connection | asyncpg.Pool, campaign: str, version: int) -> Any:
    """The definition of one version (None when there is no such version)."""
    return await conn.fetchval(
        "SELECT definition FROM questionnaires WHERE campaign = $1 AND version = $2",
        campaign,
        version,
    )


async def lock_campaign(conn: Connection, campaign: str) -> None:
    """Serialise the publishers of one campaign until the transaction ends: two editors
    cannot both make version n+1."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext('questionnaire:' || $1))", campaign)


async def latest_version(conn: Connection, campaign: str) -> int:
    """The campaign's latest version number (0 when it has none)."""
    latest: int = await conn.fetchval(
        "SELECT coalesce(max(version), 0) FROM questionnaires WHERE campaign = $1", campaign
    )
    return latest
