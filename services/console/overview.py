"""The beneficiary's bilan at a glance, from the services' answers: pure functions (tested
without I/O). What is done, what comes next, the current phase, the coming sessions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.console.i18n import _

PHASES = ("preliminary", "investigation", "conclusion")


@dataclass(frozen=True, slots=True)
class Step:
    label: str
    done: bool
    at: str | None = None


@dataclass(frozen=True, slots=True)
class SessionLine:
    session_id: str
    starts_at: str
    minutes: int
    phase: str
    modality: str
    status: str
    leader: str | None
    place: str | None
    join_link: str | None
    signed_by_me: bool


def phase_label(phase: str | None) -> str:
    return {
        "preliminary": _("Preliminary phase"),
        "investigation": _("Investigation phase"),
        "conclusion": _("Conclusion phase"),
        "follow_up": _("Follow-up interview"),
        "information": _("Information session"),
    }.get(phase or "", _("Not started yet"))


def status_label(dossier: dict[str, Any]) -> str:
    """Where the bilan stands, in words: its phase while open, else how it ended."""
    if dossier.get("status") == "completed":
        return _("Bilan completed")
    if dossier.get("status") in ("abandoned", "withdrawn"):
        return _("Bilan stopped")
    return phase_label(current_phase(dossier))


def current_phase(dossier: dict[str, Any]) -> str | None:
    """The phase under way: the last one started and not completed (None before or after)."""
    phases = dossier.get("phases", {})
    for phase in reversed(PHASES):
        facts = phases.get(phase, {})
        if facts.get("started_at") and not facts.get("completed_at"):
            return phase
    return None


def steps(dossier: dict[str, Any]) -> list[Step]:
    """The bilan's milestones in order, each done or not, with when."""
    phases = dossier.get("phases", {})
    convention = dossier.get("convention") or {}
    delivered = dossier.get("synthesis_delivered") or {}
    found = [
        Step(
            _("Deontology notice read and acknowledged"),
            dossier.get("deontology_notice_version") is not None,
        ),
        Step(
            _("Needs analysis with your consultant"), bool(dossier.get("needs_analysis_recorded"))
        ),
        Step(
            _("Convention signed"),
            convention.get("status") == "signed",
            convention.get("signed_at"),
        ),
    ]
    for phase in PHASES:
        facts = phases.get(phase, {})
        found.append(
            Step(phase_label(phase), bool(facts.get("completed_at")), facts.get("completed_at"))
        )
    found.append(
        Step(_("Synthesis handed over to you"), bool(delivered), delivered.get("delivered_at"))
    )
    found.append(
        Step(_("Bilan completed"), dossier.get("status") == "completed", dossier.get("ended_at"))
    )
    return found


def next_step(all_steps: list[Step]) -> Step | None:
    return next((s for s in all_steps if not s.done), None)


def choose_dossier(dossiers: list[dict[str, Any]]) -> str | None:
    """The dossier the space opens on: an open one, else the most recent (listed last)."""
    if not dossiers:
        return None
    for row in reversed(dossiers):
        if row.get("status") == "open":
            return str(row["dossier_id"])
    return str(dossiers[-1]["dossier_id"])


def session_lines(
    sessions: list[dict[str, Any]], people_and_places: dict[str, Any]
) -> list[SessionLine]:
    names = {s["staff_id"]: s["name"] for s in people_and_places.get("staff", [])}
    places = {r["room_id"]: r["place"] for r in people_and_places.get("rooms", [])}
    lines = [
        SessionLine(
            session_id=str(x["session_id"]),
            starts_at=x["starts_at"],
            minutes=int(x["planned_minutes"]),
            phase=x["phase"],
            modality=x["modality"],
            status=x["status"],
            leader=names.get(x["consultant_id"]),
            place=places.get(x["room_id"]) if x.get("room_id") else None,
            join_link=x.get("join_link"),
            signed_by_me=bool((x.get("signatures") or {}).get("beneficiary")),
        )
        for x in sessions
    ]
    return sorted(lines, key=lambda line: line.starts_at)


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def upcoming(lines: list[SessionLine], now: datetime) -> list[SessionLine]:
    return [x for x in lines if x.status == "scheduled" and parse_time(x.starts_at) >= now]


def past(lines: list[SessionLine], now: datetime) -> list[SessionLine]:
    return [x for x in lines if x not in upcoming(lines, now)]
