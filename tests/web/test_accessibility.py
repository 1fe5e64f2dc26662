"""axe-core (from web/node_modules) finds no serious or critical WCAG 2.1 A/AA violation
on every screen the router has, on a desktop (1280×800) and a phone (390×844)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.web.conftest import AXE, map_ready, sign_in
from tests.web.helpers import file_report

AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
MAIN_TS = Path(__file__).resolve().parents[2] / "web" / "src" / "main.ts"
SLUG = "plu-de-la-mel"

# Every route of web/src/main.ts -> who sees it ("" anonymous, else an account).
ROUTES: dict[str, str] = {
    "/": "",
    "/signaler": "",
    "/suivi/:id": "",
    "/connexion": "",
    "/concertations": "",
    "/concertations/:slug": "",
    "/concertations/:slug/synthese": "",
    "/concertations/:slug/contributions/:id": "",
    "/donnees": "",
    "/mes-signalements": "agent.proprete.roubaix@demo.local",
    "/agent": "agent.proprete.roubaix@demo.local",
    "/agent/signalements/:id": "agent.proprete.roubaix@demo.local",
    "/moderation": "admin@demo.local",
    "/admin": "admin@demo.local",
    "/admin/concertations": "admin@demo.local",
    "/admin/concertations/:slug": "admin@demo.local",
    "/admin/services": "admin@demo.local",
    "/admin/competences": "admin@demo.local",
}


def serious_violations(page: Page) -> list[dict[str, Any]]:
    # Evaluated through the DevTools protocol: the app's Content-Security-Policy (rightly)
    # refuses an injected <script> tag, as it would an attacker's.
    page.evaluate(AXE.read_text(encoding="utf-8") + "\n;undefined")
    result = page.evaluate("options => axe.run(document, options)", AXE_OPTIONS)
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"][:5]]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_the_sweep_covers_every_route_of_the_router() -> None:
    routes = set(re.findall(r"""route\(\s*"([^"]+)"\s*,""", MAIN_TS.read_text(encoding="utf-8")))
    assert routes, "no route found in web/src/main.ts"
    missing = routes - set(ROUTES)
    assert not missing, f"add these routes to the accessibility sweep: {sorted(missing)}"


def settle(page: Page) -> None:
    """The view rendered (its h1, nothing loading) on a drawn map."""
    map_ready(page)
    expect(page.locator("#panel h1")).to_be_visible()
    expect(page.locator("#panel .loading")).to_have_count(0)


@pytest.mark.parametrize("viewport", [(1280, 800), (390, 844)], ids=["desktop", "phone"])
def test_every_screen_has_no_serious_violations(
    browser: Browser, live_server: str, viewport: tuple[int, int]
) -> None:
    report_id = file_report(live_server, 3.176, 50.69, "proprete", "Encombrants sur le trottoir.")
    url = f"{live_server}/api/v1/concertations/{SLUG}/contributions"
    listed = httpx.get(url, timeout=30).json()
    contribution_id = str(listed["features"][0]["id"])
    ctx = browser.new_context(
        base_url=live_server, locale="fr-FR", viewport={"width": viewport[0], "height": viewport[1]}
    )
    ctx.set_default_timeout(20_000)
    page = ctx.new_page()
    found: dict[str, list[dict[str, Any]]] = {}
    try:
        account = ""
        for pattern, who in sorted(ROUTES.items(), key=lambda r: r[1]):
            if who != account:
                sign_in(page, who)
                account = who
            item = contribution_id if "/contributions/" in pattern else report_id
            path = pattern.replace(":id", item).replace(":slug", SLUG)
            page.goto(path)
            settle(page)
            found[path] = serious_violations(page)
        page.goto("/une-page-qui-n-existe-pas")
        settle(page)
        found["404"] = serious_violations(page)
        toggle = page.locator("#menu-toggle")
        if toggle.is_visible():  # the phone's unfolded menu
            toggle.click()
            found["menu"] = serious_violations(page)
    finally:
        ctx.close()
    assert {path: v for path, v in found.items() if v} == {}


def test_report_form_with_preview_has_no_serious_violations(page: Page) -> None:
    page.goto("/")
    map_ready(page)
    page.get_by_role("button", name="Ma position").click()
    page.get_by_text("Propreté, dépôt sauvage, tags").click()
    expect(page.get_by_test_id("routing-preview")).to_be_visible()
    assert serious_violations(page) == []
