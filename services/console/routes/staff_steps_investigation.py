"""The investigation: assessments chosen from the catalogue (each with the habilitation it
needs), field inquiries, training and VAE needs."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData

from services.console.backend import Reply
from services.console.i18n import _
from services.console.routes.staff_steps import Action, Ctx, Step, register
from services.console.staff_forms import Field, Form
from services.console.vocabulary import N_

CONTACTS = (
    ("professional_interview", N_("Interview with a professional")),
    ("company_visit", N_("Company visit")),
    ("job_immersion", N_("Job immersion")),
    ("information_event", N_("Information event")),
    ("other", N_("Other")),
)
NEEDS = (("training", N_("Training")), ("vae", N_("VAE (validation of experience)")))
FOLLOW_UP = (
    ("identified", N_("Identified")),
    ("in_progress", N_("Steps under way")),
    ("enrolled", N_("Enrolled (or VAE file admitted)")),
    ("completed", N_("Done")),
    ("abandoned", N_("Given up")),
)
HABILITATIONS = {"psychometric_tests": N_("psychometric tests (psychologist)")}


def _open(ctx: Ctx) -> bool:
    return ctx.dossier.get("status") == "open"


async def _instruments(ctx: Ctx) -> dict[str, Any]:
    catalogue = (await ctx.read("dossier", "/instruments")).body
    return {"instruments": {str(i["instrument_id"]): i for i in catalogue}}


def _habilitation(code: str | None) -> str:
    if code is None:
        return _("no habilitation needed")
    return _("needs: {what}").format(what=_(HABILITATIONS.get(code, code)))


def _assessment_forms(ctx: Ctx, extra: dict[str, Any]) -> list[Form]:
    if not _open(ctx):
        return []
    options = tuple(
        (iid, f"{i['name']} — {_habilitation(i.get('required_habilitation'))}")
        for iid, i in extra["instruments"].items()
    )
    return [
        Form(
            "evaluation",
            N_("Record an assessment"),
            N_("Record the assessment"),
            (
                Field(
                    "instrument_id",
                    N_("Instrument"),
                    "radios",
                    options,
                    hint=N_(
                        "A test that needs a habilitation is given by a colleague who holds it."
                    ),
                ),
                Field(
                    "result",
                    N_("Result"),
                    "textarea",
                    rows=5,
                    hint=N_(
                        "Kept encrypted; read by the beneficiary, the referent and who gave it."
                    ),
                ),
            ),
        )
    ]


async def _assess(ctx: Ctx, body: dict[str, Any], _data: FormData) -> Reply:
    return await ctx.command("dossier", "POST", f"/dossiers/{ctx.dossier_id}/assessments", body)


def _inquiry_forms(ctx: Ctx, _extra: dict[str, Any]) -> list[Form]:
    if not _open(ctx):
        return []
    return [
        Form(
            "enquete",
            N_("Record a field inquiry"),
            N_("Record the field inquiry"),
            (
                Field("contact_type", N_("Kind of contact"), "select", CONTACTS),
                Field("notes", N_("Notes"), "textarea", required=False),
            ),
        )
    ]


async def _inquiry(ctx: Ctx, body: dict[str, Any], _data: FormData) -> Reply:
    return await ctx.command("dossier", "POST", f"/dossiers/{ctx.dossier_id}/field-inquiries", body)


def _need_forms(ctx: Ctx, _extra: dict[str, Any]) -> list[Form]:
    # The follow-up goes on after the bilan: that is when a training or a VAE starts.
    follow_ups = [
        Form(
            "suivi",
            f"{n + 1}. {_('need:' + need['kind'])} {need.get('certification_code') or ''}",
            N_("Record the follow-up"),
            (
                Field(
                    "status",
                    N_("Follow-up status"),
                    "select",
                    FOLLOW_UP,
                    default=str(need.get("follow_up") or "identified"),
                ),
            ),
            hidden={"target": str(n)},
            secondary=True,
        )
        for n, need in enumerate(ctx.dossier.get("training_needs") or [])
    ]
    if not _open(ctx):
        return follow_ups
    return [
        *follow_ups,
        Form(
            "besoin",
            N_("Record a training or VAE need"),
            N_("Record the need"),
            (
                Field("kind", N_("Kind"), "radios", NEEDS),
                Field(
                    "certification_code",
                    N_("Certification code (RNCP or RS)"),
                    required=False,
                    hint=N_("e.g. RNCP35185"),
                ),
                Field("description", N_("Description"), "textarea", required=False),
            ),
        ),
    ]


async def _follow_up(ctx: Ctx, body: dict[str, Any], data: FormData) -> Reply:
    index = int(str(data.get("target")))  # the form was found with this target
    return await ctx.command(
        "dossier",
        "PUT",
        f"/dossiers/{ctx.dossier_id}/training-needs/{index}/follow-up",
        body,
    )


async def _need(ctx: Ctx, body: dict[str, Any], _data: FormData) -> Reply:
    return await ctx.command("dossier", "POST", f"/dossiers/{ctx.dossier_id}/training-needs", body)


register(
    Step(
        "evaluations",
        N_("Assessments"),
        "facts_assessments.html",
        _assessment_forms,
        {
            "evaluation": Action(
                _assess,
                {
                    "unknown_instrument": "instrument_id",
                    "habilitation_required": "instrument_id",
                    "administrator_not_eligible": "instrument_id",
                    "phase_not_reached": "instrument_id",
                },
            )
        },
        load=_instruments,
        done={"evaluation": N_("The assessment is recorded.")},
    ),
    Step(
        "enquetes-terrain",
        N_("Field inquiries"),
        "facts_inquiries.html",
        _inquiry_forms,
        {"enquete": Action(_inquiry)},
        done={"enquete": N_("The field inquiry is recorded.")},
    ),
    Step(
        "besoins-formation",
        N_("Training and VAE needs"),
        "facts_needs_training.html",
        _need_forms,
        {"besoin": Action(_need), "suivi": Action(_follow_up)},
        done={
            "besoin": N_("The need is recorded."),
            "suivi": N_("The follow-up of the need is recorded."),
        },
    ),
)
