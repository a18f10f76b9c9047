"""The e-mailed survey link as an HTML questionnaire: no sign-in (the link is the
credential), usable on a phone and without JavaScript. The survey service's JSON API stays
for machines; this page calls it."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from services.console.deps import CheckedForm, Console, ConsoleDep, MaybeSession
from shared.ratelimit import client_key

router = APIRouter(include_in_schema=False)
MAX_TEXT = 2000
GONE = {404: "unknown", 409: "answered", 410: "expired"}


def _path(token: str) -> str:
    return f"/public/surveys/{quote(token[:200], safe='')}"


async def _questionnaire(
    c: Console, request: Request, token: str
) -> tuple[int, dict[str, Any] | None]:
    reply = await c.backend.call(
        "survey",
        "GET",
        _path(token),
        token=None,
        expect=(200, 404, 409, 410, 422),
        client=client_key(request),
    )
    if reply.status == 422:
        return 404, None  # a malformed token is an unknown link
    return reply.status, reply.body if reply.status == 200 else None


@router.get("/public/surveys/merci")
async def thanks(request: Request, c: ConsoleDep, session: MaybeSession) -> Response:
    return c.pages.render(request, "survey_thanks.html", session=session)


@router.get("/public/surveys/{token}")
async def questionnaire(
    request: Request, c: ConsoleDep, session: MaybeSession, token: str
) -> Response:
    status, survey = await _questionnaire(c, request, token)
    if survey is None:
        return c.pages.render(
            request, "survey_gone.html", status=status, session=session, why=GONE[status]
        )
    return c.pages.render(
        request,
        "survey.html",
        session=session,
        survey=survey,
        token=token,
        values={},
        errors={},
    )


@router.post("/public/surveys/{token}")
async def answer(
    request: Request, c: ConsoleDep, session: MaybeSession, token: str, form: CheckedForm
) -> Response:
    status, survey = await _questionnaire(c, request, token)
    if survey is None:
        return c.pages.render(
            request, "survey_gone.html", status=status, session=session, why=GONE[status]
        )
    answers: dict[str, Any] = {}
    errors: dict[str, str] = {}
    values: dict[str, str] = {}
    for question in survey["questions"]:
        code, kind = question["code"], question["kind"]
        raw = str(form.get(code, "")).strip()
        values[code] = raw[:MAX_TEXT]
        if not raw:
            if question["required"]:
                errors[code] = "required"
            continue
        if kind in ("satisfaction", "score"):
            low = 1 if kind == "satisfaction" else question["min_score"]
            high = 5 if kind == "satisfaction" else question["max_score"]
            if not raw.isdigit() or not low <= int(raw) <= high:
                errors[code] = "range"
                continue
            answers[code] = int(raw)
        elif kind == "text":
            if len(raw) > MAX_TEXT:
                errors[code] = "too_long"
                continue
            answers[code] = raw
        else:
            answers[code] = raw
    if not errors:
        reply = await c.backend.call(
            "survey",
            "POST",
            _path(token) + "/answers",
            token=None,
            json={"answers": answers},
            expect=(201, 404, 409, 410, 422),
            client=client_key(request),
        )
        if reply.status == 201:
            return RedirectResponse("/public/surveys/merci", status_code=303)
        if reply.status in GONE:
            return c.pages.render(
                request,
                "survey_gone.html",
                status=reply.status,
                session=session,
                why=GONE[reply.status],
            )
        question = reply.body.get("question") if isinstance(reply.body, dict) else None
        errors[str(question or "form")] = "invalid"
    return c.pages.render(
        request,
        "survey.html",
        status=422,
        session=session,
        survey=survey,
        token=token,
        values=values,
        errors=errors,
    )
