"""PostgreSQL read models: written in the transaction of the events they mirror, read to
gather the facts a command needs and to answer queries."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, TypeAlias
from uuid import UUID

import asyncpg

from services.scheduling.domain import sessions as s
from services.scheduling.domain import staff as st
from services.scheduling.domain.values import BILAN_PHASES
from shared.db import Connection

Db: TypeAlias = "Connection | asyncpg.Pool"

LIVE = "scheduled"
_LONGEST_SESSION = timedelta(hours=24)


async def lock(conn: Connection, *names: str) -> None:
    """Serialise the commands touching the same consultant, room or dossier.

    The conflict and 24-hour checks read then write: without these locks two concurrent
    bookings could both see a free slot. Sorted, so two commands never wait on each other.
    """
    for name in sorted(set(names)):
        await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 4))", name)


# --- Sites and rooms -------------------------------------------------------------------------


async def site_exists(db: Db, site_id: UUID) -> bool:
    return bool(await db.fetchval("SELECT true FROM sites WHERE site_id = $1", site_id))


async def open_sites(db: Db) -> frozenset[UUID]:
    return frozenset(r["site_id"] for r in await db.fetch("SELECT site_id FROM sites"))


async def insert_site(
    db: Db, site_id: UUID, name: str, region: str, at: datetime, address: str | None
) -> None:
    await db.execute(
        "INSERT INTO sites (site_id, name, region, opened_at, address) VALUES ($1, $2, $3, $4, $5)",
        site_id,
        name,
        region,
        at,
        address,
    )


async def list_sites(db: Db, site_ids: frozenset[str] | None) -> list[asyncpg.Record]:
    """All sites, or only those named (a token limited to some sites)."""
    if site_ids is None:
        return await db.fetch("SELECT * FROM sites ORDER BY name")
    ids = [UUID(x) for x in site_ids if _is_uuid(x)]
    return await db.fetch("SELECT * FROM sites WHERE site_id = ANY($1) ORDER BY name", ids)


async def insert_room(
    db: Db, room_id: UUID, site_id: UUID, name: str, confidential: bool, at: datetime
) -> None:
    await db.execute(
        """INSERT INTO rooms (room_id, site_id, name, confidential, registered_at)
           VALUES ($1, $2, $3, $4, $5)""",
        room_id,
        site_id,
        name,
        confidential,
        at,
    )


async def room(db: Db, room_id: UUID) -> asyncpg.Record | None:
    return await db.fetchrow("SELECT * FROM rooms WHERE room_id = $1", room_id)


async def room_facts(db: Db, room_id: UUID | None) -> s.RoomFacts | None:
    if room_id is None:
        return None
    row = await room(db, room_id)
    if row is None:
        return None
    return s.RoomFacts(row["room_id"], row["site_id"], row["confidential"])


async def place_of(db: Db, room_id: UUID) -> str | None:
    """Where an in-person session takes place, as written in a reminder."""
    row = await db.fetchrow(
        """SELECT sites.name AS site, sites.address, rooms.name AS room
           FROM rooms JOIN sites USING (site_id) WHERE room_id = $1""",
        room_id,
    )
    return place_label(row["site"], row["room"], row["address"]) if row else None


def place_label(site: str, room: str, address: str | None) -> str:
    """ "Lyon Part-Dieu, salle B12 — 20 rue de la Villette, 69003 Lyon". A room named
    "Salle Bellecour" is not called "salle Salle Bellecour": centres name rooms both ways."""
    room_label = room if room.casefold().startswith("salle") else f"salle {room}"
    place = f"{site}, {room_label}"
    return f"{place} — {address}" if address else place


async def list_rooms(db: Db, site_id: UUID) -> list[asyncpg.Record]:
    return await db.fetch("SELECT * FROM rooms WHERE site_id = $1 ORDER BY name", site_id)


# --- Staff -----------------------------------------------------------------------------------


async def staff_row(db: Db, staff_id: UUID) -> asyncpg.Record | None:
    return await db.fetchrow("SELECT * FROM staff WHERE staff_id = $1", staff_id)


async def staff_facts(db: Db, staff_id: UUID) -> s.StaffFacts | None:
    row = await staff_row(db, staff_id)
    if row is None:
        return None
    return s.StaffFacts(
        staff_id=row["staff_id"],
        roles=frozenset(row["roles"]),
        site_ids=frozenset(row["site_ids"]),
        habilitations=frozenset(row["habilitations"]),
        active=row["left_at"] is None,
    )


async def apply_staff_event(
    db: Db, staff_id: UUID, version: int, event: st.Event, name_sealed: str | None = None
) -> None:
    """Mirror one staff event in the read model."""
    if isinstance(event, st.StaffMemberOnboarded):
        await db.execute(
            """INSERT INTO staff (staff_id, name_sealed, roles, site_ids, contract, onboarded_at,
                                  version) VALUES ($1, $2, $3, $4, $5, $6, $7)""",
            staff_id,
            name_sealed,
            list(event.roles),
            list(event.site_ids),
            event.contract,
            event.onboarded_at,
            version,
        )
        return
    await db.execute("UPDATE staff SET version = $2 WHERE staff_id = $1", staff_id, version)
    if isinstance(event, st.StaffMemberLeft):
        await db.execute(
            "UPDATE staff SET left_at = $2 WHERE staff_id = $1", staff_id, event.left_at
        )
        return
    record: tuple[Any, ...]
    if isinstance(event, st.QualificationRecorded):
        await db.execute(
            """UPDATE staff SET habilitations = ARRAY(SELECT DISTINCT unnest(habilitations || $2))
               WHERE staff_id = $1""",
            staff_id,
            list(event.habilitations),
        )
        record = (
            "qualification",
            event.qualification,
            list(event.habilitations),
            None,
            event.recorded_at,
        )
    elif isinstance(event, st.ContinuousTrainingCompleted):
        record = ("training", event.title_code, None, event.hours, event.completed_at)
    else:
        record = ("evaluation", event.outcome, None, None, event.evaluated_at)
    await db.execute(
        """INSERT INTO staff_records (staff_id, version, kind, code, habilitations, hours,
                                      happened_at) VALUES ($1, $2, $3, $4, $5, $6, $7)""",
        staff_id,
        version,
        *record,
    )


async def lock_staff(conn: Connection, staff_id: UUID) -> None:
    """Hold the staff member's row until the transaction ends (one update at a time)."""
    await conn.execute("SELECT 1 FROM staff WHERE staff_id = $1 FOR UPDATE", staff_id)


async def set_staff_email(
    db: Db, staff_id: UUID, email_sealed: str | None, email_index: str | None
) -> None:
    """The staff member's work address (sealed) and its blind index, or none."""
    await db.execute(
        "UPDATE staff SET email_sealed = $2, email_index = $3 WHERE staff_id = $1",
        staff_id,
        email_sealed,
        email_index,
    )


async def active_staff_with_email_index(db: Db, email_index: str) -> list[asyncpg.Record]:
    """Staff still working here whose address has that blind index (at most two: one is an
    answer, two is a clash nobody should guess between)."""
    return await db.fetch(
        """SELECT * FROM staff WHERE email_index = $1 AND left_at IS NULL
           ORDER BY staff_id LIMIT 2""",
        email_index,
    )


async def list_staff(db: Db, site_id: UUID) -> list[asyncpg.Record]:
    return await db.fetch(
        "SELECT * FROM staff WHERE $1 = ANY(site_ids) ORDER BY onboarded_at, staff_id", site_id
    )


async def staff_records(db: Db, staff_id: UUID) -> list[asyncpg.Record]:
    return await db.fetch(
        "SELECT * FROM staff_records WHERE staff_id = $1 ORDER BY version", staff_id
    )


# --- Dossiers (learnt from the dossier service) ----------------------------------------------


async def dossier_facts(db: Db, dossier_id: UUID) -> s.DossierFacts | None:
    row = await db.fetchrow("SELECT * FROM dossiers WHERE dossier_id = $1", dossier_id)
    if row is None or row["site_id"] is None:
        return None
    return s.DossierFacts(
        dossier_id=row["dossier_id"],
        site_id=row["site_id"],
        beneficiary_id=row["beneficiary_id"],
        convention_signed_at=row["convention_signed_at"],
        referent_id=row["referent_id"],
        completed_at=row["completed_at"],
        abandoned_at=row["abandoned_at"],
        withdrawn_at=row["withdrawn_at"],
        convention_refused_at=row["convention_refused_at"],
    )


async def upsert_dossier(db: Db, dossier_id: UUID, **fields: Any) -> None:
    """Record facts of a dossier, whatever arrived first: every column is set independently."""
    columns = list(fields)
    assignments = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns)
    placeholders = ", ".join(f"${i}" for i in range(2, len(columns) + 2))
    await db.execute(
        f"""INSERT INTO dossiers (dossier_id, {", ".join(columns)}) VALUES ($1, {placeholders})
            ON CONFLICT (dossier_id) DO UPDATE SET {assignments}""",  # noqa: S608 (fixed names)
        dossier_id,
        *fields.values(),
    )


# --- Sessions --------------------------------------------------------------------------------


async def session_version(conn: Connection, session_id: UUID) -> int | None:
    """The session's version, with its row locked until the transaction ends."""
    version = await conn.fetchval(
        "SELECT version FROM sessions WHERE session_id = $1 FOR UPDATE", session_id
    )
    return int(version) if version is not None else None


async def session_row(db: Db, session_id: UUID) -> asyncpg.Record | None:
    return await db.fetchrow("SELECT * FROM sessions WHERE session_id = $1", session_id)


async def bookings_around(
    db: Db, consultant_id: UUID, room_id: UUID | None, starts_at: datetime, minutes: int
) -> tuple[s.Booking, ...]:
    """Live sessions of the consultant or the room that could overlap the slot."""
    rows = await db.fetch(
        """SELECT session_id, consultant_id, room_id, starts_at, planned_minutes FROM sessions
           WHERE status = $1 AND (consultant_id = $2 OR ($3::uuid IS NOT NULL AND room_id = $3))
             AND starts_at < $5 AND starts_at > $4""",
        LIVE,
        consultant_id,
        room_id,
        starts_at - _LONGEST_SESSION,
        starts_at + timedelta(minutes=minutes),
    )
    return tuple(
        s.Booking(
            r["session_id"], r["consultant_id"], r["room_id"], r["starts_at"], r["planned_minutes"]
        )
        for r in rows
    )


async def bilan_minutes_used(db: Db, dossier_id: UUID, excluding: UUID | None = None) -> int:
    """Planned minutes of live sessions plus held minutes, in the three bilan phases."""
    used = await db.fetchval(
        """SELECT coalesce(sum(CASE WHEN status = 'held' THEN held_minutes
                                    WHEN status = 'scheduled' THEN planned_minutes
                                    ELSE 0 END), 0)
           FROM sessions WHERE dossier_id = $1 AND phase = ANY($2)
             AND session_id IS DISTINCT FROM $3""",
        dossier_id,
        sorted(BILAN_PHASES),
        excluding,
    )
    return int(used)


async def save_session(db: Db, state: s.Session, version: int) -> None:
    """Write the session as it now is."""
    await db.execute(
        """INSERT INTO sessions (session_id, dossier_id, site_id, consultant_id, room_id,
               modality, phase, starts_at, planned_minutes, status, revision, join_link,
               held_started_at, held_minutes, beneficiary_signed_at, consultant_signed_at, version)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
           ON CONFLICT (session_id) DO UPDATE SET
               starts_at = EXCLUDED.starts_at, status = EXCLUDED.status,
               revision = EXCLUDED.revision, held_started_at = EXCLUDED.held_started_at,
               held_minutes = EXCLUDED.held_minutes,
               beneficiary_signed_at = EXCLUDED.beneficiary_signed_at,
               consultant_signed_at = EXCLUDED.consultant_signed_at, version = EXCLUDED.version""",
        state.session_id,
        state.dossier_id,
        state.site_id,
        state.consultant_id,
        state.room_id,
        state.modality,
        state.phase,
        state.starts_at,
        state.planned_minutes,
        state.status,
        state.revision,
        state.join_link,
        state.held_started_at,
        state.held_minutes,
        state.signatures.get("beneficiary"),
        state.signatures.get("consultant"),
        version,
    )


async def sessions_of_dossier(db: Db, dossier_id: UUID) -> list[asyncpg.Record]:
    return await db.fetch(
        "SELECT * FROM sessions WHERE dossier_id = $1 ORDER BY starts_at, session_id", dossier_id
    )


async def sessions_of_consultant(
    db: Db, consultant_id: UUID, since: datetime, until: datetime
) -> list[asyncpg.Record]:
    return await db.fetch(
        """SELECT * FROM sessions WHERE consultant_id = $1 AND starts_at < $3
             AND starts_at + make_interval(mins => planned_minutes) > $2
           ORDER BY starts_at""",
        consultant_id,
        since,
        until,
    )


def _is_uuid(text: str) -> bool:
    try:
        UUID(text)
    except ValueError:
        return False
    return True


# --- Calendar feeds --------------------------------------------------------------------------


async def set_feed_secret_hash(db: Db, staff_id: UUID, secret_hash: str, at: datetime) -> None:
    """Replace the staff member's feed secret (the previous one stops working)."""
    await db.execute(
        """INSERT INTO calendar_feeds (staff_id, secret_hash, rotated_at) VALUES ($1, $2, $3)
           ON CONFLICT (staff_id) DO UPDATE
           SET secret_hash = EXCLUDED.secret_hash, rotated_at = EXCLUDED.rotated_at""",
        staff_id,
        secret_hash,
        at,
    )


async def feed_owner(db: Db, secret_hash: str) -> UUID | None:
    owner: UUID | None = await db.fetchval(
        "SELECT staff_id FROM calendar_feeds WHERE secret_hash = $1", secret_hash
    )
    return owner
