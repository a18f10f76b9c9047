"""Calendar feeds (read with a per-feed secret in the URL), free slots, attendance sheets."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID

import asyncpg

from services.scheduling.adapters import read_models as rm
from services.scheduling.adapters.attendance_pdf import render_attendance_sheet
from services.scheduling.adapters.icalendar_feed import render_calendar
from services.scheduling.application.access import MANAGERS, principal_id
from services.scheduling.domain.availability import Slot, WorkingHours, free_slots
from services.scheduling.domain.errors import forbidden, invalid, not_found
from services.scheduling.domain.sessions import DossierFacts
from services.scheduling.settings import Settings
from shared.auth import Principal
from shared.clock import Clock

FEED_PAST = timedelta(days=90)
FEED_FUTURE = timedelta(days=365)
MAX_SLOT_RANGE_DAYS = 62


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class CalendarService:
    """What staff read about their time: calendar feeds, free slots, attendance sheets."""

    def __init__(
        self, *, pool: Callable[[], asyncpg.Pool], clock: Clock, settings: Settings
    ) -> None:
        self._pool = pool
        self._clock = clock
        self._settings = settings

    async def rotate_feed_secret(self, principal: Principal, staff_id: UUID) -> str:
        """A new secret for the staff member's feed; the previous one stops working."""
        await self._visible_staff(principal, staff_id, self_allowed=True)
        secret = secrets.token_urlsafe(32)
        await rm.set_feed_secret_hash(self._pool(), staff_id, _hash(secret), self._clock.now())
        return secret

    async def feed(self, secret: str) -> bytes:
        """The feed of whoever holds this secret; an unknown secret is simply not found."""
        staff_id = await rm.feed_owner(self._pool(), _hash(secret))
        if staff_id is None:
            raise not_found("feed_not_found", "no such calendar feed")
        now = self._clock.now()
        rows = await rm.sessions_of_consultant(
            self._pool(), staff_id, now - FEED_PAST, now + FEED_FUTURE
        )
        rows = [r for r in rows if r["status"] in ("scheduled", "held")]
        places = {}
        for room_id in {r["room_id"] for r in rows if r["room_id"] is not None}:
            places[room_id] = await rm.place_of(self._pool(), room_id) or ""
        return render_calendar(rows, places, now)

    async def free_slots(
        self, principal: Principal, staff_id: UUID, first: date, last: date, min_minutes: int
    ) -> list[Slot]:
        """Free stretches of the staff member's working hours between two dates (inclusive)."""
        await self._visible_staff(principal, staff_id, self_allowed=True)
        return await self.free_slots_of(staff_id, first, last, min_minutes)

    async def free_slots_of(
        self, staff_id: UUID, first: date, last: date, min_minutes: int
    ) -> list[Slot]:
        """As `free_slots`, for a caller already checked (a session's own beneficiary)."""
        if last < first or (last - first).days > MAX_SLOT_RANGE_DAYS:
            raise invalid(
                "date_range_invalid",
                f"`to` is on or after `from`, at most {MAX_SLOT_RANGE_DAYS} days later",
            )
        s = self._settings
        hours = WorkingHours(
            s.working_day_start,
            s.working_day_end,
            frozenset(s.working_weekdays),
            s.display_timezone,
        )
        since = datetime.combine(first, time.min, UTC) - timedelta(days=1)
        until = datetime.combine(last, time.min, UTC) + timedelta(days=2)
        rows = await rm.sessions_of_consultant(self._pool(), staff_id, since, until)
        busy = [
            Slot(r["starts_at"], r["starts_at"] + timedelta(minutes=r["planned_minutes"]))
            for r in rows
            if r["status"] == rm.LIVE
        ]
        return free_slots(busy, first, last, hours, now=self._clock.now(), min_minutes=min_minutes)

    async def attendance_sheet(self, dossier: DossierFacts) -> bytes:
        """The dossier's attendance sheet as a PDF (the caller was checked by the route)."""
        rows = await rm.sessions_of_dossier(self._pool(), dossier.dossier_id)
        return render_attendance_sheet(
            dossier.dossier_id,
            rows,
            timezone=self._settings.display_timezone,
            generated_at=self._clock.now(),
        )

    async def _visible_staff(
        self, principal: Principal, staff_id: UUID, *, self_allowed: bool
    ) -> None:
        row = await rm.staff_row(self._pool(), staff_id)
        if row is None or not any(principal.can_act_on_site(x) for x in row["site_ids"]):
            raise not_found("staff_not_found", "no such staff member")
        if principal.has_any_role(MANAGERS):
            return
        if self_allowed and principal_id(principal) == staff_id:
            return
        raise forbidden("not_yours", "only the staff member or a manager of their site may")
