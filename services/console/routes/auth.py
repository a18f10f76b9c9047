"""Sign-in by e-mailed link, sign-out, and the development sign-in page."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from services.console.deps import CheckedForm, Console, ConsoleDep, MaybeSession, SignedIn
from services.console.oidc import ATTEMPT_LIFETIME, CALLBACK_PATH, STATE_COOKIE, OidcRefused
from services.console.people import Person
from services.console.security import new_csrf_token
from services.console.sessions import COOKIE
from services.console.signin import LinkOutcome, Requested
from shared.auth import ALL_SITES, Role
from shared.blind_index import email_index
from shared.logging import get_logger
from shared.web import Problem

log = get_logger(__name__)
router = APIRouter(include_in_schema=False)
MAX_ADDRESS = 254


def _looks_like_address(text: str) -> bool:
    local, at, domain = text.strip().rpartition("@")
    return bool(
        at and local and "." in domain and len(text) <= MAX_ADDRESS and " " not in text.strip()
    )


def _client_of(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.get("/connexion")
async def sign_in_page(request: Request, c: ConsoleDep, session: MaybeSession) -> Response:
    if session is not None:
        return RedirectResponse("/", status_code=303)
    return c.pages.render(request, "sign_in.html", email="", error=None, oidc_provider=_provider(c))


def _provider(c: Console) -> str | None:
    return c.settings.oidc_provider_name if c.oidc is not None else None


# --- OpenID Connect (staff, optional per organisation) ---------------------------------------


@router.get("/connexion/oidc")
async def oidc_start(c: ConsoleDep) -> Response:
    """To the organisation's provider; the browser keeps the state in a cookie."""
    if c.oidc is None:
        raise Problem(404, "not_found", "no such page")
    started = await c.oidc.start(c.clock.now())
    response = RedirectResponse(started.url, status_code=303)
    response.set_cookie(
        STATE_COOKIE,
        started.state,
        max_age=int(ATTEMPT_LIFETIME.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=c.settings.secure_cookies,
        path="/connexion/oidc",
    )
    return response


@router.get(CALLBACK_PATH)
async def oidc_callback(
    request: Request, c: ConsoleDep, state: str = "", code: str = "", error: str = ""
) -> Response:
    """Back from the provider: the verified e-mail must be a staff member's still here."""
    if c.oidc is None:
        raise Problem(404, "not_found", "no such page")
    try:
        if error:
            raise OidcRefused("provider")
        email = await c.oidc.finish(
            state=state[:200],
            cookie_state=request.cookies.get(STATE_COOKIE),
            code=code[:2000],
            now=c.clock.now(),
        )
        person = await c.people.staff_by_email_index(
            email_index(c.settings.blind_index_key_bytes(), email)
        )
        if person is None:
            raise OidcRefused("unknown")
    except OidcRefused as refused:
        log.info("sign_in_refused", via="oidc", reason=refused.reason)
        status = 403 if refused.reason in ("unknown", "unverified") else 400
        page = c.pages.render(
            request,
            "sign_in_oidc_problem.html",
            status=status,
            reason=refused.reason,
            provider=c.settings.oidc_provider_name,
        )
        page.delete_cookie(STATE_COOKIE, path="/connexion/oidc")
        return page
    response = await _open_session(c, person, via="oidc")
    response.delete_cookie(STATE_COOKIE, path="/connexion/oidc")
    return response


@router.post("/connexion")
async def ask_for_link(request: Request, c: ConsoleDep, form: CheckedForm) -> Response:
    email = str(form.get("email", ""))
    if not _looks_like_address(email):
        return c.pages.render(
            request,
            "sign_in.html",
            status=422,
            email=email[:MAX_ADDRESS],
            error="email",
            oidc_provider=_provider(c),
        )
    outcome = await c.links.request(email, _client_of(request), c.clock.now())
    if outcome is Requested.RATE_LIMITED:
        limited = c.pages.render(
            request,
            "sign_in_limited.html",
            status=429,
            minutes=int(c.settings.sign_in_window_minutes),
        )
        # Machines read when to come back; people read the page.
        limited.headers["Retry-After"] = str(int(c.settings.sign_in_window_minutes * 60))
        return limited
    # The same page whether the address is known or not.
    return c.pages.render(
        request, "sign_in_sent.html", minutes=int(c.settings.sign_in_link_minutes)
    )


@router.get("/connexion/lien/{token}")
async def confirm_link(request: Request, c: ConsoleDep, token: str) -> Response:
    """A page with a button: mail scanners that open links do not spend them."""
    return c.pages.render(request, "sign_in_confirm.html", token=token[:100])


@router.post("/connexion/lien")
async def use_link(request: Request, c: ConsoleDep, form: CheckedForm) -> Response:
    used = await c.links.use(str(form.get("token", "")), c.clock.now())
    person = used.person
    if used.outcome is LinkOutcome.OK and person is not None and person.is_staff:
        # Roles and sites as the directory holds them now; someone who left in the
        # meantime does not get in.
        person = await c.people.staff(person.subject)
        if person is None:
            log.info("sign_in_refused", reason="staff_left")
            return c.pages.render(request, "sign_in_link_problem.html", status=403, outcome="left")
    if used.outcome is not LinkOutcome.OK or person is None:
        status = 404 if used.outcome is LinkOutcome.UNKNOWN else 410
        return c.pages.render(
            request, "sign_in_link_problem.html", status=status, outcome=used.outcome.value
        )
    return await _open_session(c, person, via="email_link")


@router.post("/deconnexion")
async def sign_out(c: ConsoleDep, session: SignedIn, _form: CheckedForm) -> Response:
    await c.sessions.revoke(session.id_hash, c.clock.now())
    c.backend.forget(session)
    log.info("signed_out")
    response = RedirectResponse("/connexion?au-revoir", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


async def _open_session(c: Console, person: Person, *, via: str) -> RedirectResponse:
    cookie = await c.sessions.create(
        subject=person.subject,
        roles=list(person.roles),
        sites=list(person.sites),
        via=via,
        csrf_token=new_csrf_token(),
        now=c.clock.now(),
    )
    log.info("signed_in", via=via, roles=list(person.roles))
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(
        COOKIE,
        cookie,
        max_age=int(c.settings.session_absolute().total_seconds()),
        httponly=True,
        samesite="lax",
        secure=c.settings.secure_cookies,
        path="/",
    )
    return response


# --- development ----------------------------------------------------------------------------

DEV_ROLES = ("consultant", "psychologist", "site_manager", "quality_lead")


def _require_development(c: Console) -> None:
    if not c.settings.dev_sign_in_enabled or c.settings.environment != "development":
        raise Problem(404, "not_found", "no such page")


@router.get("/connexion/developpement")
async def dev_sign_in_page(request: Request, c: ConsoleDep, personne: str = "") -> Response:
    """The demo's people, for one-click sign-in (development only); `?personne=kind:id`
    (what `bilan demo` prints) shows that one person's button."""
    _require_development(c)
    kind, _, subject = personne.partition(":")
    if kind in ("beneficiary", "staff", "auditor", "admin"):
        return c.pages.render(request, "sign_in_dev_one.html", kind=kind, subject=subject[:64])
    admin = c.backend.admin_token()
    dossiers = (await c.backend.call("dossier", "GET", "/dossiers?limit=12", token=admin)).body
    sites = (await c.backend.call("scheduling", "GET", "/sites", token=admin)).body
    staff: list[dict[str, Any]] = []
    for site in sites[:3]:
        members = await c.backend.call(
            "scheduling", "GET", f"/sites/{site['site_id']}/staff", token=admin
        )
        for member in members.body:
            if member.get("left_at") is None and any(r in DEV_ROLES for r in member["roles"]):
                staff.append({**member, "site_name": site["name"]})
    site_names = {s["site_id"]: s["name"] for s in sites}
    beneficiaries = [{**d, "site_name": site_names.get(d["site_id"], "")} for d in dossiers]
    return c.pages.render(request, "sign_in_dev.html", beneficiaries=beneficiaries, staff=staff)


@router.post("/connexion/developpement")
async def dev_sign_in(c: ConsoleDep, form: CheckedForm) -> Response:
    _require_development(c)
    kind, subject = str(form.get("kind", "")), str(form.get("subject", ""))
    person: Person | None
    if kind == "beneficiary":
        person = await c.people.beneficiary(subject)
    elif kind == "staff":
        person = await c.people.staff(subject)
    elif kind in ("auditor", "admin"):
        person = Person(f"dev-{kind}", (Role(kind).value,), (ALL_SITES,))
    else:
        person = None
    if person is None:
        raise Problem(404, "person_not_found", "no such person in the demo")
    return await _open_session(c, person, via="development")
