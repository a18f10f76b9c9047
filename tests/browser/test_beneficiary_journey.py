"""A beneficiary does their part of a bilan in a browser, with no other tool: signs in with
the link from the mail sink, acknowledges the deontology notice, signs the convention, sees
their sessions, signs their attendance, reads and downloads the synthesis, gives a consent,
answers the end-of-bilan survey from its e-mailed link (with JavaScript disabled) and a
session's feedback from its own, downloads their data. Staff do theirs through the APIs, as
the end-to-end journey does."""

from __future__ import annotations

import base64
import io
import json
import re
from datetime import datetime, timedelta

import pypdf
from playwright.sync_api import Browser, Page, expect

from deploy.client import BilanClient, body_text
from tests.browser.conftest import CONSOLE, Steps
from tests.e2e.journey import MENTIONS, SITE_ADDRESS, Journey

H = timedelta(hours=1)
SIGN_IN_SUBJECT = "connexion"
END_OF_BILAN = "votre avis"
LINK = re.compile(r"(https?://\S+/connexion/lien/[A-Za-z0-9_\-]+)")
SURVEY = re.compile(r"(https?://\S+/public/surveys/[A-Za-z0-9_\-]+)")


def _context_page(browser: Browser, *, javascript: bool = True, phone: bool = False) -> Page:
    # bypass_csp lets the test inject axe-core; the console's own pages need no inline script.
    context = browser.new_context(
        locale="fr-FR",
        timezone_id="Europe/Paris",
        bypass_csp=True,
        java_script_enabled=javascript,
        accept_downloads=True,
        viewport={"width": 390, "height": 844} if phone else {"width": 1280, "height": 900},
    )
    return context.new_page()


def _fits_a_phone(page: Page, steps: Steps, name: str) -> None:
    """The page at a phone's width: nothing wider than the screen (no sideways scrolling),
    then its screenshot and axe-core at that size, and back to the desktop size."""
    page.set_viewport_size({"width": 360, "height": 780})
    overflow = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert overflow[0] <= overflow[1], f"{name}: {overflow[0]} px wide on a {overflow[1]} px phone"
    steps.check(page, name)
    page.set_viewport_size({"width": 1280, "height": 900})


def _signed_pdf_has_its_certificate(page: Page) -> None:
    """The PDF offered after signing ends with the certificate page, whose fingerprint is the
    one the page shows."""
    shown = re.search(
        r"[0-9a-f]{64}", page.get_by_role("status").filter(has_text="Vous avez signé").inner_text()
    )
    assert shown is not None
    # The PDF opens in the browser's viewer: fetched with the page's own session instead.
    href = page.get_by_role("link", name="Ouvrir la convention (PDF)").get_attribute("href")
    pdf = page.request.get(f"{CONSOLE}{href}")
    assert pdf.ok
    assert pdf.headers["content-type"] == "application/pdf"
    reader = pypdf.PdfReader(io.BytesIO(pdf.body()))
    last = reader.pages[-1].extract_text()
    assert "Certificat de signature électronique" in last
    assert shown.group(0) in last.replace("\n", "")


def _sign_in(page: Page, j: Journey, steps: Steps) -> None:
    page.goto(f"{CONSOLE}/connexion")
    steps.check(page, "sign-in")
    page.get_by_label("Adresse e-mail").fill(j.secret.email)
    page.get_by_role("button", name="M'envoyer un lien").click()
    expect(page.get_by_role("heading", name="Consultez votre messagerie")).to_be_visible()
    steps.check(page, "link-sent")
    (mail,) = j.mail.wait_for(j.secret.email, SIGN_IN_SUBJECT)[-1:]
    found = LINK.search(body_text(mail))
    assert found is not None
    page.goto(found.group(1))
    steps.check(page, "link-confirm")
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", name="Mon bilan de compétences")).to_be_visible()


def _moves_a_session(
    page: Page, j: Journey, bilan: BilanClient, steps: Steps, starts_at: datetime
) -> None:
    """The beneficiary moves an information session to one of the consultant's free times,
    with a reason; the consultant is told at their work address (the mail sink)."""
    address = f"consultant.{j.consultant[:8]}@centre.example"
    bilan.call("scheduling", "PUT", f"/staff/{j.consultant}/email", bilan.admin, {"email": address})
    session_id = j.schedule("information", "information", starts_at, 60, remote=True)
    page.goto(f"{CONSOLE}/mon-bilan")
    # The information session is the last one to come.
    page.get_by_role("link", name=re.compile("Déplacer ou prévenir d'une absence")).last.click()
    expect(page.get_by_role("heading", name="Déplacer cette séance")).to_be_visible()
    steps.check(page, "session-move")
    page.locator("input[name='starts_at']").first.check()
    page.get_by_label("Pourquoi vous la déplacez").fill("Un rendez-vous médical ce jour-là.")
    page.get_by_role("button", name="Déplacer la séance").click()
    expect(page.get_by_text("Votre séance est déplacée")).to_be_visible()
    steps.check(page, "session-moved")
    (told,) = j.mail.wait_for(address, "Séance déplacée par le bénéficiaire")[-1:]
    assert "Un rendez-vous médical ce jour-là." in body_text(told)
    moved = bilan.get("scheduling", f"/sessions/{session_id}", j.as_manager())
    assert datetime.fromisoformat(moved["starts_at"].replace("Z", "+00:00")) != starts_at


def test_a_beneficiary_lives_their_bilan_in_the_browser(
    running_system: BilanClient, browser: Browser, steps: Steps
) -> None:
    bilan = running_system
    j = Journey(bilan)
    j.open_site()
    j.open_dossier()
    page = _context_page(browser)
    _sign_in(page, j, steps)
    steps.check(page, "bilan-new")

    page.get_by_role("link", name="lire la note déontologique").click()
    expect(page.get_by_text("secret professionnel")).to_be_visible()
    steps.check(page, "deontology")
    page.get_by_role("button", name="J'ai lu la note").click()
    expect(page.get_by_text("Vous avez pris connaissance de cette note")).to_be_visible()
    steps.check(page, "deontology-acknowledged")

    j.needs_and_programme()
    # The convention: drafted and sent by the centre, signed by the employer and the
    # provider through the API, by the beneficiary online.
    drafted = bilan.on_dossier(
        j.dossier,
        "/conventions",
        j.as_manager(),
        {"kind": "tripartite", **MENTIONS, "duration_minutes": 1200, "price_cents": 180000},
        expect=201,
    )
    convention = drafted.headers["location"].rsplit("/", 1)[1]
    bilan.on_dossier(j.dossier, f"/conventions/{convention}/sending", j.as_manager())
    # The employer signed on paper: the manager records it with its scan (a party signs
    # online only for itself); the manager signs for the provider.
    employer_scan = {
        "media_type": "application/pdf",
        "content_base64": base64.b64encode(b"%PDF-1.4\n% signed by the employer\n").decode(),
    }
    for body in ({"party": "employer", "paper_document": employer_scan}, {"party": "provider"}):
        bilan.on_dossier(j.dossier, f"/conventions/{convention}/signatures", j.as_manager(), body)
    page.goto(f"{CONSOLE}/mon-bilan")
    page.get_by_role("link", name="Convention : à signer").click()
    steps.check(page, "convention")
    page.get_by_label("J'ai lu la convention et je l'accepte").check()
    page.get_by_role("button", name="Signer la convention").click()
    expect(page.get_by_text("Vous avez signé cette convention")).to_be_visible()
    steps.check(page, "convention-signed")
    _signed_pdf_has_its_certificate(page)
    signed_convention = bilan.dossier(j.dossier)["convention"]
    assert signed_convention["status"] == "signed"
    j.assign_referent()
    t0 = bilan.now()
    j.schedule("preliminary", "preliminary", t0 + 3 * H, 120)
    j.schedule("investigation", "investigation", t0 + 6 * H, 180, remote=True)
    j.schedule("conclusion", "conclusion", t0 + 10 * H, 120)
    page.goto(f"{CONSOLE}/mon-bilan")
    expect(page.get_by_role("heading", name="Prochaines séances")).to_be_visible()
    expect(page.get_by_text("À distance")).to_be_visible()
    # Whom they meet, by name, and where: the site's address beside the room.
    expect(page.get_by_text(j.secret.consultant_name).first).to_be_visible()
    expect(page.get_by_text(f"Salle Flaubert — {SITE_ADDRESS}").first).to_be_visible()
    steps.check(page, "bilan-sessions")
    _fits_a_phone(page, steps, "bilan-sessions-phone")
    with page.expect_download() as calendar:
        page.get_by_role("link", name="Ajouter à mon agenda").first.click()
    assert calendar.value.suggested_filename.endswith(".ics")
    _moves_a_session(page, j, bilan, steps, t0 + 26 * H)

    # The preliminary interview is held; the consultant records it, the beneficiary signs.
    j.phase("preliminary", "start")
    bilan.advance(4 * H)
    session_id = j.sessions["preliminary"]
    session = bilan.get("scheduling", f"/sessions/{session_id}", j.as_manager())
    bilan.on_session(
        session_id,
        "/held",
        j.as_consultant(),
        {"started_at": session["starts_at"], "duration_minutes": session["planned_minutes"]},
    )
    bilan.on_session(session_id, "/signatures", j.as_consultant(), {})
    page.goto(f"{CONSOLE}/mon-bilan")
    page.get_by_role("button", name=re.compile("Signer ma présence")).click()
    expect(page.get_by_text("signé", exact=True)).to_be_visible()
    steps.check(page, "attendance-signed")
    signed = bilan.get("scheduling", f"/sessions/{session_id}", j.as_manager())
    assert signed["signatures"]["beneficiary"] is not None

    j.phase("preliminary", "completion")
    j.wait_held_minutes(120)
    j.phase("investigation", "start")
    bilan.advance(3 * H)
    j.hold_and_sign("investigation")
    j.field_inquiry()
    j.phase("investigation", "completion")
    j.phase("conclusion", "start")
    bilan.advance(5 * H)
    j.hold_and_sign("conclusion")
    j.conclude()
    j.phase("conclusion", "completion")
    j.wait_held_minutes(420)
    j.complete()

    page.goto(f"{CONSOLE}/mon-bilan")
    expect(page.get_by_text("Bilan terminé", exact=True).first).to_be_visible()
    steps.check(page, "bilan-completed")
    page.get_by_role("link", name="Synthèse, et qui peut la recevoir").click()
    expect(page.get_by_text(j.secret.synthesis)).to_be_visible()
    steps.check(page, "synthesis")
    with page.expect_download() as pdf:
        page.get_by_role("link", name="Télécharger en PDF").click()
    assert pdf.value.path().read_bytes().startswith(b"%PDF")
    page.get_by_role("button", name=re.compile("Donner mon accord — Mon employeur")).click()
    expect(page.get_by_text("donné", exact=True)).to_be_visible()
    assert "employer" in bilan.dossier(j.dossier)["disclosure_consents"]

    page.get_by_role("link", name="Mes données").first.click()
    expect(page.get_by_role("heading", name="Qui a consulté mon bilan")).to_be_visible()
    steps.check(page, "my-data")
    page.get_by_role("link", name="Voir mes données").click()
    expect(page.get_by_text(j.secret.email)).to_be_visible()
    steps.check(page, "my-data-export")
    with page.expect_download() as export:
        page.get_by_role("link", name="Télécharger (JSON)").click()
    assert json.loads(export.value.path().read_text())["beneficiary_id"] == j.beneficiary

    # Feedback on a session (the last of a phase), from its e-mailed link.
    (feedback,) = j.mail.wait_for(j.secret.email, "Votre avis sur votre séance")[:1]
    found = SURVEY.search(body_text(feedback))
    assert found is not None
    page.goto(found.group(1))
    expect(page.get_by_role("heading", name="Votre avis sur la séance")).to_be_visible()
    steps.check(page, "session-feedback")
    page.locator("input[name='overall_satisfaction'][value='4']").check(force=True)
    page.locator("input[name='session_usefulness'][value='8']").check(force=True)
    page.get_by_role("button", name="Envoyer mes réponses").click()
    expect(page.get_by_role("heading", name="Merci !")).to_be_visible()

    # The end-of-bilan survey's link, opened on a phone with JavaScript disabled.
    (invitation,) = j.mail.wait_for(j.secret.email, "Votre avis sur votre bilan")[-1:]
    link = SURVEY.search(body_text(invitation))
    assert link is not None
    assert link.group(1).startswith(CONSOLE)
    phone = _context_page(browser, javascript=False, phone=True)
    phone.goto(link.group(1))
    expect(phone.get_by_role("heading", name="Votre avis sur votre bilan")).to_be_visible()
    steps.check(phone, "survey-phone-no-js", javascript=False)
    phone.get_by_role("button", name="Envoyer mes réponses").click()
    expect(phone.get_by_role("alert")).to_be_visible()  # required answers missing
    steps.check(phone, "survey-errors", javascript=False)
    for code, value in (
        ("overall_satisfaction", "5"),
        ("objectives_met", "9"),
        ("consultant_listening", "10"),
        ("tools_relevance", "8"),
        ("project_clarity", "9"),
        ("would_recommend", "10"),
    ):
        phone.locator(f"input[name='{code}'][value='{value}']").check(force=True)
    phone.get_by_label("Vos remarques et suggestions").fill(j.secret.end_comment)
    phone.get_by_role("button", name="Envoyer mes réponses").click()
    expect(phone.get_by_role("heading", name="Merci !")).to_be_visible()
    steps.check(phone, "survey-thanks", javascript=False)
    page.goto(link.group(1))
    expect(page.get_by_role("heading", name="Déjà répondu")).to_be_visible()
    steps.check(page, "survey-answered")

    page.get_by_role("button", name="Se déconnecter").click()
    expect(page.get_by_role("heading", name="Se connecter")).to_be_visible()
    page.goto(f"{CONSOLE}/mon-bilan")
    expect(page.get_by_role("heading", name="Se connecter")).to_be_visible()
