"""The conclusion: the synthesis written in a plain text editor (drafts saved, each a new
version), delivered, and as a PDF; the detailed results handed over; the retention
agreement; completion and abandonment."""

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
from services.console.synthesis_pdf import synthesis_pdf
from services.console.vocabulary import N_
from shared.web import Problem

router = APIRouter(include_in_schema=False)
OUTLINE = (
    "## Circonstances du bilan\n\n\n"
    "## Compétences et aptitudes\n\n\n"
    "## Projet professionnel\n\n\n"
    "## Étapes de mise en œuvre\n\n"
)
"""The headings the synthesis is expected to cover (R6313-4 3°), offered in a new draft."""
CHANNELS = (
    ("hand", N_("Handed over in person")),
    ("post", N_("Sent by post")),
    ("secure_download", N_("Downloaded from the beneficiary's space")),
)
DOCUMENTS = (("synthesis", N_("The synthesis")), ("working_documents", N_("Working documents")))
JUSTIFICATIONS = (
    ("follow_up", N_("The follow-up interview")),
    ("cep_transmission", N_("Transmission to a career adviser (CEP)")),
)
REASONS = (
    ("health", N_("Health")),
    ("employment_found", N_("Found a job")),
    ("personal", N_("Personal reasons")),
    ("dissatisfaction", N_("Dissatisfaction")),
    ("funding", N_("Funding")),
    ("unreachable", N_("Unreachable")),
    ("other", N_("Other")),
)
INITIATORS = (
    ("beneficiary", N_("The beneficiary")),
    ("provider", N_("The centre")),
    ("funder", N_("The funder")),
)


def _open(ctx: Ctx) -> bool:
    return ctx.dossier.get("status") == "open"


async def _draft(ctx: Ctx) -> dict[str, Any]:
    """The latest draft (its read is logged by the dossier service), for the editor."""
    if ctx.posting or not ctx.dossier.get("synthesis_versions"):
        return {"draft": None}
    reply = await ctx.read(
        "dossier", f"/dossiers/{ctx.dossier_id}/synthesis", expect=(200, 403, 404, 410)
    )
    return {"draft": reply.body if reply.status == 200 else None}


def _synthesis_forms(ctx: Ctx, extra: dict[str, Any]) -> list[Form]:
    if not _open(ctx):
        return []
    draft = extra["draft"]
    forms: list[Form] = []
    delivered = ctx.dossier.get("synthesis_delivered")
    if not delivered:
        forms.append(
            Form(
                "brouillon",
                N_("Write the synthesis"),
                N_("Save the draft"),
                (
                    Field(
                        "content",
                        N_("The synthesis"),
                        "textarea",
                        rows=18,
                        default=str(draft["content"]) if draft else OUTLINE,
                        hint=N_(
                            "Plain text; a line starting with « ## » is a heading. Cover the "
                            "circumstances, the competences and aptitudes, the project and its "
                            "steps. Each save is a new version, kept encrypted."
                        ),
                    ),
                ),
            )
        )
    if ctx.dossier.get("synthesis_versions") and not delivered:
        forms.append(
            Form(
                "remise",
                N_("Deliver the synthesis"),
                N_("Record the delivery"),
                (Field("channel", N_("How it reached the beneficiary"), "select", CHANNELS),),
                intro=N_("The latest saved version is the one delivered."),
            )
        )
    if not ctx.dossier.get("detailed_results_handed_over_at"):
        forms.append(
            Form(
                "resultats",
                N_("Detailed results"),
                N_("Record that the detailed results were handed over"),
                secondary=True,
            )
        )
    return forms


async def _save(ctx: Ctx, body: dict[str, Any], _data: FormData) -> Reply:
    return await ctx.command(
        "dossier", "POST", f"/dossiers/{ctx.dossier_id}/synthesis/drafts", body
    )


async def _deliver(ctx: Ctx, body: dict[str, Any], _data: FormData) -> Reply:
    return await ctx.command(
        "dossier", "POST", f"/dossiers/{ctx.dossier_id}/synthesis/delivery", body
    )


async def _hand_over(ctx: Ctx, _body: dict[str, Any], _data: FormData) -> Reply:
    return await ctx.command(
        "dossier", "POST", f"/dossiers/{ctx.dossier_id}/detailed-results-handover", {}
    )


@router.get("/equipe/dossiers/{dossier_id}/synthese.pdf")
async def synthesis_document(c: ConsoleDep, session: StaffMember, dossier_id: UUID) -> Response:
    """The latest version as the PDF the beneficiary receives (its read is logged)."""
    ctx = await dossier_context(c, session, dossier_id)
    if not ctx.dossier.get("synthesis_versions"):
        raise Problem(404, "not_found", "no synthesis yet")
    reply = await ctx.read("dossier", f"/dossiers/{dossier_id}/synthesis")
    delivered = ctx.dossier.get("synthesis_delivered") or {}
    pdf = synthesis_pdf(
        reply.body["content"], reply.body["synthesis_version"], delivered.get("delivered_at")
    )
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": 'attachment; filename="synthese-bilan.pdf"'},
    )


def _retention_forms(ctx: Ctx, _extra: dict[str, Any]) -> list[Form]:
    if ctx.dossier.get("retention"):
        return []
    return [
        Form(
            "accord",
            N_("Record the retention agreement"),
            N_("Record the agreement"),
            (
                Field("document_classes", N_("Documents kept"), "checkboxes", DOCUMENTS),
                Field("justification", N_("Why"), "select", JUSTIFICATIONS),
                Field(
                    "expires_at",
                    N_("Kept until"),
                    "date",
                    hint=N_("One year at most after the end of the bilan."),
                ),
            ),
            intro=N_(
                "Documents are destroyed after the bilan unless the beneficiary agreed in "
                "writing to keep them, for one year at most."
            ),
        )
    ]


async def _retain(ctx: Ctx, body: dict[str, Any], _data: FormData) -> Reply:
    return await ctx.command("dossier", "POST", f"/dossiers/{ctx.dossier_id}/retention", body)


def _end_forms(ctx: Ctx, _extra: dict[str, Any]) -> list[Form]:
    if not _open(ctx):
        return []
    return [
        Form(
            "achevement",
            N_("Complete the bilan"),
            N_("Complete the bilan"),
            intro=N_(
                "After the conclusion phase, the delivery of the synthesis and the hand-over "
                "of the detailed results."
            ),
        ),
        Form(
            "abandon",
            N_("Record an abandonment"),
            N_("Record the abandonment"),
            (
                Field("reason_category", N_("Reason"), "select", REASONS),
                Field("initiated_by", N_("Whose decision"), "select", INITIATORS),
            ),
            secondary=True,
        ),
    ]


async def _complete(ctx: Ctx, _body: dict[str, Any], _data: FormData) -> Reply:
    return await ctx.command("dossier", "POST", f"/dossiers/{ctx.dossier_id}/completion", {})


async def _abandon(ctx: Ctx, body: dict[str, Any], _data: FormData) -> Reply:
    return await ctx.command("dossier", "POST", f"/dossiers/{ctx.dossier_id}/abandonment", body)


register(
    Step(
        "synthese",
        N_("Synthesis"),
        "facts_synthesis.html",
        _synthesis_forms,
        {
            "brouillon": Action(_save),
            "remise": Action(_deliver, {"no_synthesis_draft": "channel"}),
            "resultats": Action(_hand_over),
        },
        load=_draft,
        done={
            "brouillon": N_("The draft is saved as a new version."),
            "remise": N_("The delivery of the synthesis is recorded."),
            "resultats": N_("The hand-over of the detailed results is recorded."),
        },
    ),
    Step(
        "conservation",
        N_("Retention agreement"),
        "facts_retention.html",
        _retention_forms,
        {
            "accord": Action(
                _retain,
                {
                    "retention_too_long": "expires_at",
                    "retention_expiry_in_past": "expires_at",
                    "bad_document_classes": "document_classes",
                },
            )
        },
        done={"accord": N_("The retention agreement is recorded.")},
    ),
    Step(
        "cloture",
        N_("Completion or abandonment"),
        "facts_end.html",
        _end_forms,
        {"achevement": Action(_complete), "abandon": Action(_abandon)},
        done={
            "achevement": N_("The bilan is completed."),
            "abandon": N_("The abandonment is recorded."),
        },
    ),
)
