"""Read-model rows as query results."""

from __future__ import annotations

from typing import Any

import asyncpg


async def list_rows(pool: asyncpg.Pool, query: str, *args: object) -> list[dict[str, Any]]:
    """Read-model rows as dicts."""
    return [dict(r) for r in await pool.fetch(query, *args)]
