"""The consultant's action pages on a dossier: `/equipe/dossiers/{id}/<step>` shows a step's
facts and forms, `POST …/<step>/<action>` runs one command at the service as the signed-in
person (with the `If-Match` it read) and redirects back (POST-redirect-GET), or shows the
service's refusal beside its field, having changed nothing. The steps themselves are
declared in `staff_steps_*.py` (one module per part of the bilan) and registered here."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any
from uuid import UUID

import httpx
from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from services.console import overview
from services.console.backend import Reply, ServiceName
from services.console.deps import CheckedForm, Console, ConsoleDep, SignedIn
from services.console.sessions import Session
from services.console.staff_forms import (
    FORM_ERROR,
    Form,
    error_words,
    problem_errors,
    read_form,
)
from shared.web import Problem

router = APIRouter(include_in_schema=False)
STAFF_ROLES = ("consultant", "psychologist", "site_manager", "admin")
ANSWERS = (200, 201, 400, 403, 409, 412, 422, 428)
"""What a command may answer that the page shows (403 only for a rule's refusal)."""


async def staff_member(session: SignedIn) -> Session:
    """The staff who run bilans; others (beneficiaries, auditors) get 403."""
    if not any(role in STAFF_ROLES for role in session.roles):
        raise Problem(403, "staff_only", "these pages are the staff's")
    return session


StaffMember = Annotated[Session, Depends(staff_member)]


@dataclass
class Ctx:
    """One request on one dossier, as the signed-in person."""

    c: Console
    session: Session
    dossier_id: UUID
    dossier: dict[str, Any]
    etag: str
    query: Mapping[str, str] = field(default_factory=dict)
    """The page's query (a step's GET form, e.g. the length of the session to book)."""
    posting: bool = False
    """Finding the posted form, not showing the page: a step reads no content for it (every
    read of content is logged as the person's)."""

    @property
    def base(self) -> str:
        return f"/equipe/dossiers/{self.dossier_id}"

    async def read(self, service: ServiceName, path: str, **kwargs: Any) -> Reply:
        return await self.c.backend.as_person(self.session, service, "GET", path, **kwargs)

    async def command(
        self,
        service: ServiceName,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        etag: str | None = None,
    ) -> Reply:
        """A command, with the version read; a refusal comes back to be shown."""
        version = etag if etag is not None else self.etag
        return await self.c.backend.as_person(
            self.session,
            service,
            method,
            path,
            json=body if body is not None else {},
            headers={"If-Match": version} if version else None,
            expect=ANSWERS,
        )


Loader = Callable[[Ctx], Awaitable[dict[str, Any]]]
FormsOf = Callable[[Ctx, dict[str, Any]], list[Form]]
Runner = Callable[[Ctx, dict[str, Any], FormData], Awaitable[Reply]]


async def nothing(_ctx: Ctx) -> dict[str, Any]:
    return {}


@dataclass(frozen=True, slots=True)
class Action:
    run: Runner
    refusal_fields: Mapping[str, str] = field(default_factory=dict)
    """A refusal's code → the field it is about (else it is about the whole form)."""


@dataclass(frozen=True, slots=True)
class Step:
    slug: str
    title: str
    """msgid"""
    facts: str
    """The template that shows the step's facts (under templates/staff/)."""
    forms: FormsOf
    actions: Mapping[str, Action]
    load: Loader = nothing
    done: Mapping[str, str] = field(default_factory=dict)
    """action → msgid of what the page says once it is done."""


STEPS: dict[str, Step] = {}
ORDER = (
    "deontologie",
    "referent",
    "analyse-besoins",
    "programme",
    "convention",
    "phases",
    "seances",
    "evaluations",
    "enquetes-terrain",
    "besoins-formation",
    "synthese",
    "conservation",
    "cloture",
)
"""The steps in the bilan's order (the partial `staff/dossier_steps.html` lists the same)."""


def register(*steps: Step) -> None:
    for step in steps:
        assert step.slug in ORDER, step.slug
        STEPS[step.slug] = step


async def dossier_context(
    c: Console, session: Session, dossier_id: UUID, query: Mapping[str, str] | None = None
) -> Ctx:
    reply = await c.backend.as_person(session, "dossier", "GET", f"/dossiers/{dossier_id}")
    if reply.body.get("processing_restricted"):
        raise Problem(409, "processing_restricted", "the processing of this dossier is restricted")
    return Ctx(c, session, dossier_id, reply.body, reply.etag or "", dict(query or {}))


def refusal(code: str) -> Reply:
    """A refusal the console itself makes from what a service told it (a start that is not
    among the free slots the scheduling service gives), shown as the services' are."""
    return Reply(409, {"code": code}, httpx.Headers(), b"")


async def render_step(
    request: Request,
    ctx: Ctx,
    step: Step,
    *,
    status: int = 200,
    values: Mapping[str, dict[str, Any]] | None = None,
    errors: Mapping[str, dict[str, str]] | None = None,
    done: str | None = None,
) -> Response:
    extra = await step.load(ctx)
    return ctx.c.pages.render(
        request,
        "staff/step.html",
        status=status,
        session=ctx.session,
        dossier=ctx.dossier,
        base=ctx.base,
        step=step,
        steps=[STEPS[s] for s in ORDER if s in STEPS],
        forms=step.forms(ctx, extra),
        values=values or {},
        errors=errors or {},
        done=step.done.get(done or "") if done else None,
        phase_label=overview.phase_label,
        **extra,
    )


@router.get("/equipe/dossiers/{dossier_id}/parcours")
async def journey(
    request: Request, c: ConsoleDep, session: StaffMember, dossier_id: UUID
) -> Response:
    """Until the dossier's overview page lists them, the steps' links on a page of their own."""
    ctx = await dossier_context(c, session, dossier_id)
    return c.pages.render(
        request,
        "staff/journey.html",
        session=session,
        dossier=ctx.dossier,
        base=ctx.base,
        steps=[STEPS[s] for s in ORDER if s in STEPS],
        phase_label=overview.phase_label,
    )


@router.get("/equipe/dossiers/{dossier_id}/{slug}")
async def step_page(
    request: Request,
    c: ConsoleDep,
    session: StaffMember,
    dossier_id: UUID,
    slug: str,
    fait: str = "",
) -> Response:
    step = STEPS.get(slug)
    if step is None:
        raise Problem(404, "not_found", "no such page")
    ctx = await dossier_context(c, session, dossier_id, request.query_params)
    return await render_step(request, ctx, step, done=fait or None)


@router.post("/equipe/dossiers/{dossier_id}/{slug}/{action}")
async def step_action(
    request: Request,
    c: ConsoleDep,
    session: StaffMember,
    dossier_id: UUID,
    slug: str,
    action: str,
    data: CheckedForm,
) -> Response:
    step = STEPS.get(slug)
    runner = step.actions.get(action) if step is not None else None
    if step is None or runner is None:
        raise Problem(404, "not_found", "no such page")
    ctx = await dossier_context(c, session, dossier_id)
    target = str(data.get("target", ""))
    ctx.posting = True
    forms = step.forms(ctx, await step.load(ctx))
    ctx.posting = False
    form = next(
        (f for f in forms if f.action == action and f.hidden.get("target", "") == target), None
    )
    if form is None:
        # The form is no longer offered (done meanwhile, or a forged target): show the page.
        return await render_step(
            request, ctx, step, status=409, errors={action: {FORM_ERROR: error_words("refused")}}
        )
    posted = read_form(form, data)
    if posted.errors:
        words = {k: error_words(v) for k, v in posted.errors.items()}
        return await render_step(
            request,
            ctx,
            step,
            status=422,
            values={form.id: posted.values},
            errors={form.id: words},
        )
    reply = await runner.run(ctx, posted.body, data)
    if reply.status in (200, 201):
        return RedirectResponse(f"{ctx.base}/{slug}?fait={action}", status_code=303)
    code = str(reply.body.get("code", "")) if isinstance(reply.body, dict) else ""
    if reply.status == 403 and code not in runner.refusal_fields:
        raise Problem(403, "forbidden", "not allowed", upstream=code)
    detail = str(reply.body.get("detail", "")) if isinstance(reply.body, dict) else ""
    found = problem_errors(reply.body, form, runner.refusal_fields, posted.values)
    # Reload: the refusal changed nothing, and the page shows the dossier as it is.
    ctx = await dossier_context(c, session, dossier_id)
    return await render_step(
        request,
        ctx,
        step,
        status=422 if reply.status in (400, 422) else 409,
        values={form.id: posted.values},
        errors={form.id: {k: error_words(v, detail) for k, v in found.items()}},
    )
