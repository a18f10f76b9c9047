"""How the audit dashboard reads the reporting service's figures: French numbers, and the
codes inside a breakdown in French words."""

from __future__ import annotations

from datetime import date

from services.console.indicator_meanings import BY_NAME
from services.console.routes.audit import breakdown, default_period, reading


def test_rates_means_and_counts_read_as_french_writes_them() -> None:
    rate = {"value": 0.179, "numerator": 75, "denominator": 418}
    assert reading(BY_NAME["abandonment_rate"], rate).replace("\xa0", " ") == "17,9 %"
    assert reading(BY_NAME["satisfaction_mean"], {"value": 3.66}) == "3,7"
    shown = reading(BY_NAME["bilans_completed"], {"value": 1200})
    assert shown.replace("\u202f", " ").replace("\xa0", " ") == "1 200"
    assert reading(BY_NAME["no_show_rate"], {"value": None}) == "—", "a rate over 0"


def test_a_breakdown_says_its_codes_in_french() -> None:
    causes = {
        "by_reason_category": {"health": 2, "employment_found": 1},
        "by_phase_at_abandon": {"none": 0},
    }
    assert breakdown(causes) == [
        ("par motif", "santé : 2, emploi trouvé : 1"),
        ("par phase", "avant toute phase : 0"),
    ]
    team = {"site-1": {"active_staff": 6, "by_role": {"psychologist": 1}, "has_psychologist": True}}
    assert breakdown(team) == [
        ("site-1", "personnel actif : 6, par rôle : (Psychologue : 1), psychologue : oui")
    ]
    assert breakdown({"value": 3}) == [("value", "3")], "an unknown code is kept as it is"
    assert breakdown(42) == []


def test_the_default_period_is_the_last_twelve_whole_months() -> None:
    assert default_period(date(2026, 12, 2)) == (date(2025, 12, 1), date(2026, 12, 1))
