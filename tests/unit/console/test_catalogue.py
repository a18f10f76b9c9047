"""Every user-facing text goes through the catalogue and has its French text."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from services.console.i18n import LOCALE_DIR, _, day, when

CONSOLE = Path(__file__).resolve().parents[3] / "services" / "console"


def _extracted() -> set[str]:
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        CONSOLE,
        method_map=[("**/templates/**.html", "jinja2"), ("**.py", "python")],
        options_map={"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}},
        keywords={"_": None, "gettext": None, "N_": None},
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_message_has_a_french_text() -> None:
    with (LOCALE_DIR / "fr" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalogue = read_po(handle)
    translated = {m.id for m in catalogue if m.id and m.string and not m.fuzzy}
    extracted = _extracted()
    assert len(extracted) > 150
    assert extracted - translated == set()


def test_texts_and_times_are_french_in_paris_time() -> None:
    assert _("Sign in") == "Se connecter"
    # 13:00 UTC on 3 March 2026 is 14:00 in Paris (winter time), 15:00 in July (summer time).
    assert when("2026-03-03T13:00:00Z") == "mardi 3 mars 2026 à 14:00"
    assert when("2026-07-07T13:00:00+00:00") == "mardi 7 juillet 2026 à 15:00"
    assert day("2026-03-31T23:30:00Z") == "1 avril 2026"
    assert when(None) == ""
