"""The beneficiary's pages against the real services: the deontology notice acknowledged,
their data and requests, consents; and the development sign-in, refused unless enabled."""

from __future__ import annotations

import hashlib
import json
import re
import uuid

from deploy.tokens import dev_token
from tests.integration.console.conftest import Console, csrf_of, sign_in
from tests.integration.dossier.harness import MENTIONS


def _address() -> str:
    return f"camille.{uuid.uuid4().hex[:8]}@example.org"


async def test_the_deontology_notice_is_read_in_french_and_acknowledged(
    console: Console,
) -> None:
    c = console
    email = _address()
    dossier_id, _ = await c.open_dossier(email)
    async with c.browser() as browser:
        await sign_in(c, email, browser)
        bilan = await browser.get(f"/mon-bilan/{dossier_id}")
        assert "Note déontologique lue et acceptée" in bilan.text
        assert "lire la note déontologique" in bilan.text
        page = await browser.get(f"/mon-bilan/{dossier_id}/deontologie")
        assert page.status_code == 200
        assert "secret professionnel" in page.text
        token = await csrf_of(browser, f"/mon-bilan/{dossier_id}/deontologie")
        shown = re.search(r'name="notice_version" value="(\d+)"', page.text)
        assert shown is not None
        version = int(shown.group(1))
        done = await browser.post(
            f"/mon-bilan/{dossier_id}/deontologie",
            data={"csrf_token": token, "notice_version": str(version)},
        )
        assert done.status_code == 303
        after = await browser.get(done.headers["location"])
        assert "Vous avez pris connaissance de cette note" in after.text
    view = await c.dossier.get(
        f"/dossiers/{dossier_id}",
        headers={"Authorization": "Bearer " + dev_token(["site_manager"], [c.site])},
    )
    assert view.json()["deontology_notice_version"] == version


async def test_my_data_export_requests_and_consents(console: Console) -> None:
    c = console
    email = _address()
    dossier_id, beneficiary_id = await c.open_dossier(email)
    async with c.browser() as browser:
        await sign_in(c, email, browser)
        page = await browser.get("/mes-donnees")
        assert page.status_code == 200
        assert "Qui a consulté mon bilan" in page.text
        export = await browser.get("/mes-donnees/export.json")
        assert export.headers["content-disposition"].startswith("attachment")
        assert json.loads(export.text)["beneficiary_id"] == beneficiary_id
        readable = await browser.get("/mes-donnees/export")
        assert email in readable.text
        # The export was read by the beneficiary themselves, and the log says so.
        logged = await browser.get("/mes-donnees")
        assert "Copie de vos données" in logged.text

        token = await csrf_of(browser, "/mes-donnees")
        asked = await browser.post(
            "/mes-donnees/demandes", data={"csrf_token": token, "kind": "restriction"}
        )
        assert asked.status_code == 303
        listed = await browser.get("/mes-donnees")
        assert "Limitation du traitement" in listed.text

        given = await browser.post(
            f"/mon-bilan/{dossier_id}/consentements",
            data={"csrf_token": token, "recipient": "cep_operator", "action": "give"},
        )
        assert given.status_code == 303
        synthesis = await browser.get(f"/mon-bilan/{dossier_id}/synthese")
        assert "donné" in synthesis.text
        assert "remet la synthèse" in synthesis.text  # not delivered yet
        pdf = await browser.get(f"/mon-bilan/{dossier_id}/synthese.pdf")
        assert pdf.status_code == 404
        bad = await browser.post(
            f"/mon-bilan/{dossier_id}/consentements",
            data={"csrf_token": token, "recipient": "the-press", "action": "give"},
        )
        assert bad.status_code == 422


async def test_the_development_sign_in_is_refused_unless_enabled(console: Console) -> None:
    c = console
    _, beneficiary_id = await c.open_dossier(_address())
    async with c.browser() as browser:
        assert (await browser.get("/connexion/developpement")).status_code == 404
        token = await csrf_of(browser, "/connexion")
        refused = await browser.post(
            "/connexion/developpement",
            data={"csrf_token": token, "kind": "beneficiary", "subject": beneficiary_id},
        )
        assert refused.status_code == 404
        assert "bilan_session" not in browser.cookies

        console_parts = c.app.state.console
        console_parts.settings = c.settings.model_copy(update={"dev_sign_in_enabled": True})
        one = await browser.get(f"/connexion/developpement?personne=beneficiary:{beneficiary_id}")
        assert one.status_code == 200
        signed = await browser.post(
            "/connexion/developpement",
            data={"csrf_token": token, "kind": "beneficiary", "subject": beneficiary_id},
        )
        assert signed.status_code == 303, signed.text
        assert (await browser.get("/mon-bilan", follow_redirects=True)).status_code == 200
        token = await csrf_of(browser, "/mon-bilan")  # signed in: the session's token now
        unknown = await browser.post(
            "/connexion/developpement",
            data={"csrf_token": token, "kind": "beneficiary", "subject": str(uuid.uuid4())},
        )
        assert unknown.status_code == 404


async def test_a_complaint_is_filed_and_followed(console: Console) -> None:
    c = console
    email, other = _address(), _address()
    dossier_id, _ = await c.open_dossier(email)
    await c.open_dossier(other)
    path = f"/mon-bilan/{dossier_id}/reclamations"
    async with c.browser() as browser:
        await sign_in(c, email, browser)
        token = await csrf_of(browser, path)
        empty = await browser.post(path, data={"csrf_token": token, "category": "billing"})
        assert empty.status_code == 422
        assert 'aria-describedby="err-description"' in empty.text
        filed = await browser.post(
            path,
            data={
                "csrf_token": token,
                "category": "organisation",
                "description": "Séance annulée la veille sans explication.",
            },
        )
        assert filed.status_code == 303
        page = await browser.get(path)
        assert "Mes réclamations" in page.text
        assert "reçue" in page.text
        assert "L&#39;organisation" in page.text or "L'organisation" in page.text
    stored = await c.app.state.console.pool.fetch("SELECT * FROM filed_complaints")
    assert len(stored) == 1
    assert "Séance annulée" not in str([dict(r) for r in stored])  # ids only
    # Another beneficiary sees none of it.
    async with c.browser() as browser:
        await sign_in(c, other, browser)
        other_dossier = str((await browser.get("/mon-bilan")).headers["location"]).rsplit("/", 1)[1]
        theirs = await browser.get(f"/mon-bilan/{other_dossier}/reclamations")
        assert "Mes réclamations" not in theirs.text
        assert (await browser.get(path)).status_code == 404


async def test_the_convention_is_signed_online_with_its_evidence(console: Console) -> None:
    c = console
    email = _address()
    dossier_id, _ = await c.open_dossier(email)
    manager = {"Authorization": "Bearer " + dev_token(["site_manager"], [c.site])}

    async def version() -> str:
        return str(
            (await c.dossier.get(f"/dossiers/{dossier_id}", headers=manager)).headers["etag"]
        )

    drafted = await c.dossier.post(
        f"/dossiers/{dossier_id}/conventions",
        headers={**manager, "If-Match": await version()},
        json={
            "kind": "individual_contract",
            **MENTIONS,
            "duration_minutes": 1200,
            "price_cents": 180000,
        },
    )
    assert drafted.status_code == 201, drafted.text
    convention_id = drafted.headers["location"].rsplit("/", 1)[1]
    sent = await c.dossier.post(
        f"/dossiers/{dossier_id}/conventions/{convention_id}/sending",
        headers={**manager, "If-Match": await version()},
        json={},
    )
    assert sent.status_code == 200, sent.text
    path = f"/mon-bilan/{dossier_id}/convention"
    async with c.browser() as browser:
        await sign_in(c, email, browser)
        page = await browser.get(path)
        assert "Signer la convention" in page.text
        pdf = await browser.get(f"{path}.pdf")
        assert pdf.content.startswith(b"%PDF")
        digest = hashlib.sha256(pdf.content).hexdigest()
        assert digest in page.text
        token = await csrf_of(browser, path)
        unticked = await browser.post(path, data={"csrf_token": token, "document_sha256": digest})
        assert unticked.status_code == 422
        stale = await browser.post(
            path, data={"csrf_token": token, "consent": "yes", "document_sha256": "0" * 64}
        )
        assert stale.status_code == 409
        signed = await browser.post(
            path, data={"csrf_token": token, "consent": "yes", "document_sha256": digest}
        )
        assert signed.status_code == 303, signed.text
        after = await browser.get(path)
        assert "Vous avez signé cette convention" in after.text
    view = (await c.dossier.get(f"/dossiers/{dossier_id}", headers=manager)).json()
    assert "beneficiary" in view["convention"]["signatures"]
    evidence = await c.app.state.console.pool.fetchrow("SELECT * FROM convention_signatures")
    assert (evidence["dossier_id"], evidence["document_sha256"]) == (uuid.UUID(dossier_id), digest)
    session_ref = await c.app.state.console.pool.fetchval("SELECT id_hash FROM console_sessions")
    assert evidence["session_ref"] == session_ref


async def test_the_audit_space_is_for_auditors_not_for_beneficiaries(console: Console) -> None:
    c = console
    email = _address()
    await c.open_dossier(email)
    async with c.browser() as browser:
        signed_out = await browser.get("/audit/indicateurs")
        assert signed_out.status_code == 303
        assert signed_out.headers["location"] == "/connexion"
        await sign_in(c, email, browser)
        refused = await browser.get("/audit/indicateurs")
        assert refused.status_code == 403
        assert "Action non autorisée" in refused.text
        csv = await browser.get("/audit/indicateurs.csv?from=2026-01-01&to=2027-01-01")
        assert csv.status_code == 403
        assert "bilans_completed" not in csv.text
