"""Staff sign in with an e-mailed link too: found in the scheduling directory by the blind
index of their work address, their session carrying the directory's roles and sites; someone
who left cannot sign in."""

from __future__ import annotations

import uuid
from datetime import datetime

import httpx

from deploy.tokens import dev_token
from tests.integration.console.conftest import Console, ask_for_link, use_link


def _admin() -> dict[str, str]:
    return {"Authorization": f"Bearer {dev_token(['admin'], ['*'])}"}


async def open_site(scheduling: httpx.AsyncClient) -> str:
    site = await scheduling.post(
        "/sites", json={"name": "Lyon Part-Dieu", "region": "ara"}, headers=_admin()
    )
    assert site.status_code == 201, site.text
    return str(site.json()["site_id"])


async def onboard(
    scheduling: httpx.AsyncClient, site_id: str, email: str, roles: tuple[str, ...]
) -> str:
    staff_id = str(uuid.uuid4())
    made = await scheduling.post(
        "/staff",
        json={
            "staff_id": staff_id,
            "name": "Claire Dubois",
            "email": email,
            "roles": list(roles),
            "site_ids": [site_id],
            "contract": "employee",
        },
        headers=_admin(),
    )
    assert made.status_code == 201, made.text
    return staff_id


async def leave(scheduling: httpx.AsyncClient, staff_id: str, at: datetime) -> None:
    left = await scheduling.post(
        f"/staff/{staff_id}/leaving",
        json={"left_at": at.isoformat()},
        headers={**_admin(), "If-Match": '"1"'},
    )
    assert left.status_code == 200, left.text


def _address() -> str:
    return f"claire.{uuid.uuid4().hex[:8]}@centre-bilan.fr"


async def test_a_consultant_signs_in_with_the_link_and_gets_the_directorys_roles(
    console: Console,
) -> None:
    c = console
    assert c.scheduling is not None
    site_id = await open_site(c.scheduling)
    email = _address()
    staff_id = await onboard(c.scheduling, site_id, email, ("consultant", "disability_referent"))
    async with c.browser() as browser:
        # Typed with capitals, the address is the same one.
        await ask_for_link(browser, email.upper())
        (mail,) = await c.mails_to(email)
        assert "Bonjour Claire Dubois," in mail.get_payload(decode=True).decode()
        signed = await use_link(browser, c.link_token(mail))
        assert (signed.status_code, signed.headers["location"]) == (303, "/")
        home = await browser.get("/", follow_redirects=True)
        assert home.status_code == 200
        assert "/mon-bilan" not in str(home.url)
        # A staff member on the beneficiary's pages: 403, as before.
        assert (await browser.get("/mon-bilan")).status_code == 403
    session = await c.app.state.console_runtime.pool.fetchrow(
        "SELECT subject, roles, sites, via FROM console_sessions"
    )
    assert dict(session) == {
        "subject": staff_id,
        "roles": ["consultant"],  # the directory's other roles are not token roles
        "sites": [site_id],
        "via": "email_link",
    }
    stored = await c.app.state.console_runtime.pool.fetch("SELECT * FROM sign_in_links")
    assert email not in str([dict(r) for r in stored])


async def test_staff_who_left_cannot_sign_in(console: Console) -> None:
    c = console
    assert c.scheduling is not None
    site_id = await open_site(c.scheduling)
    gone, leaving_now = _address(), _address()
    gone_id = await onboard(c.scheduling, site_id, gone, ("site_manager",))
    leaving_id = await onboard(c.scheduling, site_id, leaving_now, ("consultant",))
    await leave(c.scheduling, gone_id, c.clock.now())
    known = f"camille.{uuid.uuid4().hex[:8]}@example.org"
    await c.open_dossier(known)
    async with c.browser() as browser:
        for_gone = await ask_for_link(browser, gone)
        assert for_gone.status_code == 200
        assert "Consultez votre messagerie" in for_gone.text, "the same answer as for anyone"
        await ask_for_link(browser, leaving_now)
        await ask_for_link(browser, known)
        await c.mails_to(known)
        (link_mail,) = await c.mails_to(leaving_now)
        assert [m for m in c.smtp.messages if m["To"] == gone] == []

        # They leave between the mail and the click: the link no longer opens a session.
        await leave(c.scheduling, leaving_id, c.clock.now())
        refused = await use_link(browser, c.link_token(link_mail))
        assert refused.status_code == 403
        assert "Votre accès à Bilan a été fermé" in refused.text
        assert "bilan_session" not in refused.headers.get("set-cookie", "")
    assert (
        await c.app.state.console_runtime.pool.fetchval("SELECT count(*) FROM console_sessions")
        == 0
    )


async def test_an_address_held_by_a_beneficiary_and_a_colleague_signs_nobody_in(
    console: Console,
) -> None:
    c = console
    assert c.scheduling is not None
    site_id = await open_site(c.scheduling)
    shared = _address()
    await onboard(c.scheduling, site_id, shared, ("consultant",))
    await c.open_dossier(shared)
    known = _address()
    await onboard(c.scheduling, site_id, known, ("consultant",))
    async with c.browser() as browser:
        await ask_for_link(browser, shared)
        await ask_for_link(browser, known)
        await c.mails_to(known)
    assert [m for m in c.smtp.messages if m["To"] == shared] == []
