"""axe-core (from web/node_modules) finds no serious or critical WCAG 2.1 A/AA violation
on the main screens."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.web.conftest import AXE, map_ready, sign_in
from tests.web.helpers import file_report

AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


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


@pytest.mark.parametrize(
    ("path", "heading"),
    [
        ("/", "Signaler un problème"),
        ("/concertations", "Concertations"),
        ("/concertations/plu-de-la-mel", "PLU de la MEL"),
        ("/connexion", "Connexion"),
        ("/donnees", "Données et couches"),
    ],
)
def test_public_screens_have_no_serious_violations(page: Page, path: str, heading: str) -> None:
    page.goto(path)
    map_ready(page)
    expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
    assert serious_violations(page) == []


def test_report_form_with_preview_has_no_serious_violations(page: Page) -> None:
    page.goto("/")
    map_ready(page)
    page.get_by_role("button", name="Ma position").click()
    page.get_by_text("Propreté, dépôt sauvage, tags").click()
    expect(page.get_by_test_id("routing-preview")).to_be_visible()
    assert serious_violations(page) == []


def test_follow_page_and_agent_screens_have_no_serious_violations(
    page: Page, live_server: str
) -> None:
    report_id = file_report(live_server, 3.176, 50.69, "proprete", "Encombrants sur le trottoir.")
    page.goto(f"/suivi/{report_id}")
    expect(page.get_by_role("heading", name="Historique")).to_be_visible()
    assert serious_violations(page) == []
    sign_in(page, "agent.proprete.roubaix@demo.local")
    expect(page.get_by_role("heading", level=1)).to_have_text("File des signalements")
    assert serious_violations(page) == []
    page.goto(f"/agent/signalements/{report_id}")
    expect(page.get_by_role("heading", name="Changer l'état")).to_be_visible()
    assert serious_violations(page) == []
