"""Free slots of a consultant: working hours minus the sessions that hold them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True, slots=True)
class WorkingHours:
    """When sessions may take place, in the centre's local time."""

    start: time
    end: time
    weekdays: frozenset[int]
    """0 is Monday."""
    timezone: str


@dataclass(frozen=True, slots=True)
class Slot:
    starts_at: datetime
    ends_at: datetime

    @property
    def minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)


def free_slots(
    busy: list[Slot],
    first_day: date,
    last_day: date,
    hours: WorkingHours,
    *,
    now: datetime,
    min_minutes: int = 30,
) -> list[Slot]:
    """Free stretches of at least `min_minutes` in working hours, from `now` on, in UTC."""
    zone = ZoneInfo(hours.timezone)
    ordered = sorted(busy, key=lambda s: s.starts_at)
    found: list[Slot] = []
    day = first_day
    while day <= last_day:
        if day.weekday() in hours.weekdays:
            opening = datetime.combine(day, hours.start, zone).astimezone(UTC)
            closing = datetime.combine(day, hours.end, zone).astimezone(UTC)
            cursor = max(opening, now)
            for taken in ordered:
                if taken.ends_at <= cursor or taken.starts_at >= closing:
                    continue
                if taken.starts_at > cursor:
                    found.append(Slot(cursor, taken.starts_at))
                cursor = max(cursor, taken.ends_at)
            if cursor < closing:
                found.append(Slot(cursor, closing))
        day += timedelta(days=1)
    return [s for s in found if s.minutes >= min_minutes]


def within_hours(hours: WorkingHours, starts_at: datetime, minutes: int) -> bool:
    """Whether [starts_at, + minutes) lies inside one working day's hours (local time)."""
    zone = ZoneInfo(hours.timezone)
    start = starts_at.astimezone(zone)
    end = (starts_at + timedelta(minutes=minutes)).astimezone(zone)
    return (
        start.weekday() in hours.weekdays
        and start.date() == end.date()
        and hours.start <= start.time()
        and end.time() <= hours.end
    )
