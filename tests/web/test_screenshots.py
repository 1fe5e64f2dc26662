"""The main screens render (checked as PNGs); `make screenshots` keeps them in
web/screenshots/ for the README (CARTO_SCREENSHOTS_DIR)."""

from __future__ import annotations

import os
import struct
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.web.conftest import ROUBAIX, map_ready, sign_in
from tests.web.helpers import file_report


@pytest.fixture
def shots_dir(tmp_path: Path) -> Path:
    target = os.environ.get("CARTO_SCREENSHOTS_DIR")
    path = Path(target) if target else tmp_path
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def desktop(browser: Browser, live_server: str) -> Iterator[Page]:
    ctx = browser.new_context(
        base_url=live_server,
        locale="fr-FR",
        viewport={"width": 1280, "height": 800},
        geolocation={"longitude": ROUBAIX[0], "latitude": ROUBAIX[1]},
        permissions=["geolocation"],
    )
    ctx.set_default_timeout(15_000)
    yield ctx.new_page()
    ctx.close()


def png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", head[16:24])
    return width, height


def shoot(page: Page, directory: Path, name: str, settle: Callable[[], object]) -> Path:
    settle()
    page.wait_for_timeout(800)  # tiles fade in
    path = directory / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def contribution_path(live_server: str) -> str:
    """The page of the demo PLU's first contribution."""
    url = f"{live_server}/api/v1/concertations/plu-de-la-mel/contributions"
    first = httpx.get(url, timeout=30).json()["features"][0]["id"]
    return f"/concertations/plu-de-la-mel/contributions/{first}"


def test_main_screens(desktop: Page, page: Page, live_server: str, shots_dir: Path) -> None:
    report_id = file_report(live_server, ROUBAIX[0], ROUBAIX[1], "proprete", "Dépôt sauvage.")
    saved: list[Path] = []

    def on_report(p: Page) -> Callable[[], None]:
        def settle() -> None:
            map_ready(p)
            p.get_by_role("button", name="Ma position").click()
            p.get_by_text("Propreté, dépôt sauvage, tags").click()
            expect(p.get_by_test_id("routing-preview")).to_contain_text("Roubaix")

        return settle

    desktop.goto("/")
    saved.append(shoot(desktop, shots_dir, "01-signaler", on_report(desktop)))
    page.goto("/")
    saved.append(shoot(page, shots_dir, "02-signaler-mobile", on_report(page)))

    def phone_top() -> None:
        """The folded menu, the map, the start of the panel."""
        map_ready(page)
        expect(page.get_by_role("button", name="Menu")).to_be_in_viewport()
        expect(page.get_by_role("heading", level=1)).to_be_in_viewport()

    page.goto("/donnees")
    saved.append(shoot(page, shots_dir, "15-donnees-mobile", phone_top))
    desktop.goto(f"/suivi/{report_id}")
    saved.append(shoot(desktop, shots_dir, "03-suivi", lambda: map_ready(desktop)))
    steps: list[tuple[str, str, Callable[[], object]]] = [
        ("03-suivi", f"/suivi/{report_id}", lambda: map_ready(desktop)),
        ("04-concertation", "/concertations/plu-de-la-mel", lambda: visible("article")),
        ("05-synthese", "/concertations/plu-de-la-mel/synthese", lambda: visible(".figures")),
        ("06-donnees", "/donnees", lambda: (map_ready(desktop), in_view("legend"))),
        ("16-contribution", contribution_path(live_server), lambda: visible("#panel h1")),
    ]

    def visible(selector: str) -> None:
        expect(desktop.locator(selector).first).to_be_visible()

    def in_view(test_id: str) -> None:
        expect(desktop.get_by_test_id(test_id)).to_be_in_viewport()

    for name, path, settle in steps:
        desktop.goto(path)
        saved.append(shoot(desktop, shots_dir, name, settle))
    sign_in(desktop, "agent.proprete.roubaix@demo.local")
    saved.append(shoot(desktop, shots_dir, "07-agent-file", lambda: visible("table.queue")))
    desktop.goto(f"/agent/signalements/{report_id}")
    saved.append(
        shoot(desktop, shots_dir, "08-agent-ticket", lambda: visible("[data-testid=ticket-place]"))
    )

    for path in saved:
        width, height = png_size(path)
        assert (width, height) in ((1280, 800), (412, 860)), path
        assert path.stat().st_size > 20_000, f"{path} looks blank"


def test_staff_screens(desktop: Page, live_server: str, shots_dir: Path) -> None:
    """Administration, competence table, moderation: the staff screens of the README."""
    saved: list[Path] = []

    def visible(selector: str) -> Callable[[], None]:
        return lambda: expect(desktop.locator(selector).first).to_be_visible()

    sign_in(desktop, "admin@demo.local")
    steps = [
        ("09-admin-concertations", "/admin/concertations", visible("table.queue")),
        (
            "10-admin-concertation",
            "/admin/concertations/plu-de-la-mel",
            visible("form input[type=color]"),
        ),
        ("11-admin-competences", "/admin/competences?historique=1", visible("table.rules")),
        ("12-admin-services", "/admin/services", visible("table.queue")),
        ("13-moderation", "/moderation", visible("section h2")),
    ]
    for name, path, settle in steps:
        desktop.goto(path)
        saved.append(shoot(desktop, shots_dir, name, settle))
    for path in saved:
        assert png_size(path) == (1280, 800), path
        assert path.stat().st_size > 20_000, f"{path} looks blank"


def test_street_zoom_is_not_blank(desktop: Page, shots_dir: Path) -> None:
    """Without CARTO_BASEMAP_URL nor imported streets, z17 still shows commune fills and
    outlines (overzoomed from the tiles' maxzoom), not the empty background."""
    desktop.goto("/donnees")
    map_ready(desktop)
    # On Roubaix's boundary with Tourcoing: a fill on each side and the outline between.
    desktop.evaluate("window.cartoMap.map.jumpTo({center: [3.1655, 50.7064], zoom: 17})")
    desktop.wait_for_function("() => window.cartoMap.map.loaded()")
    rendered = desktop.evaluate(
        "() => window.cartoMap.map.queryRenderedFeatures({layers: ['communes-fill']})"
        ".map(f => f.properties.nom)"
    )
    assert rendered, "no commune drawn at z17"
    path = shoot(desktop, shots_dir, "14-zoom-rue", lambda: None)
    assert path.stat().st_size > 20_000, f"{path} looks blank"
