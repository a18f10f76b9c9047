"""A site manager runs their site's team in the console, and a quality lead the complaints
register (issue 18), in a real browser on the running system, each page checked by axe-core
and at a phone's width.

The site manager onboards a psychologist with an ADELI number: the psychometric-tests
habilitation is refused beside its field without a psychologist's title, then with a number
of the wrong length, then recorded; they add a training and a room and name a dossier's
referent. The quality lead records a complaint received by phone and takes it from receipt to
closing, a step dated before the previous one said beside its date, then opens an improvement
action from it and reads the survey results."""

from __future__ import annotations

import uuid
from datetime import timedelta

from playwright.sync_api import Browser, Page, expect

from deploy.client import BilanClient
from tests.browser.conftest import CONSOLE, Steps
from tests.e2e.journey import Journey


def _page(browser: Browser) -> Page:
    # bypass_csp lets the test inject axe-core; the console's own pages need no inline script.
    context = browser.new_context(
        locale="fr-FR",
        timezone_id="Europe/Paris",
        bypass_csp=True,
        viewport={"width": 1280, "height": 900},
    )
    return context.new_page()


def _fits_a_phone(page: Page, steps: Steps, name: str) -> None:
    """No sideways scrolling at 360 px, and axe-core at that size too."""
    page.set_viewport_size({"width": 360, "height": 780})
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"{name}: {widths[0]} px wide on a {widths[1]} px phone"
    steps.check(page, f"{name}-phone")
    page.set_viewport_size({"width": 1280, "height": 900})


def _staff_member(bilan: BilanClient, roles: list[str], site: str, name: str) -> str:
    staff_id = str(uuid.uuid4())
    bilan.call(
        "scheduling",
        "POST",
        "/staff",
        bilan.admin,
        {
            "staff_id": staff_id,
            "name": name,
            "roles": roles,
            "site_ids": [site],
            "contract": "employee",
        },
        expect=201,
    )
    return staff_id


def _status(page: Page, path: str) -> int:
    response = page.goto(f"{CONSOLE}{path}")
    assert response is not None
    return response.status


def _sign_in_as_staff(page: Page, staff_id: str, steps: Steps) -> None:
    page.goto(f"{CONSOLE}/connexion/developpement?personne=staff:{staff_id}")
    page.locator("form button[type=submit]").first.click()
    expect(page.get_by_role("heading", name="Vous êtes connecté(e)")).to_be_visible()
    steps.check(page, "staff-home")


def test_a_site_manager_onboards_a_psychologist_and_adds_a_room(
    running_system: BilanClient, browser: Browser, steps: Steps
) -> None:
    bilan = running_system
    j = Journey(bilan)
    j.open_site()
    j.open_dossier()
    manager = _staff_member(bilan, ["site_manager"], j.site, f"Régine Lemaire-{j.secret.tag}")
    page = _page(browser)
    _sign_in_as_staff(page, manager, steps)

    page.get_by_role("link", name="Mon équipe, les salles et les référents").click()
    expect(page.get_by_role("heading", name=f"Équipe de {j.site_name}")).to_be_visible()
    steps.check(page, "team")
    _fits_a_phone(page, steps, "team")

    # Onboarding: a missing name is said beside its field, and nothing is created.
    page.get_by_role("checkbox", name="Psychologue").check()
    page.get_by_role("button", name="Ajouter à l'équipe").click()
    expect(page.locator("#err-name")).to_contain_text("Donnez le nom de la personne")
    steps.check(page, "onboard-error")
    name = f"Inès Baudry-{j.secret.tag}"
    page.get_by_label("Prénom et nom").fill(name)
    page.get_by_label("Adresse e-mail professionnelle").fill(f"ines.{j.secret.tag}@centre.example")
    page.get_by_role("button", name="Ajouter à l'équipe").click()
    expect(page.get_by_role("heading", name=name)).to_be_visible()
    expect(page.get_by_text("Bienvenue dans l'équipe")).to_be_visible()
    staff_id = page.url.split("/equipe/membres/")[1].split("?")[0]
    steps.check(page, "member")
    _fits_a_phone(page, steps, "member")

    def qualification(code: str, registry: str, number: str) -> None:
        page.locator("#f-qualification").select_option(code)
        page.get_by_role("checkbox", name="tests psychométriques").check()
        page.get_by_label("Répertoire du titre de psychologue").select_option(registry)
        page.get_by_label("Numéro ADELI ou RPPS").fill(number)
        page.get_by_role("button", name="Enregistrer la qualification").click()

    # The habilitation without a psychologist's title: refused beside the qualification.
    qualification("master_rh", "adeli", "699301234")
    expect(page.locator("#err-qualification")).to_contain_text("titre de psychologue")
    steps.check(page, "habilitation-without-title")
    # With the title but an ADELI number of 8 digits: refused beside the number.
    qualification("psychologue", "adeli", "69930123")
    expect(page.locator("#err-number")).to_contain_text("9 chiffres")
    steps.check(page, "habilitation-bad-adeli")
    assert bilan.get("scheduling", f"/staff/{staff_id}", bilan.admin)["habilitations"] == []
    # With a good ADELI number (typed with spaces, as on the card): recorded.
    qualification("psychologue", "adeli", "69 93 0123 4")
    expect(page.get_by_text("La qualification est enregistrée.")).to_be_visible()
    expect(page.locator("dl.facts")).to_contain_text("tests psychométriques")
    steps.check(page, "habilitation-recorded")
    member = bilan.get("scheduling", f"/staff/{staff_id}", bilan.admin)
    assert member["habilitations"] == ["psychometric_tests"]
    assert "699301234" not in page.content()  # the number is kept sealed, never shown back

    page.locator("#f-title_code").select_option("deontologie_bilan")
    page.get_by_label("Heures").fill("7")
    page.get_by_role("button", name="Enregistrer la formation").click()
    expect(page.get_by_text("La formation est enregistrée.")).to_be_visible()
    expect(page.get_by_role("cell", name="déontologie du bilan · 7 h")).to_be_visible()

    # A room of the site.
    page.get_by_role("link", name=f"Équipe de {j.site_name}").click()
    page.get_by_label("Nom de la salle").fill("Salle Maupassant")
    page.get_by_role("radio", name="Oui : fermée").check()
    page.get_by_role("button", name="Ajouter la salle").click()
    expect(page.get_by_text("La salle est enregistrée.")).to_be_visible()
    expect(page.get_by_text("Salle Maupassant — confidentielle")).to_be_visible()
    expect(page.get_by_role("link", name=name)).to_be_visible()
    steps.check(page, "room-added")
    rooms = bilan.get("scheduling", f"/sites/{j.site}/rooms", bilan.admin)
    assert {"Salle Maupassant", "Salle Flaubert"} <= {r["name"] for r in rooms}

    # The dossier's first referent, with the reason a first one has.
    page.get_by_role("link", name="Référents des dossiers").click()
    expect(page.get_by_role("heading", name="Référents des dossiers")).to_be_visible()
    steps.check(page, "referents")
    _fits_a_phone(page, steps, "referents")

    def assign(reason: str) -> None:
        """The dossier service learns of the consultant over Kafka: until it has, the
        refusal is said beside the referent; once it has, the form is tried again."""
        for _ in range(60):
            page.locator("#f-dossier_id").select_option(j.dossier)
            page.locator("#f-consultant_id").select_option(j.consultant)
            page.get_by_label("Motif").select_option(reason)
            page.get_by_role("button", name="Désigner le référent").click()
            page.wait_for_load_state("load")
            if page.locator("#err-consultant_id").count() == 0:
                return
            page.wait_for_timeout(1000)
        raise AssertionError("the dossier service never learnt of the consultant")

    assign("unavailability")
    expect(page.locator("#err-reason")).to_contain_text("premier référent")
    steps.check(page, "referent-error")
    assign("initial")
    expect(page.get_by_text("Le référent est désigné.")).to_be_visible()
    expect(page.get_by_role("cell", name=j.secret.consultant_name)).to_be_visible()
    steps.check(page, "referent-named")
    assert bilan.dossier(j.dossier)["referent_id"] == j.consultant

    # Another site's team, and a member of it, are not found for this manager (the
    # scheduling service's 404 for their token); the quality pages answer per role.
    other = Journey(bilan)
    other.open_site()
    for path in (f"/equipe/site/{other.site}", f"/equipe/membres/{other.consultant}"):
        assert _status(page, path) == 404, path
        assert other.secret.consultant_name not in page.content()
    assert _status(page, "/qualite/actions") == 403


def test_a_quality_lead_takes_a_complaint_from_receipt_to_closing(
    running_system: BilanClient, browser: Browser, steps: Steps
) -> None:
    bilan = running_system
    j = Journey(bilan)
    j.open_site()
    lead = _staff_member(bilan, ["quality_lead"], j.site, f"Odile Marchal-{j.secret.tag}")
    page = _page(browser)
    _sign_in_as_staff(page, lead, steps)

    # The team pages are the site manager's: a quality lead gets 403, in words.
    assert _status(page, f"/equipe/site/{j.site}") == 403
    page.goto(f"{CONSOLE}/")
    page.get_by_role("link", name="Registre des réclamations").click()
    expect(page.get_by_role("heading", name="Registre des réclamations")).to_be_visible()
    steps.check(page, "register")
    _fits_a_phone(page, steps, "register")

    said = f"Rendez-vous annulé deux fois sans prévenir {j.secret.tag}"
    page.locator("#f-site_id").select_option(j.site)
    page.locator("#f-complainant_role").select_option("employer")
    page.locator("#f-category").select_option("organisation")
    page.locator("#f-channel").select_option("phone")
    page.locator("#f-description").fill(said)
    page.get_by_role("button", name="Enregistrer la réclamation").click()
    expect(page.get_by_text("La réclamation est au registre.")).to_be_visible()
    expect(page.get_by_text(said)).to_be_visible()
    complaint_id = page.url.split("/qualite/reclamations/")[1].split("?")[0]
    steps.check(page, "complaint-received")
    _fits_a_phone(page, steps, "complaint")

    # A step dated before the receipt is refused beside its date, and nothing changes.
    page.locator("#f-at").fill("2020-01-06")
    page.get_by_role("button", name="Enregistrer l'accusé de réception").click()
    expect(page.locator("#err-at")).to_contain_text("après la précédente")
    steps.check(page, "acknowledgement-refused")
    assert bilan.get("survey", f"/complaints/{complaint_id}", j.as_quality_lead())["status"] == (
        "received"
    )
    page.goto(f"{CONSOLE}/qualite/reclamations/{complaint_id}")  # today's date again
    page.get_by_role("button", name="Enregistrer l'accusé de réception").click()
    expect(page.get_by_text("L'accusé de réception est enregistré.")).to_be_visible()
    steps.check(page, "acknowledged")

    page.get_by_role("button", name="Enregistrer la réponse").click()
    expect(page.locator("#err-response")).to_contain_text("Écrivez-le")
    page.get_by_label("La réponse donnée à l'auteur de la réclamation").fill(
        "Nous confirmons désormais chaque rendez-vous 48 h avant."
    )
    page.get_by_role("button", name="Enregistrer la réponse").click()
    expect(page.get_by_text("La réponse est enregistrée.")).to_be_visible()
    steps.check(page, "answered")

    page.get_by_role("radio", name="fondée", exact=True).check()
    page.get_by_role("button", name="Clore la réclamation").click()
    expect(page.get_by_text("La réclamation est close.")).to_be_visible()
    steps.check(page, "closed")
    closed = bilan.get("survey", f"/complaints/{complaint_id}", j.as_quality_lead())
    assert (closed["status"], closed["resolution"]) == ("closed", "upheld")

    # An improvement action drawn from it, due in a month of the system's time.
    page.get_by_role("link", name="En tirer une action d'amélioration").click()
    expect(page.get_by_role("heading", name="Actions d'amélioration")).to_be_visible()
    page.get_by_label("Ce qui va changer").fill("Confirmer chaque rendez-vous 48 h avant.")
    due = (bilan.now() + timedelta(days=30)).date().isoformat()
    page.get_by_label("Échéance").fill(due)
    page.get_by_role("button", name="Ouvrir l'action").click()
    expect(page.get_by_text("L'action est ouverte.")).to_be_visible()
    steps.check(page, "action-opened")
    _fits_a_phone(page, steps, "actions")
    actions = bilan.get("survey", "/improvement-actions", j.as_quality_lead())
    assert any(a["source_id"] == complaint_id for a in actions)

    page.goto(f"{CONSOLE}/")
    page.get_by_role("link", name="Résultats des enquêtes").click()
    expect(page.get_by_role("heading", name="Résultats des enquêtes")).to_be_visible()
    steps.check(page, "surveys")
    _fits_a_phone(page, steps, "surveys")
