"""One demo project served by a real uvicorn on 127.0.0.1 and ONE headless Chromium
(the system's, driven by Playwright) for the whole session; a page fails its test when the
browser logs a console error or an uncaught exception.

The demo is built, then `gold.dim_seller`'s model is edited and rebuilt, so that table has
two Delta versions whose rows differ (time travel has something to show), and
`silver.products`' quarantine rule is made stricter, so its quarantine has rows."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from tests.browser import chromium
from tests.server.live import serving

from afluente.config import load_project
from afluente.demo.build import prepare_demo
from afluente.governance.identity import create_token
from afluente.runtime import run_project
from afluente.state.access_state import AccessStore

OLD_NAME, NEW_NAME = "Vendedor desconhecido", "Vendedor não identificado"
QUARANTINE_RULE = "between: {column: price, min: 0.01}"
STRICTER_RULE = "between: {column: price, min: 100}"
DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"
#: Set to 1 to copy the screenshots over docs/img/ (the docs page's pictures).
DOCS_SHOTS = "AFLUENTE_DOCS_SHOTS"


@dataclass(frozen=True)
class UiServer:
    root: Path
    url: str
    token: str



def build_demo(root: Path) -> str:
    """The demo built twice (dim_seller edited between), and an ADMIN token."""
    prepare_demo(root, orders=120, seed=5)
    project = load_project(root)
    assert run_project(project).status == "success"
    model = root / "models" / "gold" / "dim_seller.sql"
    model.write_text(model.read_text().replace(OLD_NAME, NEW_NAME))
    products = root / "models" / "silver" / "products.sql"  # quarantine the cheap products
    products.write_text(products.read_text().replace(QUARANTINE_RULE, STRICTER_RULE))
    assert run_project(load_project(root), "gold.dim_seller silver.products").status == \
        "success"
    with AccessStore.open(project.state_url) as store:
        store.grant("platform", "ADMIN", "project", "tests")
        return create_token(store, "service:ops", "platform", "tests")


@pytest.fixture(scope="session")
def ui_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UiServer]:
    root = tmp_path_factory.mktemp("ui") / "shop"
    token = build_demo(root)
    with serving(root) as url:
        yield UiServer(root, url, token)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """The one Chromium of the session (never `playwright install`: the system's)."""
    binary = chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=binary,
                                              args=["--no-sandbox", "--disable-gpu"])
        try:
            yield launched
        finally:
            launched.close()


@dataclass
class Tab:
    """A signed-in page, and the console errors and page errors it has seen."""

    page: Any
    url: str
    shots: Path
    errors: list[str] = field(default_factory=list)

    def open(self, path: str) -> Any:
        answer = self.page.goto(self.url + path)
        assert answer is not None and answer.ok, (path, answer and answer.status)
        return answer

    def shot(self, name: str) -> Path:
        """A screenshot of the window under the test's tmp dir (copied to docs/img/ with
        AFLUENTE_DOCS_SHOTS=1)."""
        target = self.shots / f"{name}.png"
        self.page.screenshot(path=str(target), full_page=False)
        if os.environ.get(DOCS_SHOTS) == "1" and DOCS_IMG.is_dir():
            shutil.copyfile(target, DOCS_IMG / target.name)
        return target


@pytest.fixture
def tab(browser: Any, ui_server: UiServer, tmp_path: Path) -> Iterator[Tab]:
    """A fresh browser context signed in with the ADMIN token through the login page."""
    context = browser.new_context(viewport={"width": 1366, "height": 820},
                                  locale="en-US")
    page = context.new_page()
    found = Tab(page, ui_server.url, tmp_path)
    page.on("console", lambda m: found.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: found.errors.append(str(e)))
    page.goto(ui_server.url + "/ui/")
    assert "/ui/login" in page.url
    page.fill("#token", ui_server.token)
    page.click("button[type=submit]")
    page.wait_for_url(ui_server.url + "/ui/")
    try:
        yield found
        assert found.errors == []
    finally:
        context.close()
