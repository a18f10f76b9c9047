"""Working days in France, for deadlines counted in "jours ouvrés" (complaint acknowledgement).

A working day here is Monday to Friday except French public holidays (Code du travail
L3133-1: the eleven jours fériés of metropolitan France). Days are counted in Paris local
time, since that is the complainant's and the centre's calendar.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")


def easter_sunday(year: int) -> date:
    """Gregorian Easter Sunday (anonymous Gregorian algorithm, Meeus/Jones/Butcher)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    ell = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ell) // 451
    month, day = divmod(h + ell - 7 * m + 114, 31)
    return date(year, month, day + 1)


@cache
def french_public_holidays(year: int) -> frozenset[date]:
    """The eleven public holidays of metropolitan France in `year` (L3133-1)."""
    easter = easter_sunday(year)
    fixed = [(1, 1), (5, 1), (5, 8), (7, 14), (8, 15), (11, 1), (11, 11), (12, 25)]
    movable = [easter + timedelta(days=1), easter + timedelta(days=39), easter + timedelta(days=50)]
    return frozenset([date(year, m, d) for m, d in fixed] + movable)


def is_working_day(day: date) -> bool:
    """Monday to Friday and not a French public holiday."""
    return day.weekday() < 5 and day not in french_public_holidays(day.year)


def add_working_days(start: datetime, days: int) -> datetime:
    """`start` moved forward by `days` working days, keeping its local time of day.

    A complaint received on a Friday at 10:00 with two working days to be acknowledged is due
    on Tuesday at 10:00; one received on a Saturday is due on Tuesday too (Monday is day one).
    """
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    if days < 0:
        raise ValueError("days must not be negative")
    local = start.astimezone(PARIS)
    day = local.date()
    remaining = days
    while remaining > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            remaining -= 1
    moved = datetime.combine(day, local.timetz().replace(tzinfo=None), tzinfo=PARIS)
    return moved.astimezone(start.tzinfo)
