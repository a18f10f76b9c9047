"""Message catalogues (gettext, Babel) and French formatting of dates and times.

The source strings (`msgid`) are English; `locale/<lang>/LC_MESSAGES/messages.po` gives each
language's text. The `.po` is compiled in memory when the console starts, so a fresh clone
needs no build step and no compiled `.mo` is committed. Times are shown in Europe/Paris.
"""

from __future__ import annotations

import gettext
import io
from datetime import datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
LANGUAGE = "fr"
PARIS = ZoneInfo("Europe/Paris")


@cache
def translations(language: str = LANGUAGE) -> gettext.GNUTranslations:
    """The compiled catalogue of `language` (read once per process)."""
    po_file = LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"
    with po_file.open("rb") as handle:
        catalogue = read_po(handle, locale=language)
    compiled = io.BytesIO()
    write_mo(compiled, catalogue)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def _(message: str) -> str:
    """The French text of `message` (for Python code; templates have their own `_`)."""
    return translations().gettext(message)


def when(moment: datetime | str | None) -> str:
    """« mardi 3 mars 2026 à 14:00 », in Paris time."""
    parsed = _parse(moment)
    if parsed is None:
        return ""
    return format_datetime(parsed, "EEEE d MMMM y 'à' HH:mm", tzinfo=PARIS, locale=LANGUAGE)


def day(moment: datetime | str | None) -> str:
    """« 3 mars 2026 », in Paris time."""
    parsed = _parse(moment)
    if parsed is None:
        return ""
    return format_date(parsed.astimezone(PARIS), "d MMMM y", locale=LANGUAGE)


def hour(moment: datetime | str | None) -> str:
    """« 14:00 », in Paris time."""
    parsed = _parse(moment)
    if parsed is None:
        return ""
    return format_time(parsed, "HH:mm", tzinfo=PARIS, locale=LANGUAGE)


def parse_moment(moment: object) -> datetime | None:
    """A time from a service's JSON (RFC 3339 text), None when absent."""
    return _parse(moment) if isinstance(moment, datetime | str) else None


def _parse(moment: datetime | str | None) -> datetime | None:
    if moment is None or moment == "":
        return None
    if isinstance(moment, datetime):
        return moment
    return datetime.fromisoformat(moment.replace("Z", "+00:00"))


def hours(minutes: int | float | None) -> str:
    """« 7 h », « 7,5 h »: minutes as French hours."""
    value = round((minutes or 0) / 60, 1)
    return f"{format_decimal(value, format='#,##0.#', locale=LANGUAGE)} h"


def euros(cents: int | None) -> str:
    """« 1 800,00 € »: cents as a French amount."""
    value = format_decimal((cents or 0) / 100, format="#,##0.00", locale=LANGUAGE)
    return f"{value} €"


def local_input(moment: datetime | str | None) -> str:
    """A time as a datetime-local field shows it, in Paris time (« 2026-03-10T10:00 »)."""
    parsed = _parse(moment)
    return "" if parsed is None else parsed.astimezone(PARIS).strftime("%Y-%m-%dT%H:%M")
