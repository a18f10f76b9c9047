"""An auditor reads the quality indicators in the console (issue 19, first part): the figures
are the reporting service's for the same query, each with its meaning and what it evidences;
the CSV is the same query's, and a period that ends before it starts is said next to its
field. (A beneficiary refused the space: tests/integration/console/test_pages.py.)"""

from __future__ import annotations

from datetime import date, timedelta

import httpx
from playwright.sync_api import Browser, Page, expect

from deploy.client import BilanClient
from deploy.tokens import dev_token
from tests.browser.conftest import CONSOLE, Steps

REPORTING = "http://127.0.0.1:8004"


def _auditor_page(browser: Browser) -> Page:
    page = browser.new_context(
        locale="fr-FR", timezone_id="Europe/Paris", bypass_csp=True, accept_downloads=True
    ).new_page()
    page.goto(f"{CONSOLE}/connexion/developpement?personne=auditor")
    page.locator("form button[type=submit]").first.click()
    expect(page.get_by_role("heading", name="Vous êtes connecté(e)")).to_be_visible()
    return page


def _api_figures(first: date, until: date) -> dict[str, dict[str, object]]:
    token = dev_token(["auditor"])
    reply = httpx.get(
        f"{REPORTING}/v1/indicators",
        params={"from": first.isoformat(), "to": until.isoformat()},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    reply.raise_for_status()
    figures: dict[str, dict[str, object]] = reply.json()["indicators"]
    return figures


def test_an_auditor_reads_the_indicators_as_the_reporting_api_gives_them(
    running_system: BilanClient, browser: Browser, steps: Steps
) -> None:
    page = _auditor_page(browser)
    steps.check(page, "staff-home-auditor")
    page.get_by_role("link", name="Audit et qualité : les indicateurs").click()
    expect(page.get_by_role("heading", name="Indicateurs qualité", exact=True)).to_be_visible()
    # The period asked for explicitly, so that the API is asked the same question.
    until = date.today() + timedelta(days=400)  # the demo's and tests' clocks run ahead
    first = until - timedelta(days=800)
    page.get_by_label("Du (inclus)").fill(first.isoformat())
    page.get_by_label("Au (exclu)").fill(until.isoformat())
    page.get_by_role("button", name="Afficher les indicateurs").click()
    expect(page.get_by_text("Taux d'abandon", exact=True)).to_be_visible()
    steps.check(page, "audit-indicators")

    api = _api_figures(first, until)
    for name in ("bilans_completed", "bilans_abandoned", "complaints_received"):
        shown = page.locator(f"tr#{name} td").nth(1).inner_text()
        assert shown.replace("\u202f", "").replace("\xa0", "") == str(api[name]["value"]), name
    rate = api["abandonment_rate"]
    out_of = page.locator("tr#abandonment_rate td").nth(2).inner_text()
    assert out_of == f"{rate['numerator']} / {rate['denominator']}"
    assert "ind. 2, 12" in page.locator("tr#abandonment_rate").inner_text()

    with page.expect_download() as download:
        page.get_by_role("link", name="Télécharger en CSV").click()
    csv = download.value.path().read_text()
    assert csv.startswith("from,to,site,indicator,value,numerator,denominator")
    assert f"{first.isoformat()},{until.isoformat()},org,bilans_completed," in csv

    # A period that ends before it starts is said next to its field.
    page.get_by_label("Du (inclus)").fill(until.isoformat())
    page.get_by_label("Au (exclu)").fill(first.isoformat())
    page.get_by_role("button", name="Afficher les indicateurs").click()
    expect(page.locator("#err-au")).to_contain_text("doit venir après son début")
    steps.check(page, "audit-period-error")
    # A site that is not an identifier is said next to its field, not as a failure.
    page.get_by_label("Site (son identifiant ; vide pour toute l'organisation)").fill("Lyon & co")
    page.get_by_role("button", name="Afficher les indicateurs").click()
    expect(page.locator("#err-site")).to_contain_text("n'est pas l'identifiant d'un site")
    expect(page.get_by_text("toute l'organisation", exact=False).first).to_be_visible()
    steps.check(page, "audit-site-error")
