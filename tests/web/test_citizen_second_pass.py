"""Issue 21, citizen side, in Debian's Chromium: the refusal outside coverage said once
with where to report instead, the informed service's reason, no INSEE code read as a
postcode, French labels on the map, the deadline and the current routing on the follow
page, focus and per-field errors on the form, a whole report with the keyboard only."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.web.conftest import ROUBAIX, map_ready, page_at
from tests.web.helpers import file_report, token
from tests.web.test_accessibility import serious_violations

# Views wait for the map of a national deployment: on a busy 2-core machine that takes
# more than expect's 5 s default.
expect.set_options(timeout=15_000)
DESKTOP = {"width": 1280, "height": 800}
OPEN_SEA = (-3.5, 47.0)
BOULOGNE = (2.2399, 48.8353)
LILLE = (3.0573, 50.6292)


@pytest.fixture
def desk(browser: Browser, live_server: str) -> Iterator[Page]:
    yield from page_at(
        browser, live_server, DESKTOP["width"], DESKTOP["height"],
        geolocation={"longitude": ROUBAIX[0], "latitude": ROUBAIX[1]}, permissions=["geolocation"],
    )  # fmt: skip


def place_at(page: Page, lon: float, lat: float) -> None:
    """Put the map's centre on (lon, lat) and choose it as the place."""
    page.evaluate(f"window.cartoMap.map.jumpTo({{center: [{lon}, {lat}], zoom: 16}})")
    page.get_by_role("button", name="Le centre de la carte").click()


def test_the_sea_is_refused_once_with_where_to_report_instead(desk: Page) -> None:
    desk.goto("/signaler")
    map_ready(desk)
    place_at(desk, *OPEN_SEA)
    desk.get_by_text("Chaussée, trottoir, nid-de-poule").click()
    refused = desk.get_by_test_id("routing-refused")
    expect(refused).to_contain_text("en dehors des territoires couverts")
    expect(refused).to_contain_text("CROSS (196)")
    desk.get_by_label("Description").fill("Une bouée a dérivé.")
    desk.get_by_role("button", name="Envoyer le signalement").click()
    expect(refused).to_be_focused()
    expect(desk.get_by_role("alert")).to_have_count(1)  # not twice
    expect(desk.get_by_test_id("reference")).to_have_count(0)


def test_preview_gives_the_informed_reason_and_no_insee_code(desk: Page) -> None:
    desk.goto("/signaler")
    map_ready(desk)
    place_at(desk, *BOULOGNE)
    desk.get_by_text("Propreté, dépôt sauvage, tags").click()
    informed = desk.get_by_test_id("informed")
    expect(informed).to_contain_text("Mobilier urbain et signalisation")
    expect(informed).to_contain_text("motif : Pouvoirs de police du maire")
    place_at(desk, *LILLE)
    preview = desk.get_by_test_id("routing-preview")
    expect(preview).to_contain_text("Point dans la commune de Lille")
    expect(preview).not_to_contain_text("59350")


def test_empty_submit_marks_every_missing_field_and_email_errors_are_french(desk: Page) -> None:
    desk.goto("/signaler")
    map_ready(desk)
    desk.get_by_role("button", name="Envoyer le signalement").click()
    for control in (
        desk.get_by_label("Coordonnées du lieu"),
        desk.get_by_role("radiogroup", name="Catégorie"),
        desk.get_by_label("Description"),
    ):
        expect(control).to_have_attribute("aria-invalid", "true")
        described = control.get_attribute("aria-describedby") or ""
        message = desk.locator(f"#{described.split()[-1]}")
        expect(message).to_be_visible()
    expect(desk.get_by_label("Coordonnées du lieu")).to_be_focused()
    assert serious_violations(desk) == []
    desk.get_by_role("button", name="Ma position").click()
    desk.get_by_text("Propreté, dépôt sauvage, tags").click()
    desk.get_by_label("Description").fill("Dépôt sauvage.")
    email = desk.get_by_label("Votre e-mail (facultatif)")
    for typed in ("pas-une-adresse", "nom@exemple"):  # refused by the browser, by the server
        email.fill(typed)
        desk.get_by_role("button", name="Envoyer le signalement").click()
        expect(email).to_have_attribute("aria-invalid", "true")
        slot = desk.locator(f"#{(email.get_attribute('aria-describedby') or '').split()[-1]}")
        expect(slot).to_contain_text("Adresse e-mail invalide")
        expect(desk.get_by_label("Description")).not_to_have_attribute("aria-invalid", "true")
        expect(desk.locator("body")).not_to_contain_text("valid email")
        expect(desk.get_by_test_id("reference")).to_have_count(0)


def test_a_whole_report_with_the_keyboard_only(desk: Page) -> None:
    desk.goto("/signaler")
    map_ready(desk)
    seen: list[str] = []

    def tab_to(predicate: str, limit: int = 60) -> None:
        for _ in range(limit):
            desk.keyboard.press("Tab")
            name, hit = desk.evaluate(
                f"(el => [el.className || el.tagName, !!({predicate})])(document.activeElement)"
            )
            seen.append(str(name))
            if hit:
                return
        raise AssertionError(f"not reached with Tab: {predicate}")

    tab_to("el.classList.contains('maplibregl-canvas')")  # the map, before the form
    desk.keyboard.press("ArrowDown")  # MapLibre's keyboard pan
    tab_to("el.textContent.includes('Ma position')")
    desk.keyboard.press("Enter")
    expect(desk.get_by_label("Coordonnées du lieu")).not_to_have_value("")
    tab_to("el.type === 'radio'")
    desk.keyboard.press("Space")
    expect(desk.get_by_test_id("routing-preview")).to_be_visible()
    tab_to("el.name === 'description'")
    desk.keyboard.type("Nid-de-poule profond devant l'arrêt de bus.")
    tab_to("el.type === 'submit'")
    desk.keyboard.press("Enter")
    expect(desk.get_by_test_id("reference")).to_be_visible()
    heading = desk.get_by_role("heading", level=1)
    expect(heading).to_have_text("Merci, votre signalement est enregistré")
    expect(heading).to_be_focused()  # not <body>
    assert "maplibregl-canvas" in " ".join(seen)


def test_follow_page_deadline_and_routing_after_a_transfer(desk: Page, live_server: str) -> None:
    report_id = file_report(live_server, ROUBAIX[0], ROUBAIX[1] - 0.001, "proprete", "Tags.")
    agent = {"Authorization": f"Bearer {token(live_server, 'agent.proprete.roubaix@demo.local')}"}
    url = f"{live_server}/api/v1/signalements/{report_id}"
    groups = httpx.get(f"{url}/transfer-candidates", headers=agent).json()["groups"]
    mel = next(g for g in groups if g["relation"] == "intercommunalite")
    target = mel["services"][0]
    reason = "Mobilier de la métropole"
    resp = httpx.post(
        f"{url}/transfer", headers=agent, json={"service_id": target["id"], "reason": reason}
    )
    assert resp.status_code == 200, resp.text
    desk.goto(f"/suivi/{report_id}")
    desk.get_by_test_id("due").wait_for()  # the context's 15 s, on a busy machine
    expect(desk.get_by_test_id("due")).to_have_text(re.compile(r"\d{1,2} \S+ \d{4}"))
    handled = desk.locator(".facts dt", has_text="Traité par").locator(
        "xpath=following-sibling::dd[1]"
    )
    expect(handled).to_contain_text(target["name"])
    why = desk.get_by_test_id("why")
    expect(why).to_contain_text(f"à {target['name']}, Métropole Européenne de Lille")
    expect(why).to_contain_text("« Mobilier de la métropole »")
    assert serious_violations(desk) == []


def test_map_list_and_popup_show_french_category_labels(desk: Page, live_server: str) -> None:
    lon, lat = ROUBAIX[0] + 0.002, ROUBAIX[1] + 0.002
    file_report(live_server, lon, lat, "eclairage", "Lampadaire éteint rue de la Gare.")
    desk.goto("/signaler")
    map_ready(desk)
    desk.evaluate(f"window.cartoMap.map.jumpTo({{center: [{lon}, {lat}], zoom: 17}})")
    desk.wait_for_function(
        "() => window.cartoMap.map.loaded() && window.cartoMap.map.queryRenderedFeatures("
        "{layers: ['signalements-points']}).length > 0"
    )
    desk.get_by_role("button", name="Liste des éléments de la carte").click()
    listing = desk.locator("#map-list")
    expect(listing).to_contain_text("Éclairage public")
    expect(listing).not_to_contain_text(re.compile(r"— (eclairage|voirie|proprete),"))
