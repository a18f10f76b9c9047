"""The convention signed online carries its certificate of signature as last page; the
beneficiary withdraws from the console within the funding route's period, after a
confirmation step, and is refused in words after it."""

from __future__ import annotations

import hashlib
import io
import uuid
from datetime import UTC, datetime, timedelta

from pypdf import PdfReader

from deploy.tokens import dev_token
from tests.integration.console.conftest import Console, csrf_of, sign_in
from tests.integration.dossier.harness import MENTIONS

NAME = "Camille Zéphyrine Martin"


def _address() -> str:
    return f"camille.{uuid.uuid4().hex[:8]}@example.org"


class Centre:
    """The centre's side, through the dossier API: a self-funded dossier whose individual
    contract is out for signature."""

    def __init__(self, c: Console) -> None:
        self.c = c
        self.manager = {"Authorization": "Bearer " + dev_token(["site_manager"], [c.site])}

    async def version(self, dossier_id: str) -> str:
        got = await self.c.dossier.get(f"/dossiers/{dossier_id}", headers=self.manager)
        return str(got.headers["etag"])

    async def view(self, dossier_id: str) -> dict[str, object]:
        got = await self.c.dossier.get(f"/dossiers/{dossier_id}", headers=self.manager)
        body: dict[str, object] = got.json()
        return body

    async def convention_out(self, email: str, sent_at: datetime | None = None) -> tuple[str, ...]:
        """(dossier_id, beneficiary_id, convention_id)."""
        opened = await self.c.dossier.post(
            "/dossiers",
            headers=self.manager,
            json={
                "site_id": self.c.site,
                "funding_route": "self_funded",
                "enquiry_received_at": (datetime.now(UTC) - timedelta(days=30)).isoformat(),
                "name": NAME,
                "email": email,
            },
        )
        assert opened.status_code == 201, opened.text
        dossier_id = str(opened.json()["id"])
        drafted = await self.c.dossier.post(
            f"/dossiers/{dossier_id}/conventions",
            headers={**self.manager, "If-Match": await self.version(dossier_id)},
            json={
                "kind": "individual_contract",
                **MENTIONS,
                "duration_minutes": 1200,
                "price_cents": 180000,
            },
        )
        assert drafted.status_code == 201, drafted.text
        convention_id = drafted.headers["location"].rsplit("/", 1)[1]
        sent = await self.c.dossier.post(
            f"/dossiers/{dossier_id}/conventions/{convention_id}/sending",
            headers={**self.manager, "If-Match": await self.version(dossier_id)},
            json={} if sent_at is None else {"sent_at": sent_at.isoformat()},
        )
        assert sent.status_code == 200, sent.text
        return dossier_id, opened.headers["x-beneficiary-id"], convention_id

    async def sign(self, dossier_id: str, convention_id: str, body: dict[str, str]) -> None:
        signed = await self.c.dossier.post(
            f"/dossiers/{dossier_id}/conventions/{convention_id}/signatures",
            headers={**self.manager, "If-Match": await self.version(dossier_id)},
            json=body,
        )
        assert signed.status_code == 200, signed.text


def _pages_text(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


async def test_the_signed_convention_carries_its_certificate_and_is_withdrawn_in_time(
    console: Console,
) -> None:
    c = console
    centre = Centre(c)
    email = _address()
    dossier_id, beneficiary_id, convention_id = await centre.convention_out(email)
    path = f"/mon-bilan/{dossier_id}/convention"
    async with c.browser() as browser:
        await sign_in(c, email, browser)
        original = (await browser.get(f"{path}.pdf")).content
        digest = hashlib.sha256(original).hexdigest()
        assert not any("Certificat" in text for text in _pages_text(original))
        token = await csrf_of(browser, path)
        signed = await browser.post(
            path, data={"csrf_token": token, "consent": "yes", "document_sha256": digest}
        )
        assert signed.status_code == 303, signed.text
        await centre.sign(dossier_id, convention_id, {"party": "provider"})

        downloaded = await browser.get(f"{path}.pdf")
        assert downloaded.headers["content-type"] == "application/pdf"
        pages = _pages_text(downloaded.content)
        assert len(pages) == len(_pages_text(original)) + 1
        certificate = pages[-1]
        session_ref = await c.app.state.console.pool.fetchval(
            "SELECT id_hash FROM console_sessions"
        )
        evidence = await c.app.state.console.pool.fetchrow(
            "SELECT signed_at FROM convention_signatures WHERE convention_id = $1",
            uuid.UUID(convention_id),
        )
        utc = evidence["signed_at"].astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        for expected in (
            "Certificat de signature électronique",
            NAME,
            beneficiary_id,
            convention_id,
            digest,  # the SHA-256 of the very document shown before signing
            bytes(session_ref).hex(),
            utc,
            "heure de Paris",
            "électronique",
        ):
            assert expected in certificate, (expected, certificate)

        # Self-funded: 10 days to withdraw, said in words, then a confirmation step.
        view = await centre.view(dossier_id)
        convention = view["convention"]
        assert isinstance(convention, dict)
        assert convention["status"] == "signed"
        assert convention["withdrawal_until"] is not None
        assert convention["withdrawal_open"] is True
        page = await browser.get(path)
        assert "vous rétracter jusqu’au" in page.text or "vous rétracter jusqu'au" in page.text
        assert f'href="{path}/retractation"' in page.text
        confirm = await browser.get(f"{path}/retractation")
        assert confirm.status_code == 200
        assert "Confirmer ma rétractation" in confirm.text
        token = await csrf_of(browser, f"{path}/retractation")
        unconfirmed = await browser.post(f"{path}/retractation", data={"csrf_token": token})
        assert unconfirmed.status_code == 422
        assert (await centre.view(dossier_id))["status"] == "open"
        done = await browser.post(
            f"{path}/retractation", data={"csrf_token": token, "confirm": "yes"}
        )
        assert done.status_code == 303, done.text
        after = await browser.get(done.headers["location"])
        assert "Votre rétractation est enregistrée" in after.text
    view = await centre.view(dossier_id)
    assert view["status"] == "withdrawn"


async def test_a_withdrawal_after_the_period_is_refused_in_words(console: Console) -> None:
    c = console
    centre = Centre(c)
    email = _address()
    long_ago = datetime.now(UTC) - timedelta(days=20)
    dossier_id, beneficiary_id, convention_id = await centre.convention_out(email, long_ago)
    # Signed nineteen days ago by both (the beneficiary online, then), so the ten days of a
    # self-funded contract are over.
    as_beneficiary = {
        "Authorization": "Bearer " + dev_token(["beneficiary"], [], subject=beneficiary_id)
    }
    for party, headers in (("beneficiary", as_beneficiary), ("provider", centre.manager)):
        signed = await c.dossier.post(
            f"/dossiers/{dossier_id}/conventions/{convention_id}/signatures",
            headers={**headers, "If-Match": await centre.version(dossier_id)},
            json={"party": party, "signed_at": (long_ago + timedelta(days=1)).isoformat()},
        )
        assert signed.status_code == 200, signed.text
    convention = (await centre.view(dossier_id))["convention"]
    assert isinstance(convention, dict)
    assert (convention["status"], convention["withdrawal_open"]) == ("signed", False)
    path = f"/mon-bilan/{dossier_id}/convention"
    async with c.browser() as browser:
        await sign_in(c, email, browser)
        page = await browser.get(path)
        assert "Le délai de rétractation a pris fin le" in page.text
        assert f'href="{path}/retractation"' not in page.text
        # Signed on paper or before the console: no online evidence, no certificate page.
        pdf = (await browser.get(f"{path}.pdf")).content
        assert not any("Certificat" in text for text in _pages_text(pdf))
        # A form posted anyway (an old tab): refused in words, nothing changed.
        token = await csrf_of(browser, path)
        refused = await browser.post(
            f"{path}/retractation", data={"csrf_token": token, "confirm": "yes"}
        )
        assert refused.status_code == 409
        assert "Votre rétractation n’a pas pu être enregistrée" in refused.text
        assert "Rien n’a été modifié" in refused.text
    assert (await centre.view(dossier_id))["status"] == "open"


async def test_the_withdrawal_pages_are_the_beneficiary_s_own(console: Console) -> None:
    c = console
    centre = Centre(c)
    dossier_id, _, _ = await centre.convention_out(_address())
    path = f"/mon-bilan/{dossier_id}/convention/retractation"
    async with c.browser() as browser:
        await sign_in(c, await _other(c, centre), browser)
        token = await csrf_of(browser, "/mes-donnees")
        assert (await browser.get(path)).status_code == 404
        posted = await browser.post(path, data={"csrf_token": token, "confirm": "yes"})
        assert posted.status_code == 404
    async with c.browser() as browser:
        cookie = await c.app.state.console.sessions.create(
            subject=str(uuid.uuid4()),
            roles=["site_manager"],
            sites=[c.site],
            via="development",
            csrf_token="t" * 43,
            now=c.clock.now(),
        )
        browser.cookies.set("bilan_session", cookie)
        assert (await browser.get(path)).status_code == 403
        posted = await browser.post(path, data={"csrf_token": "t" * 43, "confirm": "yes"})
        assert posted.status_code == 403
        assert (await browser.get(f"/mon-bilan/{dossier_id}/convention.pdf")).status_code == 403
    assert (await centre.view(dossier_id))["status"] == "open"


async def _other(c: Console, centre: Centre) -> str:
    """Another beneficiary, with a dossier of their own."""
    email = _address()
    await centre.convention_out(email)
    return email
