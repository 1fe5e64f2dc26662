"""End-to-end harness: the real app served by uvicorn over the run's demo database,
driven by Debian's Chromium through Playwright.

The web tests write for real (reports, votes, contributions): they never count
on totals staying fixed, and they run last in the suite (tests/web), so the
demo data other tests read is untouched while they run. Loading the demo a
second time would cost minutes on a busy 2-core machine.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from carto.app import create_app
from carto.settings import Settings
from carto.web import WEB_DIST
from tests.conftest import serve_in_thread

CHROMIUM = os.environ.get("CARTO_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-dev-shm-usage",
    # No internet for the browser under test: the third-party base maps never resolve, so
    # CARTO_BASEMAP=auto (the default) falls back to Carto's own base, as offline.
    "--host-resolver-rules=MAP data.geopf.fr ~NOTFOUND, MAP *.openstreetmap.org ~NOTFOUND",
]
AXE = Path(__file__).resolve().parents[2] / "web" / "node_modules" / "axe-core" / "axe.min.js"
# Roubaix, inside the MEL: `proprete` there goes to the commune (contract table).
ROUBAIX = (3.1746, 50.6901)


@pytest.fixture(scope="session")
def web_built() -> Path:
    """The built front end; `make install` builds it (npm ci, npm run build)."""
    index = WEB_DIST / "index.html"
    assert index.is_file(), f"{index} missing: run `make install` (builds web/ with npm)"
    return WEB_DIST


@pytest.fixture(scope="session")
def live_server(web_built: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """The app on a free 127.0.0.1 port, in a thread; its base URL. With
    CARTO_E2E_BASE_URL (e.g. a running `carto demo`), the browser tests drive that
    server instead: the demo click-through of the issue's "Done when"."""
    external = os.environ.get("CARTO_E2E_BASE_URL")
    if external:
        yield external.rstrip("/")
        return
    demo_db: str = request.getfixturevalue("demo_db")
    tmp_path_factory: pytest.TempPathFactory = request.getfixturevalue("tmp_path_factory")
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("carto-web-data"),
        secret_key="web-test-secret-" + "y" * 32,
        rate_limits="off",
        notifications_worker=False,
    )
    with serve_in_thread(create_app(settings, db_url=demo_db)) as base:
        yield base


# Module scope: the sync Playwright API keeps an event loop running while it is open,
# which would stop pytest-asyncio tests collected after a web module from running.
@pytest.fixture(scope="module")
def playwright_instance() -> Iterator[Playwright]:
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="module")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    browser = playwright_instance.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()


@pytest.fixture
def context(browser: Browser, live_server: str) -> Iterator[BrowserContext]:
    """A fresh browser profile (no token stored), French, on a phone-sized screen."""
    ctx = browser.new_context(
        base_url=live_server,
        locale="fr-FR",
        viewport={"width": 412, "height": 860},
        geolocation={"longitude": ROUBAIX[0], "latitude": ROUBAIX[1]},
        permissions=["geolocation"],
    )
    ctx.set_default_timeout(15_000)
    yield ctx
    ctx.close()


def page_at(
    browser: Browser, live_server: str, width: int, height: int, **options: Any
) -> Iterator[Page]:
    """A fresh French profile at this viewport; the test fails on a JavaScript error."""
    ctx = browser.new_context(
        base_url=live_server, locale="fr-FR", viewport={"width": width, "height": height},
        **options,
    )  # fmt: skip
    ctx.set_default_timeout(15_000)
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    ctx.close()
    assert not errors, errors


@pytest.fixture
def page(context: BrowserContext) -> Iterator[Page]:
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if is_error(m.type, m.text) else None)
    yield page
    assert not errors, f"JavaScript errors on the page: {errors}"


def is_error(kind: str, text: str) -> bool:
    """A console error worth failing for (MapLibre reports bad styles this way); the
    browser's own line for an HTTP error answer is not one: tests check those."""
    return kind == "error" and not text.startswith("Failed to load resource")


def map_ready(page: Page) -> None:
    """Wait until the app booted and the map has rendered its first frame."""
    page.wait_for_function(
        "() => document.body.dataset.ready === 'true' && window.cartoMap?.map.loaded()"
    )


def sign_in(page: Page, email: str, password: str = "demo") -> None:  # noqa: S107
    """Sign in through the page's own form."""
    page.goto("/connexion")
    page.get_by_label("Adresse e-mail").first.fill(email)
    page.get_by_label("Mot de passe").first.fill(password)
    page.get_by_role("button", name="Se connecter").click()
    # Attached, not visible: on a phone the menu holding it is folded.
    page.get_by_role("button", name="Déconnexion", include_hidden=True).wait_for(state="attached")


def open_menu(page: Page) -> None:
    """Unfold the main menu when it is folded (phone widths); no-op on a desktop."""
    toggle = page.locator("#menu-toggle")
    if toggle.is_visible() and toggle.get_attribute("aria-expanded") != "true":
        toggle.click()
