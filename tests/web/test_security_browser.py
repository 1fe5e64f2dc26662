"""Finding 2 in a real browser (Debian Chromium): the synthesis report's hostile
titles run nothing, its map still draws them; the signed-in web app keeps its token
where no script can read it, and still works under its Content-Security-Policy."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, Route

from tests.security.test_html import PAYLOADS, payload_concertation
from tests.web.conftest import map_ready, open_menu, sign_in

# 1×1 transparent PNG: background tiles without the network.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


@pytest.fixture(scope="module")
def trapped(live_server: str) -> dict[str, Any]:
    with httpx.Client(base_url=live_server, timeout=60) as client:
        return payload_concertation(client)


def _tile(route: Route) -> None:
    route.fulfill(status=200, content_type="image/png", body=PNG)


def test_report_payloads_run_nothing_and_the_map_draws_them(
    context: BrowserContext, page: Page, trapped: dict[str, Any]
) -> None:
    context.route(re.compile(r"^https://([a-z]\.)?tile\.openstreetmap\.org/"), _tile)
    dialogs: list[str] = []
    violations: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on(
        "console",
        lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.set_viewport_size({"width": 1200, "height": 900})  # markers clear of the layer list
    page.goto(f"/api/v1/concertations/{trapped['id']}/synthesis.html")
    title = page.title()
    page.locator("iframe").scroll_into_view_if_needed()
    frame = page.frame_locator("iframe")
    markers = frame.locator("path.leaflet-interactive")
    markers.first.wait_for()
    assert markers.count() == len(PAYLOADS)  # every contribution is on the map
    tips: list[str] = []
    for n in range(len(PAYLOADS)):
        # The event itself, not a pointer at the marker's centre: the markers may overlap,
        # and the one on top would take the pointer (and show its own tooltip).
        markers.nth(n).dispatch_event("mouseover")
        frame.locator(".leaflet-tooltip").first.wait_for()
        tips += frame.locator(".leaflet-tooltip").all_inner_texts()
    for payload in PAYLOADS:  # shown as text, not run
        assert any(t.startswith(payload) for t in tips), (payload, tips)
    page.wait_for_timeout(300)
    assert page.title() == title == "Synthèse — Concertation piégée"
    assert "PWNED" not in page.title() and not dialogs
    assert not violations, violations  # nothing was even attempted, and the map is allowed
    sandbox = page.locator("iframe").get_attribute("sandbox")
    assert sandbox == "allow-scripts"


def test_signed_in_web_app_keeps_no_token_in_reach_of_scripts(
    context: BrowserContext, page: Page
) -> None:
    violations: list[str] = []
    page.on(
        "console",
        lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
    )
    sign_in(page, "citoyen@demo.local")
    page.goto("/")
    map_ready(page)  # MapLibre (workers, tiles) runs under the app's policy
    # /api/v1/me answered (attached: the phone's folded menu holds it)
    page.get_by_role("button", name="Déconnexion", include_hidden=True).wait_for(state="attached")
    stored = page.evaluate(
        "() => Object.keys(localStorage).map(k => k + '=' + localStorage.getItem(k)).join(';')"
    )
    visible_cookies = page.evaluate("() => document.cookie")
    assert "eyJ" not in stored and "eyJ" not in visible_cookies, (stored, visible_cookies)
    (session,) = [c for c in context.cookies() if c["name"] == "carto_session"]
    assert session["httpOnly"] and session["sameSite"] == "Strict"
    me = page.evaluate(
        "async () => (await fetch('/api/v1/me', {headers: {'X-Requested-With': 'carto-web'}}))"
        ".status"
    )
    assert me == 200
    assert not violations, violations
    open_menu(page)
    page.get_by_role("button", name="Déconnexion").click()
    page.get_by_role("link", name="Connexion", include_hidden=True).wait_for(state="attached")
    assert not [c for c in context.cookies() if c["name"] == "carto_session"]


def test_report_file_opens_offline_under_its_meta_policy(
    context: BrowserContext, page: Page, trapped: dict[str, Any], live_server: str, tmp_path: Path
) -> None:
    """The report saved as a file (what `carto report concertation` writes): no header,
    no network, its `<meta>` policy alone; the inlined Leaflet still draws the map."""
    url = f"{live_server}/api/v1/concertations/{trapped['id']}/synthesis.html"
    saved = tmp_path / "rapport.html"
    saved.write_text(httpx.get(url, timeout=60).text, encoding="utf-8")
    context.route(re.compile(r"^https?://"), lambda route: route.abort())  # offline
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(saved.as_uri())
    markers = page.frame_locator("iframe").locator("path.leaflet-interactive")
    markers.first.wait_for()
    assert markers.count() == len(PAYLOADS)
    assert page.title() == "Synthèse — Concertation piégée" and not dialogs
