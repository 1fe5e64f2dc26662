"""The address search on every map (keyboard only, WAI-ARIA combobox), the offline
fallback of `CARTO_BASEMAP=auto`, and street names on Carto's own base at street zoom."""

from __future__ import annotations

import time
from collections.abc import Iterator

import psycopg
import pytest
from playwright.sync_api import BrowserContext, Page, Route, expect

from tests.web.conftest import map_ready, sign_in
from tests.web.test_accessibility import serious_violations

# Two named streets in Roubaix (osm ids far from any import), committed for the browser.
STREETS = [
    (990001, "Rue de l'Épeule", "LINESTRING(3.1660 50.6880, 3.1700 50.6890, 3.1740 50.6900)"),
    (990002, "Boulevard Gambetta", "LINESTRING(3.1690 50.6860, 3.1700 50.6920)"),
]


def center(page: Page) -> tuple[float, float]:
    c = page.evaluate("() => window.cartoMap.map.getCenter().toArray()")
    return float(c[0]), float(c[1])


def settle(page: Page) -> None:
    page.wait_for_function("() => !window.cartoMap.map.isMoving() && window.cartoMap.map.loaded()")


def type_and_choose(page: Page, text: str) -> None:
    """Keyboard only: type, wait for the suggestions, ArrowDown to the first, Enter."""
    box = page.get_by_role("combobox", name="Rechercher une adresse")
    box.focus()
    page.keyboard.type(text, delay=30)
    options = page.get_by_role("listbox", name="Suggestions d'adresses").get_by_role("option")
    expect(options.first).to_be_visible()
    expect(box).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_test_id("search-status")).to_contain_text("suggestion")
    page.keyboard.press("ArrowDown")
    first_id = options.first.get_attribute("id")
    expect(box).to_have_attribute("aria-activedescendant", first_id or "")
    expect(options.first).to_have_attribute("aria-selected", "true")
    page.keyboard.press("Enter")
    expect(box).to_have_attribute("aria-expanded", "false")


def test_keyboard_search_places_the_report_point_and_previews_routing(page: Page) -> None:
    page.goto("/")
    map_ready(page)
    box = page.get_by_role("combobox", name="Rechercher une adresse")
    expect(box).to_have_attribute("placeholder", "Adresse, rue, commune ou code postal")
    type_and_choose(page, "Roubaix")
    expect(box).to_have_value("Roubaix")  # the municipality's label
    expect(page.get_by_text("Lieu choisi :")).to_be_visible()
    settle(page)
    lon, lat = center(page)
    assert abs(lon - 3.17) < 0.05 and abs(lat - 50.69) < 0.05
    assert page.evaluate("() => window.cartoMap.map.getZoom()") >= 12.9
    # then the category, by keyboard too: the routing preview says who receives it
    page.get_by_role("radio", name="Propreté, dépôt sauvage, tags").focus()
    page.keyboard.press("Space")
    expect(page.get_by_test_id("routing-preview")).to_be_visible()
    expect(page.get_by_test_id("routing-preview")).to_contain_text("Roubaix")


def test_escape_closes_then_clears_and_no_result_is_said_in_french(page: Page) -> None:
    page.goto("/")
    map_ready(page)
    box = page.get_by_role("combobox", name="Rechercher une adresse")
    box.focus()
    page.keyboard.type("Tourc", delay=30)
    expect(page.get_by_role("option").first).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_role("listbox")).to_be_hidden()
    expect(box).to_have_value("Tourc")
    page.keyboard.press("Escape")
    expect(box).to_have_value("")
    page.keyboard.type("Zzyzxqwv", delay=20)
    none = "Aucun résultat pour cette recherche."
    expect(page.locator(".search-note")).to_have_text(none)  # seen
    expect(page.get_by_test_id("search-status")).to_have_text(none)  # heard
    expect(box).to_have_attribute("aria-expanded", "false")


def test_the_suggestion_list_has_no_serious_violations(page: Page) -> None:
    page.goto("/")
    map_ready(page)
    page.get_by_role("combobox", name="Rechercher une adresse").focus()
    page.keyboard.type("Lille", delay=30)
    expect(page.get_by_role("option").first).to_be_visible()
    page.keyboard.press("ArrowDown")
    assert serious_violations(page) == []


MAPS = ["/concertations", "/concertations/plu-de-la-mel", "/donnees", "/agent"]


@pytest.mark.parametrize("path", MAPS)
def test_the_search_is_on_every_map(page: Page, path: str) -> None:
    if path == "/agent":
        sign_in(page, "agent.proprete.roubaix@demo.local")
    page.goto(path)
    map_ready(page)
    expect(page.locator(".map-search.on-map")).to_have_count(1)
    type_and_choose(page, "Tourcoing")
    settle(page)
    lon, lat = center(page)
    assert abs(lon - 3.16) < 0.06 and abs(lat - 50.72) < 0.05
    page.goto("/connexion")  # no map search on a page without one
    expect(page.get_by_role("heading", name="Connexion")).to_be_visible()
    expect(page.locator(".map-search")).to_have_count(0)


def test_auto_falls_back_to_the_own_base_within_three_seconds(context: BrowserContext) -> None:
    """A third party that never answers (a dead network): the own base and its notice."""
    hung: list[Route] = []
    context.route("https://data.geopf.fr/**", lambda route: hung.append(route))
    page = context.new_page()
    started = time.monotonic()
    page.goto("/donnees")
    map_ready(page)
    elapsed = time.monotonic() - started
    notice = page.get_by_test_id("basemap-notice")
    expect(notice).to_have_text("Fond de carte IGN injoignable : fond hors ligne de Carto affiché.")
    assert hung, "the style of Plan IGN was not even asked for"
    assert 2.5 < elapsed < 8, elapsed  # the 3 s timeout, plus the boot on a busy machine
    assert page.evaluate("() => !!window.cartoMap.map.getLayer('streets-label')")


def test_a_reachable_plan_ign_is_drawn_with_the_territories_on_top(
    context: BrowserContext,
) -> None:
    """Plan IGN answering (a stand-in style served by the browser's router): no notice,
    its layers under the commune outlines; the CSP let the request through."""
    style = {
        "version": 8,
        "sources": {},
        "layers": [{"id": "ign-fond", "type": "background", "paint": {"background-color": "#eee"}}],
    }
    context.route("https://data.geopf.fr/**", lambda route: route.fulfill(json=style))
    page = context.new_page()
    page.goto("/donnees")
    map_ready(page)
    layers = page.evaluate("() => window.cartoMap.map.getStyle().layers.map(l => l.id)")
    assert layers[0] == "ign-fond" and "communes-line" in layers
    assert "streets-label" not in layers  # IGN draws its own streets
    expect(page.get_by_test_id("basemap-notice")).to_have_count(0)


def test_no_network_at_all_falls_back_at_once(page: Page) -> None:
    page.goto("/")
    map_ready(page)
    expect(page.get_by_test_id("basemap-notice")).to_be_visible()
    style = page.evaluate("() => window.cartoMap.map.getStyle().glyphs")
    assert style.endswith("/tiles/glyphs/{fontstack}/{range}.pbf")


@pytest.fixture
def roubaix_streets(demo_db: str) -> Iterator[None]:
    with psycopg.connect(demo_db) as pg:
        for osm_id, name, wkt in STREETS:
            pg.execute(
                "INSERT INTO street_segment (osm_id, name, highway, road_class, geom) "
                "VALUES (%s, %s, 'residential', 'communale', ST_GeomFromText(%s, 4326))",
                (osm_id, name, wkt),
            )
        pg.commit()
    try:
        yield
    finally:
        with psycopg.connect(demo_db) as pg:
            ids = [osm_id for osm_id, _, _ in STREETS]
            pg.execute("DELETE FROM street_segment WHERE osm_id = ANY(%s)", (ids,))
            pg.commit()


def test_street_names_render_at_street_zoom(page: Page, roubaix_streets: None) -> None:
    glyphs: list[tuple[str, int]] = []
    page.on(
        "response",
        lambda r: glyphs.append((r.url, r.status)) if "/tiles/glyphs/" in r.url else None,
    )
    page.goto("/donnees")
    map_ready(page)
    page.evaluate("window.cartoMap.map.jumpTo({center: [3.1700, 50.6890], zoom: 17.5})")
    page.wait_for_function(
        "() => window.cartoMap.map.queryRenderedFeatures({layers: ['streets-label']}).length > 0"
    )
    names = page.evaluate(
        "() => [...new Set(window.cartoMap.map.queryRenderedFeatures({layers: ['streets-label']})"
        ".map(f => f.properties.name))].sort()"
    )
    assert names == ["Boulevard Gambetta", "Rue de l'Épeule"]
    assert glyphs and all(status == 200 for _, status in glyphs), glyphs
    assert any("DejaVu%20Sans/0-255.pbf" in url for url, _ in glyphs), glyphs
