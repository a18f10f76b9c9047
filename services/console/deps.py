"""Request dependencies: the console's parts, the signed-in person, checked forms."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import asyncpg
from fastapi import Depends, Request
from starlette.datastructures import FormData

from services.console.backend import Backend
from services.console.oidc import OidcSignIn
from services.console.pages import Pages
from services.console.people import People
from services.console.security import CSRF_COOKIE, CSRF_FIELD, csrf_matches
from services.console.sessions import COOKIE, Session, SessionStore
from services.console.settings import ConsoleSettings
from services.console.signin import SignInLinks
from shared.auth import Role
from shared.clock import Clock
from shared.web import Problem


@dataclass
class Console:
    """Everything a route needs, built at start-up (`app.state.console`)."""

    settings: ConsoleSettings
    clock: Clock
    pages: Pages
    backend: Backend
    people: People
    sessions: SessionStore
    links: SignInLinks
    pool: asyncpg.Pool
    oidc: OidcSignIn | None = None
    """The organisation's OpenID Connect provider, when one is configured."""

    def console_pool(self) -> asyncpg.Pool:
        """The console's own database (sessions, links, the ids of filed complaints)."""
        return self.pool


class SignInRequired(Exception):  # a redirection, not an error
    """No live session: the person is sent to the sign-in page (303)."""


async def console(request: Request) -> Console:
    found: Console = request.app.state.console
    return found


ConsoleDep = Annotated[Console, Depends(console)]


async def optional_session(request: Request, c: ConsoleDep) -> Session | None:
    return await c.sessions.load(request.cookies.get(COOKIE), c.clock.now())


MaybeSession = Annotated[Session | None, Depends(optional_session)]


async def signed_in(session: MaybeSession) -> Session:
    if session is None:
        raise SignInRequired
    return session


SignedIn = Annotated[Session, Depends(signed_in)]


async def beneficiary(session: SignedIn) -> Session:
    """The beneficiary's own space: staff get 403 (their space is elsewhere)."""
    if not session.has_role(Role.BENEFICIARY):
        raise Problem(403, "beneficiaries_only", "this page is the beneficiary's own space")
    return session


Beneficiary = Annotated[Session, Depends(beneficiary)]


async def checked_form(request: Request, session: MaybeSession) -> FormData:
    """The posted form, if it carries the right CSRF token (else 403)."""
    form = await request.form()
    expected = session.csrf_token if session is not None else request.cookies.get(CSRF_COOKIE)
    if not csrf_matches(expected, form.get(CSRF_FIELD)):
        raise Problem(403, "csrf_token_invalid", "the form's security token is missing or wrong")
    return form


CheckedForm = Annotated[FormData, Depends(checked_form)]
