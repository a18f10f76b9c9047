"""The convention (R6313-8): drafted with its mandatory mentions, sent for signature, and who
has signed. Signing is each party's own act (the beneficiary in their space; the rules of the
other parties' signatures are the dossier service's): this page only shows them."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter
from fastapi.responses import Response
from starlette.datastructures import FormData

from services.console.backend import Reply
from services.console.deps import ConsoleDep
from services.console.routes.staff_steps import (
    Action,
    Ctx,
    StaffMember,
    Step,
    dossier_context,
    register,
)
from services.console.staff_forms import Field, Form
from services.console.vocabulary import N_
from shared.web import Problem

router = APIRouter(include_in_schema=False)
KINDS = (
    ("tripartite", N_("Tripartite (employer, beneficiary, centre)")),
    ("individual_contract", N_("Individual contract")),
    ("cpf", N_("CPF (Mon Compte Formation)")),
    ("public_model", N_("Public funder's model")),
)
MENTIONS = (
    ("title", N_("Title"), "Bilan de compétences"),
    ("objective", N_("Objective"), ""),
    ("content", N_("Content"), "Phases préliminaire, d'investigation et de conclusion (R6313-4)"),
    ("means", N_("Means"), ""),
    ("period", N_("Period"), ""),
    ("running_terms", N_("How the bilan runs"), ""),
    ("follow_up_terms", N_("How it is followed up"), ""),
    ("handover_terms", N_("How results and synthesis are handed over"), ""),
    ("payment_terms", N_("Payment terms"), ""),
)


def _forms(ctx: Ctx, _extra: dict[str, Any]) -> list[Form]:
    convention = ctx.dossier.get("convention") or {}
    if ctx.dossier.get("status") != "open":
        return []
    if convention.get("status") == "drafted":
        return [
            Form(
                "envoi",
                N_("Send for signature"),
                N_("Send the convention"),
                hidden={"target": str(convention["convention_id"])},
                intro=N_(
                    "The parties are asked to sign; the beneficiary has 10 days to accept "
                    "(R6313-8): without an answer, the convention is deemed refused."
                ),
            )
        ]
    if convention and convention.get("status") in ("sent", "signed"):
        return []
    fields = [Field("kind", N_("Kind of convention"), "select", KINDS)]
    fields += [
        Field(name, label, "textarea", rows=2, default=default) for name, label, default in MENTIONS
    ]
    fields += [
        Field("duration_hours", N_("Duration (hours)"), "hours", api="duration_minutes"),
        Field(
            "price_euros",
            N_("Price (euros, tax included)"),
            "euros",
            api="price_cents",
            hint=N_("e.g. 1 800,00"),
        ),
    ]
    return [Form("redaction", N_("Draft the convention"), N_("Draft"), tuple(fields))]


async def _draft(ctx: Ctx, body: dict[str, Any], _data: FormData) -> Reply:
    return await ctx.command("dossier", "POST", f"/dossiers/{ctx.dossier_id}/conventions", body)


async def _send(ctx: Ctx, _body: dict[str, Any], data: FormData) -> Reply:
    convention_id = UUID(str(data.get("target")))
    return await ctx.command(
        "dossier", "POST", f"/dossiers/{ctx.dossier_id}/conventions/{convention_id}/sending", {}
    )


@router.get("/equipe/dossiers/{dossier_id}/convention.pdf")
async def convention_pdf(c: ConsoleDep, session: StaffMember, dossier_id: UUID) -> Response:
    ctx = await dossier_context(c, session, dossier_id)
    convention = ctx.dossier.get("convention")
    if not convention:
        raise Problem(404, "not_found", "no convention yet")
    reply = await ctx.read(
        "dossier",
        f"/dossiers/{dossier_id}/conventions/{convention['convention_id']}/document",
    )
    return Response(
        reply.content,
        media_type="application/pdf",
        headers={"Content-Disposition": 'inline; filename="convention-bilan.pdf"'},
    )


register(
    Step(
        "convention",
        N_("Convention"),
        "facts_convention.html",
        _forms,
        {
            "redaction": Action(
                _draft,
                {
                    "duration_out_of_range": "duration_hours",
                    "negative_price": "price_euros",
                    "unknown_convention_kind": "kind",
                },
            ),
            "envoi": Action(_send),
        },
        done={
            "redaction": N_("The convention is drafted: read it, then send it."),
            "envoi": N_("The convention is sent for signature."),
        },
    )
)
