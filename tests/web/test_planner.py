"""The planner's /donnees and the phone layout, on a desktop (1280×800) and a phone
(390×844): grouped points say what they are, the legend names the categories, the
download table fits its panel and its links carry the map's filters (checked against
the files the server returns), the phone menu folds, the contribution form keeps the map."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from playwright.sync_api import Browser, Page, Route, expect

from tests.web.conftest import ROUBAIX, map_ready, page_at, sign_in
from tests.web.helpers import get_json

VIEWPORTS = {"desktop": (1280, 800), "phone": (390, 844)}


@pytest.fixture(params=list(VIEWPORTS))
def screen(request: pytest.FixtureRequest, browser: Browser, live_server: str) -> Iterator[Page]:
    yield from page_at(browser, live_server, *VIEWPORTS[request.param])


@contextmanager
def phone(browser: Browser, live_server: str) -> Iterator[Page]:
    ctx = browser.new_context(
        base_url=live_server, locale="fr-FR", viewport={"width": 390, "height": 844}
    )
    ctx.set_default_timeout(15_000)
    try:
        yield ctx.new_page()
    finally:
        ctx.close()


def open_data(page: Page) -> None:
    page.goto("/donnees")
    map_ready(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Données et couches")


def rendered_groups(page: Page) -> list[dict[str, float]]:
    """Screen positions and counts of the grid groups drawn on the map."""
    return list(
        page.evaluate(
            """() => { const m = window.cartoMap.map;
            return m.queryRenderedFeatures({layers: ['signalements-points']})
              .filter(f => f.properties.id === undefined)
              .map(f => { const p = m.project(f.geometry.coordinates);
                          return {x: p.x, y: p.y, count: f.properties.count}; }); }"""
        )
    )


def test_grouped_point_says_what_it_is_and_zooms(screen: Page) -> None:
    open_data(screen)
    screen.evaluate(f"window.cartoMap.map.jumpTo({{center: {list(ROUBAIX)}, zoom: 10}})")
    screen.wait_for_function(
        "() => window.cartoMap.map.loaded() && window.cartoMap.map"
        ".queryRenderedFeatures({layers: ['signalements-points']}).length > 0"
    )
    canvas = screen.locator("#map canvas").bounding_box()
    assert canvas is not None
    groups = [
        g
        for g in rendered_groups(screen)
        if 60 < g["x"] < canvas["width"] - 60 and 60 < g["y"] < canvas["height"] - 40
    ]
    assert groups, "no group drawn at zoom 10"
    group = max(groups, key=lambda g: g["count"])
    screen.mouse.click(canvas["x"] + group["x"], canvas["y"] + group["y"])
    popup = screen.locator(".maplibregl-popup")
    count = int(group["count"])
    noun = "signalements" if count > 1 else "signalement"
    expect(popup).to_contain_text(f"{count} {noun} ici — zoomez pour les détails")
    expect(popup).not_to_contain_text("n°")
    assert popup.locator("a[href='/suivi/']").count() == 0
    listing = screen.get_by_role("button", name="Liste des éléments de la carte")
    listing.click()
    expect(screen.locator("#map-list")).to_contain_text("regroupé")
    assert screen.locator("#map-list a[href='/suivi/']").count() == 0
    listing.click()
    popup.get_by_role("button", name="Zoomer ici").click()
    screen.wait_for_function("() => window.cartoMap.map.getZoom() >= 12")


def test_legend_names_the_categories_in_french(screen: Page, live_server: str) -> None:
    open_data(screen)
    vocabulary = get_json(live_server, "/api/v1/vocabulary")["domains"]["category"]
    legend = screen.get_by_test_id("legend")
    for term in vocabulary:
        expect(legend).to_contain_text(term["label"])
    label = next(t["label"] for t in vocabulary if t["code"] == "voirie")
    voirie = legend.locator("li", has_text=label).locator(".legend-swatch")
    expect(voirie).to_have_css("background-color", "rgb(124, 58, 237)")
    paint = screen.evaluate(
        "JSON.stringify(window.cartoMap.map"
        ".getPaintProperty('signalements-points', 'circle-color'))"
    )
    assert '"voirie","#7c3aed"' in paint
    expect(legend).not_to_contain_text("Carte de chaleur")
    screen.get_by_label("Carte de chaleur des signalements").check()
    expect(legend).to_contain_text("Carte de chaleur : du bleu (peu) au rouge (beaucoup)")


def test_download_table_fits_its_panel(screen: Page) -> None:
    open_data(screen)
    panel = screen.locator("#panel").bounding_box()
    table = screen.locator("table.downloads")
    assert panel is not None
    assert table.evaluate("t => t.scrollWidth <= t.parentElement.clientWidth")
    links = table.get_by_role("link")
    expect(links).to_have_count(12)
    for i in range(12):
        box = links.nth(i).bounding_box()
        assert box is not None
        assert panel["x"] <= box["x"] and box["x"] + box["width"] <= panel["x"] + panel["width"]
    csv_link = table.get_by_role("link", name="Intercommunalités : .csv (CSV)")
    csv_link.scroll_into_view_if_needed()
    expect(csv_link).to_be_in_viewport()


def rows(base: str, href: str) -> list[dict[str, str]]:
    resp = httpx.get(base + href, timeout=60)
    assert resp.status_code == 200, (href, resp.text[:300])
    return list(csv.DictReader(io.StringIO(resp.text.lstrip("\ufeff"))))


def test_downloads_carry_the_map_filters(page: Page, live_server: str) -> None:
    page.set_viewport_size({"width": 1280, "height": 800})
    open_data(page)
    table = page.locator("table.downloads")
    every = rows(live_server, "/exports/signalements.csv")
    page.get_by_label("Catégorie").select_option("proprete")
    page.get_by_label("État").select_option("routed")
    page.get_by_label("Du", exact=True).fill("2000-01-01")
    page.get_by_label("Au", exact=True).fill("2098-12-31")
    page.get_by_label("Au", exact=True).dispatch_event("change")
    page.get_by_label("Télécharger seulement la zone affichée sur la carte").check()
    expect(page.locator("#dl-filters")).to_contain_text("catégorie « ")
    expect(page.locator("#dl-filters")).to_contain_text("zone affichée")
    href = table.get_by_role("link", name="Signalements : .csv (CSV)").get_attribute("href")
    assert href is not None
    for part in ("service_code=proprete", "state=routed", "datetime=2000-01-01%2F2098-12-31"):
        assert part in href, href
    assert "bbox=" in href
    kept = rows(live_server, href)
    assert kept, "the demo has routed propreté reports in view"
    assert {(r["service_code"], r["state"]) for r in kept} == {("proprete", "routed")}
    assert len(kept) < len(every)
    # The tiles follow the same filters.
    tiles = page.evaluate("window.cartoMap.map.getSource('signalements').tiles[0]")
    assert "service_code=proprete" in tiles and "from=2000-01-01" in tiles
    # Layers without a category or a state only get what applies to them.
    for name in ("Contributions", "Communes", "Intercommunalités"):
        other = table.get_by_role("link", name=f"{name} : .csv (CSV)").get_attribute("href")
        assert other is not None and "bbox=" in other and "service_code" not in other, other
        rows(live_server, other)
    # A period the wrong way round is refused on the page, and the links keep the last good one.
    page.get_by_label("Du", exact=True).fill("2099-12-31")
    page.get_by_label("Du", exact=True).dispatch_event("change")
    expect(page.get_by_role("alert")).to_contain_text("La date de début doit précéder")
    again = table.get_by_role("link", name="Signalements : .csv (CSV)").get_attribute("href")
    assert again == href


@pytest.mark.parametrize(
    "query",
    [
        "datetime=2025-13-01/..",
        "datetime=2025-02-01/2025-01-01",
        "bbox=3,50,3.2",
        "bbox=a,b,c,d",
        "colour=red",
    ],
)
def test_export_filters_refuse_bad_values(live_server: str, query: str) -> None:
    resp = httpx.get(f"{live_server}/exports/signalements.csv?{query}")
    assert 400 <= resp.status_code < 500, (query, resp.status_code)
    body = resp.json()
    assert body["error"] == "invalid_input" and body["message"], resp.text


def test_phone_menu_folds_and_opens_with_the_keyboard(browser: Browser, live_server: str) -> None:
    with phone(browser, live_server) as page:
        sign_in(page, "admin@demo.local")
        map_ready(page)
        header = page.locator("header.topbar").bounding_box()
        assert header is not None and header["height"] <= 60, header
        toggle = page.get_by_role("button", name="Menu")
        expect(toggle).to_have_attribute("aria-expanded", "false")
        expect(page.get_by_role("link", name="Administration")).to_be_hidden()
        toggle.focus()
        page.keyboard.press("Enter")
        expect(toggle).to_have_attribute("aria-expanded", "true")
        expect(page.get_by_role("link", name="Administration")).to_be_visible()
        page.keyboard.press("Tab")
        page.keyboard.press("Escape")
        expect(toggle).to_have_attribute("aria-expanded", "false")
        expect(toggle).to_be_focused()
        page.keyboard.press("Space")
        page.get_by_role("link", name="Données").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Données et couches")
        expect(toggle).to_have_attribute("aria-expanded", "false")
        page.set_viewport_size({"width": 1280, "height": 800})
        expect(toggle).to_be_hidden()
        expect(page.get_by_role("link", name="Administration")).to_be_visible()


def test_phone_menu_opened_while_a_page_loads_stays_open(
    browser: Browser, live_server: str
) -> None:
    """The menu folds when a navigation starts, not when its page arrives: a menu opened
    while a slow page loads (the agent queue after an administrator's sign-in, on a busy
    server) used to snap shut under the user's finger."""
    with phone(browser, live_server) as page:
        page.goto("/")
        map_ready(page)
        held: list[Route] = []
        page.route("**/api/v1/concertations", lambda route: held.append(route))  # answered later
        toggle = page.get_by_role("button", name="Menu")
        toggle.click()
        page.get_by_role("link", name="Concertations").click()
        expect(toggle).to_have_attribute("aria-expanded", "false")  # folded at once
        expect(page.locator("#panel .loading")).to_be_visible()
        toggle.click()  # opened again while the list is still on its way
        expect(toggle).to_have_attribute("aria-expanded", "true")
        assert len(held) == 1
        held[0].continue_()
        expect(page.get_by_role("heading", level=1)).to_have_text("Concertations")
        page.wait_for_timeout(200)
        expect(toggle).to_have_attribute("aria-expanded", "true")
        expect(page.get_by_role("link", name="Données")).to_be_visible()


def test_phone_contribution_form_keeps_the_map_on_screen(
    browser: Browser, live_server: str
) -> None:
    with phone(browser, live_server) as page:
        sign_in(page, "citoyen@demo.local")
        page.goto("/concertations/plu-de-la-mel")
        map_ready(page)
        page.get_by_role("button", name="Ajouter une contribution").click()
        expect(page.get_by_role("heading", name="Nouvelle contribution")).to_be_visible()
        page.wait_for_timeout(300)  # the form focuses its first field: the page scrolls to it
        mapbox = page.locator(".map-wrap").bounding_box()
        field = page.locator("#panel :focus").bounding_box()
        assert mapbox is not None and field is not None
        assert mapbox["y"] >= -1 and mapbox["y"] + mapbox["height"] <= 844 * 0.5, mapbox
        assert mapbox["height"] >= 200
        assert field["y"] >= mapbox["y"] + mapbox["height"] - 1, (field, mapbox)
        page.mouse.wheel(0, 600)
        page.wait_for_timeout(200)
        after = page.locator(".map-wrap").bounding_box()
        assert after is not None and abs(after["y"]) <= 1, after
