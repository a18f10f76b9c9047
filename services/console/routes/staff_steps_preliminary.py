"""The preliminary evidence (R6313-4 1°): the deontology notice, the referent and its
history, the needs analysis, the personalised programme."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData

from services.console.backend import Reply
from services.console.routes.staff_steps import Action, Ctx, Step, register
from services.console.staff_forms import Field, Form
from services.console.vocabulary import N_

MODALITIES = (
    ("in_person", N_("In person")),
    ("remote", N_("Remote")),
    ("mixed", N_("Mixed (in person and remote)")),
)
REFERENT_REASONS = (
    ("initial", N_("First assignment")),
    ("unavailability", N_("The referent is unavailable")),
    ("beneficiary_request", N_("At the beneficiary's request")),
    ("other", N_("Another reason")),
)
MANAGERS = ("site_manager", "admin")


# --- deontology notice ---------------------------------------------------------------------


async def _notice(ctx: Ctx) -> dict[str, Any]:
    return {"notice": (await ctx.read("dossier", "/deontology-notice")).body}


def _notice_forms(ctx: Ctx, extra: dict[str, Any]) -> list[Form]:
    if ctx.dossier.get("deontology_notice_version") is not None:
        return []
    return [
        Form(
            "accuse",
            N_("The beneficiary acknowledged the notice on paper"),
            N_("Record the acknowledgement"),
            secondary=True,
            intro=N_(
                "The beneficiary acknowledges the notice in their own space. Record it here only "
                "when they read and acknowledged it during an interview."
            ),
        )
    ]


async def _acknowledge(ctx: Ctx, body: dict[str, Any], _data: FormData) -> Reply:
    notice = (await ctx.read("dossier", "/deontology-notice")).body
    return await ctx.command(
        "dossier",
        "POST",
        f"/dossiers/{ctx.dossier_id}/deontology-acknowledgements",
        {"notice_version": notice["notice_version"], **body},
    )


# --- referent ------------------------------------------------------------------------------


async def _referents(ctx: Ctx) -> dict[str, Any]:
    people = (await ctx.read("scheduling", f"/dossiers/{ctx.dossier_id}/people-and-places")).body
    names = {str(p["staff_id"]): p.get("name") for p in people.get("staff", [])}
    candidates: list[tuple[str, str]] = []
    if any(r in MANAGERS for r in ctx.session.roles):
        # The site manager names the referent: the site's active consultants and psychologists.
        site = ctx.dossier["site_id"]
        for member in (await ctx.read("scheduling", f"/sites/{site}/staff")).body:
            if member.get("left_at") is None and {"consultant", "psychologist"} & set(
                member["roles"]
            ):
                detail = (await ctx.read("scheduling", f"/staff/{member['staff_id']}")).body
                staff_id = str(member["staff_id"])
                names[staff_id] = detail.get("name")
                candidates.append((staff_id, detail.get("name") or staff_id[:8]))
    return {"names": names, "candidates": candidates}


def _referent_forms(ctx: Ctx, extra: dict[str, Any]) -> list[Form]:
    if not any(r in MANAGERS for r in ctx.session.roles) or ctx.dossier.get("status") != "open":
        return []
    first = ctx.dossier.get("referent_id") is None
    return [
        Form(
            "referent",
            N_("Name the referent") if first else N_("Change the referent"),
            N_("Name the referent") if first else N_("Change the referent"),
            (
                Field("consultant_id", N_("Consultant"), "select", tuple(extra["candidates"])),
                Field(
                    "reason",
                    N_("Reason"),
                    "select",
                    REFERENT_REASONS,
                    hint=N_("« First assignment » for the first referent, another reason after."),
                ),
            ),
        )
    ]


async def _assign(ctx: Ctx, body: dict[str, Any], _data: FormData) -> Reply:
    return await ctx.command("dossier", "PUT", f"/dossiers/{ctx.dossier_id}/referent", body)


# --- needs analysis and programme ----------------------------------------------------------


def _needs_forms(ctx: Ctx, _extra: dict[str, Any]) -> list[Form]:
    return [
        Form(
            "analyse",
            N_("Needs analysis"),
            N_("Record the needs analysis"),
            (
                Field(
                    "narrative",
                    N_("The beneficiary's request and need"),
                    "textarea",
                    rows=8,
                    hint=N_(
                        "Their situation, what they ask for, what they expect of the bilan. "
                        "Kept encrypted; only the referent and the beneficiary read it."
                    ),
                ),
                Field(
                    "disability_accommodation_requested",
                    N_("The beneficiary asks for a disability accommodation"),
                    "checkbox",
                    required=False,
                ),
            ),
        )
    ]


async def _needs(ctx: Ctx, body: dict[str, Any], _data: FormData) -> Reply:
    return await ctx.command("dossier", "PUT", f"/dossiers/{ctx.dossier_id}/needs-analysis", body)


def _programme_forms(ctx: Ctx, _extra: dict[str, Any]) -> list[Form]:
    return [
        Form(
            "programme",
            N_("Personalised programme"),
            N_("Record the agreed programme"),
            (
                Field(
                    "planned_hours",
                    N_("Planned duration (hours)"),
                    "hours",
                    api="planned_minutes",
                    hint=N_("At most 24 hours (L6313-4), e.g. 20 or 18,5."),
                ),
                Field("modality", N_("Format"), "radios", MODALITIES),
            ),
        )
    ]


async def _programme(ctx: Ctx, body: dict[str, Any], _data: FormData) -> Reply:
    return await ctx.command("dossier", "PUT", f"/dossiers/{ctx.dossier_id}/programme", body)


register(
    Step(
        "deontologie",
        N_("Deontology notice"),
        "facts_deontology.html",
        _notice_forms,
        {"accuse": Action(_acknowledge)},
        load=_notice,
        done={"accuse": N_("The acknowledgement is recorded.")},
    ),
    Step(
        "referent",
        N_("Referent consultant"),
        "facts_referent.html",
        _referent_forms,
        {
            "referent": Action(
                _assign,
                {
                    "referent_not_eligible": "consultant_id",
                    "already_referent": "consultant_id",
                    "first_assignment_is_initial": "reason",
                    "change_needs_reason": "reason",
                },
            )
        },
        load=_referents,
        done={"referent": N_("The referent is named.")},
    ),
    Step(
        "analyse-besoins",
        N_("Needs analysis"),
        "facts_needs.html",
        _needs_forms,
        {"analyse": Action(_needs)},
        done={"analyse": N_("The needs analysis is recorded.")},
    ),
    Step(
        "programme",
        N_("Personalised programme"),
        "facts_programme.html",
        _programme_forms,
        {"programme": Action(_programme, {"planned_minutes_out_of_range": "planned_hours"})},
        done={"programme": N_("The programme is recorded.")},
    ),
)
