"""The phases (started and completed in the order of R6313-4) and the sessions: booked from
the leader's free slots (the scheduling service's), with a room of the site, then recorded
as held or as a no-show, and the attendance signed by their consultant."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

from starlette.datastructures import FormData

from services.console import overview
from services.console.backend import Reply
from services.console.i18n import PARIS, _, when
from services.console.routes.session_changes import slot_choices
from services.console.routes.staff_steps import Action, Ctx, Step, refusal, register
from services.console.staff_forms import Field, Form
from services.console.vocabulary import N_

PHASES = overview.PHASES
SESSION_PHASES = (
    ("information", N_("Information session")),
    ("preliminary", N_("Preliminary phase")),
    ("investigation", N_("Investigation phase")),
    ("conclusion", N_("Conclusion phase")),
    ("follow_up", N_("Follow-up interview")),
)
STARTS = {
    "preliminary": N_("Start the preliminary phase"),
    "investigation": N_("Start the investigation phase"),
    "conclusion": N_("Start the conclusion phase"),
}
COMPLETIONS = {
    "preliminary": N_("Complete the preliminary phase"),
    "investigation": N_("Complete the investigation phase"),
    "conclusion": N_("Complete the conclusion phase"),
}
DURATIONS = tuple((str(m), f"{m} min") for m in (30, 60, 90, 120, 150, 180, 240))
DEFAULT_MINUTES = 120
SEARCH_DAYS = 14
LEADERS = ("consultant", "psychologist")
SESSION_REFUSALS = {
    "consultant_double_booked": "starts_at",
    "start_in_past": "starts_at",
    "choose_slot": "starts_at",
    "same_start": "starts_at",
    "room_double_booked": "room_id",
    "room_required": "room_id",
    "room_for_remote": "room_id",
    "room_unknown": "room_id",
    "room_other_site": "room_id",
    "room_not_confidential": "room_id",
    "duration_cap_exceeded": "planned_minutes",
}


# --- phases --------------------------------------------------------------------------------


def _phase_forms(ctx: Ctx, _extra: dict[str, Any]) -> list[Form]:
    if ctx.dossier.get("status") != "open":
        return []
    forms: list[Form] = []
    phases = ctx.dossier.get("phases") or {}
    for phase in PHASES:
        facts = phases.get(phase) or {}
        if not facts.get("started_at"):
            forms.append(Form("debut", STARTS[phase], STARTS[phase], hidden={"target": phase}))
            break  # one phase at a time: the next one's form comes once this one has started
        if not facts.get("completed_at"):
            forms.append(
                Form("fin", COMPLETIONS[phase], COMPLETIONS[phase], hidden={"target": phase})
            )
            break
    return forms


def _phase_run(step: str) -> Any:
    async def run(ctx: Ctx, _body: dict[str, Any], data: FormData) -> Reply:
        phase = str(data.get("target"))
        assert phase in PHASES  # the form was found with this target
        path = f"/dossiers/{ctx.dossier_id}/phases/{phase}/{step}"
        return await ctx.command("dossier", "POST", path)

    return run


# --- sessions ------------------------------------------------------------------------------


def _leader(ctx: Ctx) -> str | None:
    """Who leads the sessions booked here: the signed-in consultant, or for a manager the
    dossier's referent."""
    if any(r in LEADERS for r in ctx.session.roles):
        return ctx.session.subject
    referent = ctx.dossier.get("referent_id")
    return str(referent) if referent else None


def _minutes(ctx: Ctx) -> int:
    chosen = ctx.query.get("duree", "")
    return int(chosen) if chosen in {v for v, _ in DURATIONS} else DEFAULT_MINUTES


async def _free_slots(ctx: Ctx, leader: str, minutes: int) -> list[dict[str, Any]]:
    """The leader's free slots for the next two weeks (the scheduling service's)."""
    today = ctx.c.clock.now().astimezone(PARIS).date()
    last = today + timedelta(days=SEARCH_DAYS)
    reply = await ctx.read(
        "scheduling",
        f"/staff/{leader}/free-slots?from={today.isoformat()}&to={last.isoformat()}"
        f"&min_minutes={minutes}",
    )
    found: list[dict[str, Any]] = reply.body
    return found


async def _sessions(ctx: Ctx) -> dict[str, Any]:
    booked = (await ctx.read("scheduling", f"/dossiers/{ctx.dossier_id}/sessions")).body
    people = (await ctx.read("scheduling", f"/dossiers/{ctx.dossier_id}/people-and-places")).body
    rooms = (await ctx.read("scheduling", f"/sites/{ctx.dossier['site_id']}/rooms")).body
    leader = _leader(ctx)
    minutes = _minutes(ctx)
    slots: list[dict[str, Any]] = []
    if leader is not None and ctx.dossier.get("status") == "open":
        slots = await _free_slots(ctx, leader, minutes)
    return {
        "sessions": sorted(booked, key=lambda x: x["starts_at"]),
        "lines": {x.session_id: x for x in overview.session_lines(booked, people)},
        "rooms": rooms,
        "slots": slots,
        "minutes": minutes,
        "durations": DURATIONS,
        "leader": leader,
    }


def _session_forms(ctx: Ctx, extra: dict[str, Any]) -> list[Form]:
    forms: list[Form] = []
    open_dossier = ctx.dossier.get("status") == "open"
    if open_dossier and extra["leader"] is not None:
        starts = slot_choices(
            extra["slots"],
            extra["minutes"],
            "1970-01-01T00:00:00+00:00",
            not_before=ctx.c.clock.now(),
        )
        rooms = tuple(
            (
                str(r["room_id"]),
                r["name"] if r.get("confidential") else f"{r['name']} (non confidentielle)",
            )
            for r in extra["rooms"]
        )
        forms.append(
            Form(
                "reservation",
                N_("Book a session"),
                N_("Book the session"),
                (
                    Field("phase", N_("What for"), "select", SESSION_PHASES),
                    Field(
                        "planned_minutes",
                        N_("Length"),
                        "select",
                        DURATIONS,
                        default=str(extra["minutes"]),
                    ),
                    Field(
                        "starts_at",
                        N_("Free slot"),
                        "radios",
                        tuple((c.starts_at, when(c.starts_at)) for c in starts),
                        hint=N_("The leader's free times in the next two weeks."),
                    ),
                    Field(
                        "modality",
                        N_("Format"),
                        "radios",
                        (("in_person", N_("In person")), ("remote", N_("Remote"))),
                        default="in_person",
                    ),
                    Field(
                        "room_id",
                        N_("Room (in person)"),
                        "select",
                        rooms,
                        required=False,
                        hint=N_("In person only; a remote session takes no room."),
                    ),
                ),
            )
        )
    me = ctx.session.subject
    for x in extra["sessions"]:
        sid = str(x["session_id"])
        title = f"{when(x['starts_at'])} · {overview.phase_label(x['phase'])}"
        if x["status"] == "scheduled":
            forms.append(
                Form(
                    "tenue",
                    title,
                    N_("Record as held"),
                    (
                        Field(
                            "started_at",
                            N_("Actual start"),
                            "datetime",
                            default=_local(x["starts_at"]),
                        ),
                        Field(
                            "duration_minutes",
                            N_("Actual length (minutes)"),
                            "number",
                            default=str(x["planned_minutes"]),
                        ),
                    ),
                    hidden={"target": sid},
                )
            )
            forms.append(
                Form(
                    "absence",
                    f"{title} · {_('no-show')}",
                    N_("Record a no-show"),
                    hidden={"target": sid},
                    secondary=True,
                )
            )
        elif (
            x["status"] == "held"
            and str(x["consultant_id"]) == me
            and not (x.get("signatures") or {}).get("consultant")
        ):
            forms.append(
                Form(
                    "emargement",
                    f"{title} · {_('attendance sheet')}",
                    N_("Sign the attendance as the consultant"),
                    hidden={"target": sid},
                    secondary=True,
                )
            )
    return forms


def _local(moment: str) -> str:
    return overview.parse_time(moment).astimezone(PARIS).strftime("%Y-%m-%dT%H:%M")


def _fits(slots: list[dict[str, Any]], starts_at: str, minutes: int) -> bool:
    """Whether the session lies within one of the free slots the scheduling service gave."""
    start = overview.parse_time(starts_at)
    end = start + timedelta(minutes=minutes)
    return any(
        overview.parse_time(s["starts_at"]) <= start and end <= overview.parse_time(s["ends_at"])
        for s in slots
    )


async def _book(ctx: Ctx, body: dict[str, Any], _data: FormData) -> Reply:
    try:
        minutes = int(body.get("planned_minutes") or 0)
    except ValueError:
        minutes = 0
    leader = _leader(ctx)
    starts_at = str(body.get("starts_at") or "")
    if leader is None or not starts_at:
        return refusal("choose_slot")
    slots = await _free_slots(ctx, leader, max(minutes, 15))
    if not _fits(slots, starts_at, minutes):
        # The time is no longer free (booked meanwhile) or was never offered.
        return refusal("choose_slot")
    command = {
        "phase": body.get("phase", ""),
        "modality": body.get("modality", ""),
        "consultant_id": leader,
        "starts_at": starts_at,
        "planned_minutes": minutes,
    }
    if body.get("room_id"):
        command["room_id"] = body["room_id"]
    return await ctx.command(
        "scheduling", "POST", f"/dossiers/{ctx.dossier_id}/sessions", command, etag=""
    )


def _on_session(path: str, with_body: bool = True) -> Any:
    async def run(ctx: Ctx, body: dict[str, Any], data: FormData) -> Reply:
        session_id = UUID(str(data.get("target")))
        found = await ctx.read("scheduling", f"/sessions/{session_id}")
        if found.body.get("dossier_id") != str(ctx.dossier_id):
            return refusal("session_not_found")
        return await ctx.command(
            "scheduling",
            "POST",
            f"/sessions/{session_id}/{path}",
            body if with_body else {},
            etag=found.etag or '"0"',
        )

    return run


register(
    Step(
        "phases",
        N_("Phases"),
        "facts_phases.html",
        _phase_forms,
        {"debut": Action(_phase_run("start")), "fin": Action(_phase_run("completion"))},
        done={"debut": N_("The phase has started."), "fin": N_("The phase is completed.")},
    ),
    Step(
        "seances",
        N_("Sessions"),
        "facts_sessions.html",
        _session_forms,
        {
            "reservation": Action(_book, SESSION_REFUSALS),
            "tenue": Action(
                _on_session("held"),
                {"held_in_future": "started_at", "duration_cap_exceeded": "duration_minutes"},
            ),
            "absence": Action(_on_session("no-show", with_body=False)),
            "emargement": Action(_on_session("signatures", with_body=False)),
        },
        load=_sessions,
        done={
            "reservation": N_("The session is booked."),
            "tenue": N_("The session is recorded as held."),
            "absence": N_("The no-show is recorded."),
            "emargement": N_("You signed the attendance."),
        },
    ),
)
