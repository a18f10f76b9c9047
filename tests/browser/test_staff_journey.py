"""A consultant runs one beneficiary's bilan from the enquiry to completion in the console
(issue 18): needs analysis, programme, convention drafted and sent, phases, a session booked
from the free slots with a room and recorded as held, assessments from the catalogue, a field
inquiry, a training need and its follow-up status, the synthesis written, delivered and
downloaded, the completion and the retention agreement. The site manager names the referent
in the console too. Bad input is said beside its field and changes nothing (a programme over
24 hours, a session outside the free slots, a test that needs a habilitation the consultant
lacks).

Set-up through the APIs: the site, its room and team and the dossier (the enquiry), and the
convention's employer and provider signatures (their rules are changed by another part of
issue 18). The beneficiary's own steps — the deontology notice, their signature of the
convention — are done in the beneficiary's console pages. axe-core checks every page."""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from playwright.sync_api import Browser, Page, expect

from deploy.client import BilanClient
from tests.browser.conftest import CONSOLE, Steps
from tests.e2e.journey import Journey

KAFKA_WAIT_S = 30


def _signed_in(browser: Browser, person: str) -> Page:
    page = browser.new_context(
        locale="fr-FR",
        timezone_id="Europe/Paris",
        bypass_csp=True,
        accept_downloads=True,
        viewport={"width": 1280, "height": 900},
    ).new_page()
    page.goto(f"{CONSOLE}/connexion/developpement?personne={person}")
    page.locator("form button[type=submit]").first.click()
    page.wait_for_load_state("load")
    return page


def _until(page: Page, attempt: Callable[[], None], done: str) -> None:
    """Send a form until the services have learnt over Kafka what it needs (a refusal shows
    beside its field meanwhile, and changes nothing)."""
    deadline = time.monotonic() + KAFKA_WAIT_S
    while True:
        attempt()
        page.wait_for_load_state("load")
        if page.get_by_role("status").filter(has_text=done).count():
            return
        assert time.monotonic() < deadline, page.locator("main").inner_text()
        time.sleep(1)


def _onboard_manager(bilan: BilanClient, j: Journey) -> None:
    bilan.call(
        "scheduling",
        "POST",
        "/staff",
        bilan.admin,
        {
            "staff_id": j.manager,
            "roles": ["site_manager"],
            "site_ids": [j.site],
            "contract": "employee",
        },
        expect=201,
    )


def test_a_consultant_runs_a_whole_bilan_in_the_console(
    running_system: BilanClient, browser: Browser, steps: Steps
) -> None:
    bilan = running_system
    j = Journey(bilan)
    j.open_site()
    _onboard_manager(bilan, j)
    j.open_dossier()
    base = f"{CONSOLE}/equipe/dossiers/{j.dossier}"

    # The site manager names the referent (the dossier service learns the consultant over
    # Kafka: until then the refusal is said beside the field).
    manager = _signed_in(browser, f"staff:{j.manager}")
    manager.goto(f"{base}/referent")
    steps.check(manager, "referent-form")

    def name_referent() -> None:
        manager.goto(f"{base}/referent")
        manager.get_by_label("Consultant *").select_option(label=j.secret.consultant_name)
        manager.get_by_label("Motif *").select_option("initial")
        manager.get_by_role("button", name="Désigner le référent").click()

    _until(manager, name_referent, "Le référent est désigné")
    expect(manager.get_by_role("cell", name=j.secret.consultant_name).first).to_be_visible()
    steps.check(manager, "referent-named")

    page = _signed_in(browser, f"staff:{j.consultant}")
    page.goto(f"{base}/parcours")
    expect(page.get_by_role("heading", name="Conduire le bilan")).to_be_visible()
    steps.check(page, "journey")

    page.get_by_role("link", name="Analyse du besoin").click()
    page.get_by_label("La demande et le besoin du bénéficiaire *").fill(j.secret.needs)
    page.get_by_role("button", name="Enregistrer l'analyse du besoin").click()
    expect(page.get_by_role("status")).to_contain_text("L'analyse du besoin est enregistrée")
    steps.check(page, "needs-analysis")

    # A programme over the 24 hours: the API's refusal beside the field, nothing recorded.
    page.goto(f"{base}/programme")
    page.get_by_label("Durée prévue (heures) *").fill("30")
    page.get_by_label("Mixte (présentiel et distance)").check()
    page.get_by_role("button", name="Enregistrer le programme convenu").click()
    expect(page.locator("#err-programme-planned_hours")).to_contain_text(
        "Cette valeur n'est pas acceptée"
    )
    expect(page.get_by_label("Durée prévue (heures) *")).to_have_attribute("aria-invalid", "true")
    steps.check(page, "programme-refused")
    assert bilan.dossier(j.dossier)["planned_minutes"] is None
    page.get_by_label("Durée prévue (heures) *").fill("20")
    page.get_by_role("button", name="Enregistrer le programme convenu").click()
    expect(page.get_by_role("status")).to_contain_text("Le programme est enregistré")
    assert bilan.dossier(j.dossier)["planned_minutes"] == 1200

    # The convention, drafted and sent from the console.
    page.goto(f"{base}/convention")
    page.get_by_label("Type de convention *").select_option("tripartite")
    for label, text in (
        ("Objectif *", "Construire un projet professionnel"),
        ("Moyens *", "Entretiens, tests, enquêtes métier"),
        ("Période *", "Sur trois mois"),
        ("Modalités de déroulement *", "Huit séances"),
        ("Modalités de suivi *", "Entretien de suivi à six mois"),
        ("Modalités de remise des résultats et de la synthèse *", "Au seul bénéficiaire"),
        ("Modalités de paiement *", "Employeur à la fin du bilan"),
        ("Durée (heures) *", "20"),
        ("Prix (euros TTC) *", "1 800,00"),
    ):
        page.get_by_label(label, exact=True).fill(text)
    steps.check(page, "convention-form")
    page.get_by_role("button", name="Rédiger", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("La convention est rédigée")
    page.get_by_role("button", name="Envoyer la convention").click()
    expect(page.get_by_role("status")).to_contain_text("envoyée pour signature")
    convention = bilan.dossier(j.dossier)["convention"]
    assert convention["price_cents"] == 180000
    assert convention["status"] == "sent"
    # The employer's paper signature and the provider's, through the API (another part of
    # issue 18 changes who may record them).
    scan = {
        "media_type": "application/pdf",
        "content_base64": base64.b64encode(b"%PDF-1.4\n% signed by the employer\n").decode(),
    }
    for body in ({"party": "employer", "paper_document": scan}, {"party": "provider"}):
        bilan.on_dossier(
            j.dossier,
            f"/conventions/{convention['convention_id']}/signatures",
            j.as_manager(),
            body,
        )

    # The beneficiary's own steps, in their space.
    mine = _signed_in(browser, f"beneficiary:{j.beneficiary}")
    mine.goto(f"{CONSOLE}/mon-bilan/{j.dossier}/deontologie")
    mine.get_by_role("button", name="J'ai lu la note").click()
    expect(mine.get_by_text("Vous avez pris connaissance de cette note")).to_be_visible()
    mine.goto(f"{CONSOLE}/mon-bilan/{j.dossier}/convention")
    mine.get_by_label("J'ai lu la convention et je l'accepte").check()
    mine.get_by_role("button", name="Signer la convention").click()
    expect(mine.get_by_text("Vous avez signé cette convention")).to_be_visible()

    # The staff's pages are not the beneficiary's.
    assert mine.request.get(f"{base}/programme").status == 403
    page.goto(f"{base}/convention")
    expect(page.get_by_text("signé", exact=True)).to_have_count(3)
    steps.check(page, "convention-signed")
    page.goto(f"{base}/deontologie")
    expect(page.get_by_text(re.compile(r"^oui, version \d+$"))).to_be_visible()
    steps.check(page, "deontology")

    page.goto(f"{base}/phases")
    page.get_by_role("button", name="Commencer la phase préliminaire").click()
    expect(page.get_by_role("status")).to_contain_text("La phase a commencé")
    steps.check(page, "phases")

    # A session outside the free slots (a forged choice): refused beside the field.
    page.goto(f"{base}/seances")
    steps.check(page, "sessions")
    before = len(bilan.get("scheduling", f"/dossiers/{j.dossier}/sessions", j.as_manager()))
    slot = page.locator("input[name='starts_at']").first
    night = (bilan.now() + timedelta(days=2)).replace(hour=1, minute=0, second=0, microsecond=0)
    slot.evaluate("(el, value) => { el.value = value; }", night.isoformat())
    slot.check()
    page.get_by_label("Objet *").select_option("preliminary")
    page.get_by_label("Salle (présentiel)").select_option(label="Salle Flaubert")
    page.get_by_role("button", name="Réserver la séance").click()
    expect(page.locator("[id^='err-reservation-starts_at']")).to_contain_text(
        "Choisissez l'un des créneaux libres proposés"
    )
    steps.check(page, "session-refused")
    after = bilan.get("scheduling", f"/dossiers/{j.dossier}/sessions", j.as_manager())
    assert len(after) == before

    def book() -> None:
        page.goto(f"{base}/seances")
        page.locator("input[name='starts_at']").nth(1).check()
        page.get_by_label("Objet *").select_option("preliminary")
        page.get_by_label("Salle (présentiel)").select_option(label="Salle Flaubert")
        page.get_by_role("button", name="Réserver la séance").click()

    _until(page, book, "La séance est réservée")
    steps.check(page, "session-booked")
    (booked,) = bilan.get("scheduling", f"/dossiers/{j.dossier}/sessions", j.as_manager())
    assert booked["room_id"] == j.room
    starts = datetime.fromisoformat(booked["starts_at"].replace("Z", "+00:00"))
    bilan.advance(starts - bilan.now() + timedelta(minutes=150))
    page.goto(f"{base}/seances")
    page.get_by_role("button", name="Enregistrer comme tenue").click()
    expect(page.get_by_role("status")).to_contain_text("enregistrée comme tenue")
    page.get_by_role("button", name="Signer l'émargement en tant que consultant").click()
    expect(page.get_by_role("status")).to_contain_text("Vous avez signé l'émargement")
    steps.check(page, "session-held")
    held = bilan.get("scheduling", f"/sessions/{booked['session_id']}", j.as_manager())
    assert held["status"] == "held"
    assert held["signatures"]["consultant"] is not None

    page.goto(f"{base}/phases")
    page.get_by_role("button", name="Terminer la phase préliminaire").click()
    expect(page.get_by_role("status")).to_contain_text("La phase est terminée")
    page.get_by_role("button", name="Commencer la phase d'investigation").click()
    expect(page.get_by_role("status")).to_contain_text("La phase a commencé")

    # Assessments from the catalogue: a psychometric test needs a habilitation the consultant
    # lacks (said beside the instrument), a RIASEC inventory does not.
    page.goto(f"{base}/evaluations")
    expect(page.get_by_text("tests psychométriques").first).to_be_visible()
    page.get_by_label("Inventaire de personnalité (psychométrique)", exact=False).check()
    page.get_by_label("Résultat *").fill(j.secret.result)
    page.get_by_role("button", name="Enregistrer l'évaluation").click()
    expect(page.locator("#err-evaluation-instrument_id")).to_contain_text(
        "demande une habilitation"
    )
    steps.check(page, "assessment-refused")
    assert bilan.dossier(j.dossier)["assessments"] == []
    page.get_by_label("Inventaire d'intérêts professionnels (RIASEC)", exact=False).check()
    page.get_by_role("button", name="Enregistrer l'évaluation").click()
    expect(page.get_by_role("status")).to_contain_text("L'évaluation est enregistrée")
    steps.check(page, "assessments")
    # The psychologist of the site, who holds the habilitation, gives the psychometric test
    # (the dossier service learns the habilitation over Kafka).
    psychologist = _signed_in(browser, f"staff:{j.psychologist}")

    def psychometric() -> None:
        psychologist.goto(f"{base}/evaluations")
        psychologist.get_by_label(
            "Inventaire de personnalité (psychométrique)", exact=False
        ).check()
        psychologist.get_by_label("Résultat *").fill(j.secret.result)
        psychologist.get_by_role("button", name="Enregistrer l'évaluation").click()

    _until(psychologist, psychometric, "L'évaluation est enregistrée")
    assert len(bilan.dossier(j.dossier)["assessments"]) == 2
    # A change of referent needs its reason: refused beside the field, nothing changed.
    manager.goto(f"{base}/referent")
    manager.get_by_label("Consultant *").select_option(j.psychologist)
    manager.get_by_label("Motif *").select_option("initial")
    manager.get_by_role("button", name="Changer de référent").click()
    expect(manager.locator("#err-referent-reason")).to_contain_text("demande son motif")
    steps.check(manager, "referent-change-refused")
    assert bilan.dossier(j.dossier)["referent_id"] == j.consultant

    page.goto(f"{base}/enquetes-terrain")
    page.get_by_label("Type de contact *").select_option("professional_interview")
    page.get_by_label("Notes").fill(j.secret.field_notes)
    page.get_by_role("button", name="Enregistrer l'enquête").click()
    expect(page.get_by_role("status")).to_contain_text("L'enquête de terrain est enregistrée")
    steps.check(page, "field-inquiry")

    page.goto(f"{base}/besoins-formation")
    page.get_by_label("Formation", exact=True).check()
    page.get_by_label("Code de certification (RNCP ou RS)").fill("RNCP35185")
    page.get_by_role("button", name="Enregistrer le besoin").click()
    expect(page.get_by_role("status")).to_contain_text("Le besoin est enregistré")
    expect(page.get_by_role("cell", name="RNCP35185")).to_be_visible()
    page.get_by_label("Statut du suivi *").select_option("in_progress")
    page.get_by_role("button", name="Enregistrer le suivi").click()
    expect(page.get_by_role("status")).to_contain_text("Le suivi du besoin est enregistré")
    expect(page.get_by_role("cell", name=re.compile("^démarches en cours"))).to_be_visible()
    steps.check(page, "training-need")

    page.goto(f"{base}/phases")
    page.get_by_role("button", name="Terminer la phase d'investigation").click()
    page.get_by_role("button", name="Commencer la phase de conclusion").click()
    expect(page.get_by_role("status")).to_contain_text("La phase a commencé")

    # The synthesis: the editor offers the headings; a draft, then the delivery.
    page.goto(f"{base}/synthese")
    editor = page.get_by_label("La synthèse *")
    assert "## Projet professionnel" in editor.input_value()
    steps.check(page, "synthesis-editor")
    editor.fill(f"## Projet professionnel\n\n{j.secret.synthesis}")
    page.get_by_role("button", name="Enregistrer le brouillon").click()
    expect(page.get_by_role("status")).to_contain_text("nouvelle version")
    assert j.secret.synthesis in page.get_by_label("La synthèse *").input_value()
    pdf = page.request.get(f"{base}/synthese.pdf")
    assert pdf.ok
    assert pdf.body().startswith(b"%PDF")
    page.get_by_label("Comment elle a été remise au bénéficiaire *").select_option("hand")
    page.get_by_role("button", name="Enregistrer la remise", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("La remise de la synthèse est enregistrée")
    page.get_by_role("button", name="Enregistrer la remise des résultats détaillés").click()
    expect(page.get_by_role("status")).to_contain_text("résultats détaillés est enregistrée")
    steps.check(page, "synthesis-delivered")

    page.goto(f"{base}/phases")
    page.get_by_role("button", name="Terminer la phase de conclusion").click()
    expect(page.get_by_role("status")).to_contain_text("La phase est terminée")
    page.goto(f"{base}/cloture")
    steps.check(page, "completion")
    page.get_by_role("button", name="Clôturer le bilan").click()
    expect(page.get_by_role("status")).to_contain_text("Le bilan est clôturé")
    assert bilan.dossier(j.dossier)["status"] == "completed"

    page.goto(f"{base}/conservation")
    page.get_by_label("La synthèse", exact=True).check()
    page.get_by_label("Motif *").select_option("follow_up")
    page.get_by_label("Conservés jusqu'au *").fill(
        (bilan.now() + timedelta(days=180)).date().isoformat()
    )
    page.get_by_role("button", name="Enregistrer l'accord").click()
    expect(page.get_by_role("status")).to_contain_text("L'accord de conservation est enregistré")
    steps.check(page, "retention")
    assert bilan.dossier(j.dossier)["retention"]["document_classes"] == ["synthesis"]

    j.wait_held_minutes(120)
    page.goto(f"{base}/parcours")
    expect(page.locator(".steps li.done")).to_have_count(13)
    steps.check(page, "journey-done")


def _page(browser: Browser, person: str, *, javascript: bool, phone: bool = False) -> Page:
    page = browser.new_context(
        locale="fr-FR",
        timezone_id="Europe/Paris",
        bypass_csp=True,
        java_script_enabled=javascript,
        viewport={"width": 360, "height": 780} if phone else {"width": 1280, "height": 900},
    ).new_page()
    page.goto(f"{CONSOLE}/connexion/developpement?personne={person}")
    page.locator("form button[type=submit]").first.click()
    page.wait_for_load_state("load")
    return page


def test_without_javascript_an_abandonment_is_refused_until_complete_then_recorded(
    running_system: BilanClient, browser: Browser, steps: Steps
) -> None:
    bilan = running_system
    j = Journey(bilan)
    j.open_site()
    j.open_dossier()
    j.assign_referent()
    base = f"{CONSOLE}/equipe/dossiers/{j.dossier}"

    page = _page(browser, f"staff:{j.consultant}", javascript=False)
    page.goto(f"{base}/cloture")
    steps.check(page, "end-no-js", javascript=False)
    page.get_by_role("button", name="Enregistrer l'abandon").click()
    expect(page.locator("#err-abandon-reason_category")).to_have_text("Ce champ est obligatoire.")
    expect(page.locator("#err-abandon-initiated_by")).to_have_text("Ce champ est obligatoire.")
    expect(page.get_by_role("alert")).to_contain_text("Rien n'a été modifié")
    steps.check(page, "abandon-refused-no-js", javascript=False)
    assert bilan.dossier(j.dossier)["status"] == "open"
    page.get_by_label("Motif *").select_option("employment_found")
    page.get_by_label("À l'initiative de *").select_option("beneficiary")
    page.get_by_role("button", name="Enregistrer l'abandon").click()
    expect(page.get_by_role("status")).to_contain_text("L'abandon est enregistré")
    steps.check(page, "abandoned-no-js", javascript=False)
    assert bilan.dossier(j.dossier)["status"] == "abandoned"

    # On a 360 px phone, the staff's pages need no sideways scrolling.
    phone = _page(browser, f"staff:{j.consultant}", javascript=True, phone=True)
    for slug in ("parcours", "referent", "seances", "evaluations", "convention"):
        phone.goto(f"{base}/{slug}")
        width = phone.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        assert width[0] <= width[1], f"{slug}: {width[0]} px wide on a {width[1]} px phone"
        steps.check(phone, f"phone-{slug}")
