"""The agent's ticket says where to go: the address, the street-zoom map, a geo: link for
the navigation app, the reports around, and the address correction form."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.web.conftest import map_ready, sign_in
from tests.web.helpers import file_report, get_json, token

AGENT = "agent.proprete.roubaix@demo.local"


def test_agent_ticket_shows_the_address_the_geo_link_and_the_reports_around(
    page: Page, live_server: str
) -> None:
    # A spot of Roubaix no other test reports at: the nearest five are these two's.
    spot = (3.1612, 50.6975)
    ticket = file_report(live_server, *spot, "proprete", "Sacs déposés sur le trottoir")
    near = file_report(live_server, spot[0] + 0.0004, spot[1], "proprete", "Encombrants")
    staff = get_json(live_server, f"/api/v1/signalements/{ticket}", token(live_server, AGENT))
    label = staff["address"]["label"]
    assert "Roubaix" in label and staff["address"]["source"] == "reverse"

    sign_in(page, AGENT)
    page.goto(f"/agent/signalements/{ticket}")
    map_ready(page)
    place = page.get_by_test_id("ticket-place")
    expect(place.get_by_text(label, exact=True)).to_be_visible()
    expect(page.get_by_test_id("address")).to_have_text(label)
    link = place.get_by_role("link", name="Ouvrir dans une application de navigation")
    expect(link).to_have_attribute("href", f"geo:{spot[1]:.6f},{spot[0]:.6f}")
    expect(place.get_by_test_id("around").get_by_role("link", name=f"n° {near}")).to_be_visible()
    page.wait_for_function("() => window.cartoMap.map.getZoom() > 17.5")  # street zoom

    place.get_by_text("Corriger l'adresse").click()
    place.get_by_label("Adresse affichée").fill("Devant le 12 rue de l'Épeule, Roubaix")
    place.get_by_label("Code postal").fill("59100")
    place.get_by_role("button", name="Enregistrer l'adresse").click()
    expect(page.get_by_test_id("address")).to_have_text("Devant le 12 rue de l'Épeule, Roubaix")
    expect(page.get_by_test_id("timeline")).to_contain_text("Adresse corrigée")
