"""Browser tests: Debian's Chromium driven by Playwright, on the running system (started if it
is not, stopped at the end if this session started it; the stack is left as found). Every
page is checked by axe-core (vendored) and photographed into `.data/screenshots/console`."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from deploy import system
from deploy.client import CLOCKED, BilanClient
from deploy.local.paths import DATA_DIR

CHROMIUM = Path("/usr/bin/chromium")
AXE = Path(__file__).resolve().parent / "vendor" / "axe-core-4.10.2.min.js"
SHOTS = DATA_DIR / "screenshots" / "console"
CONSOLE = "http://127.0.0.1:8000"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="package")
def running_system() -> Iterator[BilanClient]:
    client = BilanClient()
    started = False
    if not (client.ready([*CLOCKED, "reporting"]) and _console_ready()):
        system.up()
        started = True
    try:
        yield client
    finally:
        client.close()
        if started:
            system.stop_processes()


def _console_ready() -> bool:
    import httpx

    try:
        return httpx.get(f"{CONSOLE}/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    assert CHROMIUM.exists(), "apt-get install -y chromium (the test setup installs it)"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield launched
        finally:
            launched.close()


class Steps:
    """Photographs each step and runs axe-core on it: 0 serious or critical violations.

    A page shown with JavaScript disabled is checked as the same HTML in a JavaScript-enabled
    page of the same origin (axe is a script)."""

    def __init__(self, folder: Path, browser: Browser) -> None:
        self.folder = folder
        self.count = 0
        self.report: list[dict[str, Any]] = []
        self._browser = browser
        self._checker: Page | None = None

    def check(self, page: Page, name: str, *, javascript: bool = True) -> None:
        self.count += 1
        page.wait_for_load_state("load")
        page.screenshot(path=str(self.folder / f"{self.count:02d}-{name}.png"), full_page=True)
        audited = page
        if not javascript:
            if self._checker is None:
                self._checker = self._browser.new_context(bypass_csp=True).new_page()
            self._checker.goto(f"{CONSOLE}/healthz")
            self._checker.set_content(page.content())
            audited = self._checker
        audited.add_script_tag(path=str(AXE))
        results = audited.evaluate(
            "async () => await axe.run(document, {resultTypes: ['violations']})"
        )
        bad = [
            {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]]}
            for v in results["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        self.report.append({"step": name, "url": page.url, "violations": bad})
        (self.folder / "axe.json").write_text(json.dumps(self.report, indent=2))
        assert bad == [], f"axe-core on {name} ({page.url}): {bad}"


@pytest.fixture
def steps(request: pytest.FixtureRequest, browser: Browser) -> Steps:
    folder = SHOTS / request.node.name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return Steps(folder, browser)
