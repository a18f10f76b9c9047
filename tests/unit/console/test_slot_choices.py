"""The start times offered to move a session, from the consultant's free slots."""

from __future__ import annotations

from datetime import UTC, datetime

from services.console.routes.session_changes import slot_choices

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def _slot(start: str, end: str) -> dict[str, str]:
    return {"starts_at": start, "ends_at": end}


def test_starts_on_the_half_hour_where_the_session_fits() -> None:
    slots = [_slot("2026-03-03T08:10:00Z", "2026-03-03T10:00:00Z")]
    found = [c.starts_at for c in slot_choices(slots, 60, "2026-03-05T09:00:00Z", not_before=NOW)]
    assert found == ["2026-03-03T08:30:00+00:00", "2026-03-03T09:00:00+00:00"]


def test_not_too_soon_not_the_current_start_and_a_few_per_day() -> None:
    slots = [
        _slot("2026-03-02T08:00:00Z", "2026-03-02T17:00:00Z"),
        _slot("2026-03-03T08:00:00Z", "2026-03-03T17:00:00Z"),
    ]
    found = slot_choices(
        slots, 60, "2026-03-03T08:00:00+00:00", not_before=datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    )
    starts = [c.starts_at for c in found]
    assert starts[0] == "2026-03-02T09:00:00+00:00"
    assert "2026-03-03T08:00:00+00:00" not in starts
    assert len(starts) == 8  # four a day
    assert (
        slot_choices(
            [_slot("2026-03-03T08:00:00Z", "2026-03-03T08:45:00Z")],
            60,
            "2026-03-05T09:00:00Z",
            not_before=NOW,
        )
        == []
    )
