"""Rendering: the Jinja2 environment with the message catalogue, and the request's context
(who is signed in, the CSRF token of the page's forms)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from services.console import i18n
from services.console.security import CSRF_COOKIE, new_csrf_token
from services.console.sessions import Session

TEMPLATES = Path(__file__).resolve().parent / "templates"
STATIC = Path(__file__).resolve().parent / "static"


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(i18n.translations(), newstyle=True)  # type: ignore[attr-defined]
    env.filters["when"] = i18n.when
    env.filters["day"] = i18n.day
    env.filters["hour"] = i18n.hour
    env.filters["hours"] = i18n.hours
    env.filters["euros"] = i18n.euros
    env.filters["local_input"] = i18n.local_input
    return env


class Pages:
    def __init__(self, *, secure_cookies: bool, development: bool) -> None:
        self._env = environment()
        self._secure = secure_cookies
        self.development = development

    def render(
        self,
        request: Request,
        template: str,
        *,
        status: int = 200,
        session: Session | None = None,
        **context: Any,
    ) -> HTMLResponse:
        """A page; before sign-in its forms carry the double-submit CSRF cookie's token."""
        fresh_cookie = None
        if session is not None:
            csrf = session.csrf_token
        else:
            csrf = request.cookies.get(CSRF_COOKIE) or ""
            if len(csrf) < 32:
                csrf = fresh_cookie = new_csrf_token()
        html = self._env.get_template(template).render(
            request_path=request.url.path,
            session=session,
            csrf_token=csrf,
            development=self.development,
            **context,
        )
        response = HTMLResponse(html, status_code=status)
        if fresh_cookie is not None:
            response.set_cookie(
                CSRF_COOKIE,
                fresh_cookie,
                httponly=True,
                samesite="lax",
                secure=self._secure,
                path="/",
            )
        return response
