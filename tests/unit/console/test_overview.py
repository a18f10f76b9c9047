"""The bilan at a glance, from the services' answers (pure functions)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from services.console import overview


def _dossier(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "status": "open",
        "deontology_notice_version": 1,
        "needs_analysis_recorded": True,
        "convention": {"status": "signed", "signed_at": "2026-03-01T10:00:00Z"},
        "phases": {
            "preliminary": {
                "started_at": "2026-03-02T09:00:00Z",
                "completed_at": "2026-03-09T09:00:00Z",
            },
            "investigation": {"started_at": "2026-03-10T09:00:00Z", "completed_at": None},
            "conclusion": {"started_at": None, "completed_at": None},
        },
        "synthesis_delivered": None,
        "ended_at": None,
    }
    return {**base, **changes}


def test_the_phase_under_way_and_the_next_step() -> None:
    dossier = _dossier()
    assert overview.current_phase(dossier) == "investigation"
    steps = overview.steps(dossier)
    assert [s.done for s in steps] == [True, True, True, True, False, False, False, False]
    following = overview.next_step(steps)
    assert following is not None
    assert following.label == "Phase d'investigation"


def test_a_new_dossier_starts_with_the_deontology_notice() -> None:
    dossier = _dossier(
        deontology_notice_version=None,
        needs_analysis_recorded=False,
        convention=None,
        phases={},
    )
    assert overview.current_phase(dossier) is None
    assert overview.phase_label(None) == "Pas encore commencé"
    following = overview.next_step(overview.steps(dossier))
    assert following is not None
    assert following.label == "Note déontologique lue et acceptée"


def test_the_open_dossier_is_chosen_else_the_latest() -> None:
    rows = [
        {"dossier_id": "a", "status": "completed"},
        {"dossier_id": "b", "status": "open"},
        {"dossier_id": "c", "status": "abandoned"},
    ]
    assert overview.choose_dossier(rows) == "b"
    assert overview.choose_dossier(rows[:1] + rows[2:]) == "c"
    assert overview.choose_dossier([]) is None


def test_sessions_carry_names_and_places_and_split_by_time() -> None:
    people = {
        "staff": [{"staff_id": "s1", "name": "Claire Dubois"}],
        "rooms": [{"room_id": "r1", "place": "Lyon, salle B12"}],
    }

    def session(sid: str, starts: str, status: str = "scheduled") -> dict[str, Any]:
        return {
            "session_id": sid,
            "starts_at": starts,
            "planned_minutes": 120,
            "phase": "investigation",
            "modality": "in_person",
            "status": status,
            "consultant_id": "s1",
            "room_id": "r1",
            "join_link": None,
            "signatures": {"beneficiary": None},
        }

    lines = overview.session_lines(
        [session("late", "2026-04-02T09:00:00Z"), session("early", "2026-03-01T09:00:00Z", "held")],
        people,
    )
    assert [x.session_id for x in lines] == ["early", "late"]
    assert (lines[1].leader, lines[1].place) == ("Claire Dubois", "Lyon, salle B12")
    now = datetime(2026, 3, 15, tzinfo=UTC)
    assert [x.session_id for x in overview.upcoming(lines, now)] == ["late"]
    assert [x.session_id for x in overview.past(lines, now)] == ["early"]
