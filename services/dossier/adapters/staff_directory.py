"""The staff read model, fed by the scheduling service's events."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from services.dossier.domain.staff import StaffFacts
from shared.db import Connection


async def onboard(
    conn: Connection, staff_id: str, roles: Iterable[str], site_ids: Iterable[str]
) -> None:
    await conn.execute(
        """INSERT INTO staff (staff_id, roles, site_ids, active) VALUES ($1, $2, $3, true)
           ON CONFLICT (staff_id) DO UPDATE
           SET roles = $2, site_ids = $3, active = true, updated_at = clock_timestamp()""",
        UUID(staff_id),
        sorted(set(roles)),
        sorted(set(site_ids)),
    )


async def leave(conn: Connection, staff_id: str) -> None:
    await conn.execute(
        """INSERT INTO staff (staff_id, active) VALUES ($1, false)
           ON CONFLICT (staff_id) DO UPDATE SET active = false, updated_at = clock_timestamp()""",
        UUID(staff_id),
    )


async def add_habilitations(conn: Connection, staff_id: str, habilitations: Iterable[str]) -> None:
    # A qualification adds habilitations; it never removes those of an earlier one.
    await conn.execute(
        """INSERT INTO staff (staff_id, habilitations) VALUES ($1, $2)
           ON CONFLICT (staff_id) DO UPDATE
           SET habilitations = ARRAY(SELECT DISTINCT unnest(staff.habilitations || $2)
                                     ORDER BY 1),
               updated_at = clock_timestamp()""",
        UUID(staff_id),
        sorted(set(habilitations)),
    )


async def find(conn: Connection, staff_id: str) -> StaffFacts | None:
    """What we know of a staff member, or None if never heard of."""
    try:
        key = UUID(staff_id)
    except ValueError:
        return None
    row = await conn.fetchrow(
        "SELECT roles, site_ids, active, habilitations FROM staff WHERE staff_id = $1", key
    )
    if row is None:
        return None
    return StaffFacts(
        str(key),
        frozenset(row["roles"]),
        frozenset(row["site_ids"]),
        row["active"],
        frozenset(row["habilitations"]),
    )
