"""What this service learnt of other services' records: dossiers (their site, beneficiary and
where they stand), erased and objecting beneficiaries, held bilan sessions.

Rows are written by the reactions to `bilan.dossier.events` and `bilan.scheduling.events`, in
the transaction of the event's de-duplication record, and read when a survey is due.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from shared.db import Connection


@dataclass(frozen=True, slots=True)
class KnownDossier:
    """A dossier's site and where it stands: open, completed, abandoned, withdrawn, erased."""

    site_id: str
    state: str


@dataclass(frozen=True, slots=True)
class HeldSession:
    session_id: UUID
    started_at: datetime


async def remember_opened(
    conn: Connection, dossier_id: UUID, beneficiary_id: UUID, site_id: str
) -> None:
    """Record an opened dossier; one of a beneficiary already erased is born erased (the
    erasure may have been read first, from another partition)."""
    erased = await conn.fetchval(
        "SELECT true FROM survey_erased_beneficiaries WHERE beneficiary_id = $1",
        beneficiary_id,
    )
    await conn.execute(
        """INSERT INTO survey_dossiers (dossier_id, beneficiary_id, site_id, state)
           VALUES ($1, $2, $3, $4)
           ON CONFLICT (dossier_id) DO UPDATE SET beneficiary_id = EXCLUDED.beneficiary_id,
               site_id = EXCLUDED.site_id,
               state = CASE WHEN $4 = 'erased' THEN 'erased' ELSE survey_dossiers.state END""",
        dossier_id,
        beneficiary_id,
        site_id,
        "erased" if erased else "open",
    )


async def standing(conn: Connection, dossier_id: UUID) -> KnownDossier | None:
    """The dossier's site and state, if this service heard of it."""
    row = await conn.fetchrow(
        "SELECT site_id, state FROM survey_dossiers WHERE dossier_id = $1", dossier_id
    )
    return KnownDossier(row["site_id"], row["state"]) if row is not None else None


async def dossier_of(conn: Connection, dossier_id: UUID) -> dict[str, Any] | None:
    """The beneficiary and site this service learnt of a dossier, if it knows it."""
    row = await conn.fetchrow(
        "SELECT beneficiary_id, site_id FROM survey_dossiers WHERE dossier_id = $1", dossier_id
    )
    return dict(row) if row is not None else None


async def mark_completed(
    conn: Connection, dossier_id: UUID, site_id: str, completed_at: datetime
) -> None:
    await conn.execute(
        """INSERT INTO survey_dossiers (dossier_id, site_id, state, completed_at)
           VALUES ($1, $2, 'completed', $3)
           ON CONFLICT (dossier_id) DO UPDATE SET state = 'completed',
               completed_at = EXCLUDED.completed_at""",
        dossier_id,
        site_id,
        completed_at,
    )


async def mark_ended(
    conn: Connection, dossier_id: UUID, site_id: str, state: Literal["abandoned", "withdrawn"]
) -> None:
    """A dossier abandoned, or whose beneficiary withdrew (an erased one stays erased)."""
    await conn.execute(
        """INSERT INTO survey_dossiers (dossier_id, site_id, state) VALUES ($1, $2, $3)
           ON CONFLICT (dossier_id) DO UPDATE SET state = CASE
               WHEN survey_dossiers.state = 'erased' THEN 'erased' ELSE EXCLUDED.state END""",
        dossier_id,
        site_id,
        state,
    )


async def erase_beneficiary(
    conn: Connection, beneficiary_id: UUID, erased_at: datetime
) -> list[UUID]:
    """Remember the erasure and mark the beneficiary's dossiers erased; their ids."""
    await conn.execute(
        """INSERT INTO survey_erased_beneficiaries (beneficiary_id, erased_at) VALUES ($1, $2)
           ON CONFLICT DO NOTHING""",
        beneficiary_id,
        erased_at,
    )
    rows = await conn.fetch(
        """UPDATE survey_dossiers SET state = 'erased' WHERE beneficiary_id = $1
           RETURNING dossier_id""",
        beneficiary_id,
    )
    return [r["dossier_id"] for r in rows]


async def record_objection(
    conn: Connection, beneficiary_id: UUID, objected_at: datetime
) -> list[UUID]:
    """Remember an upheld objection; the ids of the beneficiary's dossiers."""
    await conn.execute(
        """INSERT INTO survey_objected_beneficiaries (beneficiary_id, objected_at)
           VALUES ($1, $2) ON CONFLICT DO NOTHING""",
        beneficiary_id,
        objected_at,
    )
    rows = await conn.fetch(
        "SELECT dossier_id FROM survey_dossiers WHERE beneficiary_id = $1", beneficiary_id
    )
    return [r["dossier_id"] for r in rows]


async def objected(conn: Connection, dossier_id: UUID) -> bool:
    """Whether the dossier's beneficiary objected to the surveys (their objection upheld)."""
    return bool(
        await conn.fetchval(
            """SELECT true FROM survey_dossiers d JOIN survey_objected_beneficiaries o
                 ON o.beneficiary_id = d.beneficiary_id WHERE d.dossier_id = $1""",
            dossier_id,
        )
    )


async def remember_held_session(
    conn: Connection, session_id: UUID, dossier_id: UUID, phase: str, started_at: datetime
) -> None:
    await conn.execute(
        """INSERT INTO survey_held_sessions (session_id, dossier_id, phase, started_at)
           VALUES ($1, $2, $3, $4) ON CONFLICT (session_id) DO NOTHING""",
        session_id,
        dossier_id,
        phase,
        started_at,
    )


async def last_held_session(conn: Connection, dossier_id: UUID, phase: str) -> HeldSession | None:
    """The phase's latest held session, if one was heard of."""
    row = await conn.fetchrow(
        """SELECT session_id, started_at FROM survey_held_sessions
           WHERE dossier_id = $1 AND phase = $2
           ORDER BY started_at DESC, session_id DESC LIMIT 1""",
        dossier_id,
        phase,
    )
    return HeldSession(row["session_id"], row["started_at"]) if row is not None else None


async def remember_referent(
    conn: Connection, dossier_id: UUID, referent_id: UUID, site_id: str
) -> None:
    """Record the dossier's current referent (the dossier may not be known yet: the events
    of one dossier come in order, but this service may have started listening after it)."""
    await conn.execute(
        """INSERT INTO survey_dossiers (dossier_id, site_id, state, referent_id)
           VALUES ($1, $2, 'open', $3)
           ON CONFLICT (dossier_id) DO UPDATE SET referent_id = EXCLUDED.referent_id""",
        dossier_id,
        site_id,
        referent_id,
    )


async def referent_of(conn: Connection, dossier_id: UUID) -> UUID | None:
    """The dossier's referent consultant, if this service learnt of one."""
    referent: UUID | None = await conn.fetchval(
        "SELECT referent_id FROM survey_dossiers WHERE dossier_id = $1", dossier_id
    )
    return referent
