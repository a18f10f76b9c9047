"""Server-side sessions in the console's database.

The cookie holds 256 random bits; the table holds only their SHA-256, with the person's id,
roles and sites (never a name or an address). A session ends when it is revoked (sign-out),
unused for the idle timeout, or older than the absolute timeout, whichever comes first.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

from shared.auth import Principal, Role

COOKIE = "bilan_session"
TOUCH_EVERY = timedelta(seconds=60)
"""`last_seen_at` is written at most this often: a page view is not a write each time."""


@dataclass(frozen=True, slots=True)
class Session:
    id_hash: bytes
    subject: str
    roles: tuple[str, ...]
    sites: tuple[str, ...]
    csrf_token: str
    via: str
    created_at: datetime
    last_seen_at: datetime

    @property
    def principal(self) -> Principal:
        return Principal(
            subject=self.subject,
            roles=frozenset(Role(r) for r in self.roles),
            sites=frozenset(self.sites),
        )

    def has_role(self, role: Role) -> bool:
        return role.value in self.roles


def hash_id(cookie_value: str) -> bytes:
    return hashlib.sha256(cookie_value.encode()).digest()


class SessionStore:
    def __init__(self, pool: asyncpg.Pool, *, idle: timedelta, absolute: timedelta) -> None:
        self._pool = pool
        self._idle = idle
        self._absolute = absolute

    async def create(
        self,
        *,
        subject: str,
        roles: list[str],
        sites: list[str],
        via: str,
        csrf_token: str,
        now: datetime,
        conn: asyncpg.Connection | None = None,
    ) -> str:
        """A new session; returns the cookie value (shown once, never stored)."""
        cookie_value = secrets.token_urlsafe(32)
        await (conn or self._pool).execute(
            """INSERT INTO console_sessions (id_hash, subject, roles, sites, csrf_token, via,
                                             created_at, last_seen_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $7)""",
            hash_id(cookie_value),
            subject,
            roles,
            sites,
            csrf_token,
            via,
            now,
        )
        return cookie_value

    async def load(self, cookie_value: str | None, now: datetime) -> Session | None:
        """The live session behind a cookie, or None (absent, unknown, revoked, timed out)."""
        if not cookie_value or len(cookie_value) > 100:
            return None
        row = await self._pool.fetchrow(
            """SELECT id_hash, subject, roles, sites, csrf_token, via, created_at, last_seen_at
               FROM console_sessions
               WHERE id_hash = $1 AND revoked_at IS NULL
                 AND last_seen_at > $2 AND created_at > $3""",
            hash_id(cookie_value),
            now - self._idle,
            now - self._absolute,
        )
        if row is None:
            return None
        session = Session(
            id_hash=row["id_hash"],
            subject=row["subject"],
            roles=tuple(row["roles"]),
            sites=tuple(row["sites"]),
            csrf_token=row["csrf_token"],
            via=row["via"],
            created_at=row["created_at"],
            last_seen_at=row["last_seen_at"],
        )
        if now - session.last_seen_at >= TOUCH_EVERY:
            await self._pool.execute(
                "UPDATE console_sessions SET last_seen_at = $2 WHERE id_hash = $1",
                session.id_hash,
                now,
            )
        return session

    async def revoke(self, id_hash: bytes, now: datetime) -> None:
        await self._pool.execute(
            """UPDATE console_sessions SET revoked_at = $2
               WHERE id_hash = $1 AND revoked_at IS NULL""",
            id_hash,
            now,
        )

    async def purge(self, now: datetime) -> int:
        """Delete sessions that can no longer be used (a background chore)."""
        status = await self._pool.execute(
            """DELETE FROM console_sessions
               WHERE revoked_at IS NOT NULL OR last_seen_at <= $1 OR created_at <= $2""",
            now - self._idle,
            now - self._absolute,
        )
        return int(status.split()[-1])
