"""A consultant's sessions as an RFC 5545 calendar, without anything about the beneficiary."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from icalendar import Calendar, Event

PHASE_LABELS = {
    "information": "information",
    "preliminary": "phase préliminaire",
    "investigation": "phase d'investigation",
    "conclusion": "phase de conclusions",
    "follow_up": "entretien de suivi",
}


def render_calendar(rows: Sequence[Any], places: dict[Any, str], generated_at: datetime) -> bytes:
    """One VEVENT per live or held session; the summary names the phase, never a person."""
    calendar = Calendar()
    calendar.add("prodid", "-//Bilan//Scheduling//FR")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", "Séances de bilan")
    for row in rows:
        event = Event()
        starts_at = row["held_started_at"] or row["starts_at"]
        minutes = row["held_minutes"] or row["planned_minutes"]
        event.add("uid", f"{row['session_id']}@bilan")
        event.add("dtstamp", generated_at)
        event.add("dtstart", starts_at)
        event.add("dtend", starts_at + timedelta(minutes=minutes))
        event.add("summary", f"Bilan session ({PHASE_LABELS.get(row['phase'], row['phase'])})")
        event.add("description", f"Dossier {row['dossier_id']}")
        event.add(
            "location",
            "À distance" if row["modality"] == "remote" else places.get(row["room_id"], ""),
        )
        event.add("status", "CONFIRMED")
        calendar.add_component(event)
    ical: bytes = calendar.to_ical()
    return ical
