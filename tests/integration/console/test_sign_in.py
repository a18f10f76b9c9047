"""Sign-in by e-mailed link, sessions and CSRF, against the real dossier service, PostgreSQL
and SMTP server."""

from __future__ import annotations

import uuid
from datetime import timedelta
from email.header import decode_header, make_header

from tests.integration.console.conftest import (
    Console,
    ask_for_link,
    csrf_of,
    sign_in,
    use_link,
)


def _address() -> str:
    return f"camille.{uuid.uuid4().hex[:8]}@example.org"


async def test_a_beneficiary_signs_in_with_the_link_once(console: Console) -> None:
    c = console
    email = _address()
    dossier_id, beneficiary_id = await c.open_dossier(email)
    async with c.browser() as browser:
        sent = await ask_for_link(browser, email)
        assert sent.status_code == 200
        assert "Consultez votre messagerie" in sent.text
        (mail,) = await c.mails_to(email)
        assert str(make_header(decode_header(mail["Subject"]))) == "Votre lien de connexion à Bilan"
        token = c.link_token(mail)
        # Only a hash of the token is stored, and no address.
        stored = await c.app.state.console_runtime.pool.fetch("SELECT * FROM sign_in_links")
        assert token not in str([dict(r) for r in stored])
        assert email not in str([dict(r) for r in stored])

        signed = await use_link(browser, token)
        assert signed.status_code == 303
        cookie = signed.headers["set-cookie"]
        assert "HttpOnly" in cookie
        assert "SameSite=lax" in cookie or "samesite=lax" in cookie.lower()
        home = await browser.get("/", follow_redirects=True)
        assert home.status_code == 200
        assert f"/mon-bilan/{dossier_id}" in str(home.url)
        assert "Mon bilan de compétences" in home.text
        session = await c.app.state.console_runtime.pool.fetchrow(
            "SELECT subject, roles, sites FROM console_sessions"
        )
        assert (session["subject"], session["roles"], session["sites"]) == (
            beneficiary_id,
            ["beneficiary"],
            [c.site],
        )

    async with c.browser() as other:
        again = await use_link(other, token)
        assert again.status_code == 410
        assert "déjà servi" in again.text
        assert (await other.get("/mon-bilan")).status_code == 303


async def test_unknown_and_known_addresses_get_the_same_answer(console: Console) -> None:
    c = console
    known = _address()
    await c.open_dossier(known)
    async with c.browser() as browser:
        for_known = await ask_for_link(browser, known)
        for_unknown = await ask_for_link(browser, _address())
    assert for_known.status_code == for_unknown.status_code == 200

    def body(page: str) -> str:
        return page.split('<main id="contenu"', 1)[1]

    assert body(for_known.text) == body(for_unknown.text)
    await c.mails_to(known)
    assert len(c.smtp.messages) == 1  # nothing to the unknown address


async def test_an_expired_link_and_an_unknown_link_are_refused_in_words(
    console: Console,
) -> None:
    c = console
    email = _address()
    await c.open_dossier(email)
    async with c.browser() as browser:
        await ask_for_link(browser, email)
        (mail,) = await c.mails_to(email)
        c.clock.advance(timedelta(minutes=16))
        expired = await use_link(browser, c.link_token(mail))
        assert expired.status_code == 410
        assert "a expiré" in expired.text
        unknown = await use_link(browser, "not-a-real-token")
        assert unknown.status_code == 404
        assert "pas valide" in unknown.text
        assert (await browser.get("/mon-bilan")).status_code == 303


async def test_links_are_rate_limited_per_address_and_per_client(console: Console) -> None:
    c = console
    email = _address()
    await c.open_dossier(email)
    async with c.browser("198.51.100.1") as browser:
        for _ in range(3):
            assert (await ask_for_link(browser, email)).status_code == 200
        limited = await ask_for_link(browser, email)
        assert limited.status_code == 429
        assert "Trop de demandes" in limited.text
        assert int(limited.headers["retry-after"]) > 0
    # From another client the same address is still limited; another address is not.
    async with c.browser("198.51.100.2") as browser:
        assert (await ask_for_link(browser, email)).status_code == 429
        assert (await ask_for_link(browser, _address())).status_code == 200
    # One client asking for many addresses is limited too (6 per window here).
    async with c.browser("198.51.100.3") as browser:
        statuses = [(await ask_for_link(browser, _address())).status_code for _ in range(7)]
    assert statuses == [200] * 6 + [429]
    await c.mails_to(email, 3)
    # The window passes: links may be asked for again.
    c.clock.advance(timedelta(minutes=16))
    async with c.browser("198.51.100.1") as browser:
        assert (await ask_for_link(browser, email)).status_code == 200


async def test_forms_without_the_right_csrf_token_are_refused(console: Console) -> None:
    c = console
    email = _address()
    await c.open_dossier(email)
    async with c.browser() as browser:
        await csrf_of(browser, "/connexion")  # the double-submit cookie is set
        missing = await browser.post("/connexion", data={"email": email})
        wrong = await browser.post("/connexion", data={"email": email, "csrf_token": "x" * 43})
        assert missing.status_code == wrong.status_code == 403
        assert "formulaire a expiré" in missing.text
        await sign_in(c, email, browser)
        # Signed in, forms need the session's token (not the pre-session one).
        out = await browser.post("/deconnexion", data={"csrf_token": "x" * 43})
        assert out.status_code == 403
        assert (await browser.get("/mon-bilan", follow_redirects=True)).status_code == 200
    assert len(c.smtp.messages) == 1  # the refused requests sent nothing


async def test_sign_out_revokes_and_sessions_time_out(console: Console) -> None:
    c = console
    email = _address()
    await c.open_dossier(email)
    async with c.browser() as browser:
        await sign_in(c, email, browser)
        cookie = browser.cookies["bilan_session"]
        token = await csrf_of(browser, "/mon-bilan")
        out = await browser.post("/deconnexion", data={"csrf_token": token})
        assert (out.status_code, out.headers["location"]) == (303, "/connexion?au-revoir")
    async with c.browser() as replay:
        replay.cookies.set("bilan_session", cookie)
        assert (await replay.get("/mon-bilan")).status_code == 303  # revoked for good

    async with c.browser() as idle:
        await sign_in(c, email, idle)
        c.clock.advance(timedelta(minutes=31))
        page = await idle.get("/mon-bilan")
        assert (page.status_code, page.headers["location"]) == (303, "/connexion")

    async with c.browser() as busy:
        await sign_in(c, email, busy)
        for _ in range(25):  # used every half hour, but twelve hours is the limit
            c.clock.advance(timedelta(minutes=29))
            last = await busy.get("/mon-bilan")
        assert last.status_code == 303


async def test_a_tampered_session_cookie_is_a_signed_out_visitor(console: Console) -> None:
    c = console
    email = _address()
    await c.open_dossier(email)
    async with c.browser() as browser:
        await sign_in(c, email, browser)
        cookie = browser.cookies["bilan_session"]
    for forged in (cookie[:-1] + ("A" if cookie[-1] != "A" else "B"), "x" * 500, ""):
        async with c.browser() as attacker:
            attacker.cookies.set("bilan_session", forged)
            page = await attacker.get("/mon-bilan")
            assert (page.status_code, page.headers["location"]) == (303, "/connexion")


async def test_another_beneficiarys_dossier_is_not_found(console: Console) -> None:
    c = console
    mine, theirs = _address(), _address()
    await c.open_dossier(mine)
    their_dossier, _ = await c.open_dossier(theirs)
    async with c.browser() as browser:
        await sign_in(c, mine, browser)
        for path in (
            f"/mon-bilan/{their_dossier}",
            f"/mon-bilan/{their_dossier}/deontologie",
            "/mon-bilan/not-a-uuid",
        ):
            page = await browser.get(path)
            assert page.status_code == 404, path
            assert "Page introuvable" in page.text


async def test_staff_get_403_on_the_beneficiary_pages(console: Console) -> None:
    c = console
    dossier_id, _ = await c.open_dossier(_address())
    async with c.browser() as browser:
        # A consultant's session, as the development page (or OIDC) would open it.
        cookie = await c.app.state.console.sessions.create(
            subject=str(uuid.uuid4()),
            roles=["consultant"],
            sites=[c.site],
            via="development",
            csrf_token="t" * 43,
            now=c.clock.now(),
        )
        browser.cookies.set("bilan_session", cookie)
        for path in ("/mon-bilan", f"/mon-bilan/{dossier_id}", "/mes-donnees"):
            page = await browser.get(path)
            assert page.status_code == 403, path
            assert "Cet espace est celui du bénéficiaire" in page.text
        home = await browser.get("/")
        assert home.status_code == 200
        assert "Consultant(e)" in home.text
