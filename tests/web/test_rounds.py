"""An agent prepares a crew round from the queue: ticks tickets, sees the ordered list
and the route with numbered stops, downloads the GPX (parsed here) and opens the
printable sheet. On the Helsinki test territory (tests/rounds/helsinki.py), committed
for the browser and removed afterwards."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator

import httpx
import psycopg
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import create_engine

from carto.db import with_driver
from carto.routing.streets import load_streets
from tests.rounds.helsinki import (
    ADMIN,
    AGENT,
    AT_SEA,
    DEPOT,
    HELSINKI_PBF,
    PASSWORD,
    STOPS,
    add_territory,
    remove_territory,
)
from tests.web.conftest import map_ready, sign_in
from tests.web.helpers import file_report, token
from tests.web.test_accessibility import serious_violations

GPX = {"g": "http://www.topografix.com/GPX/1/1"}


@pytest.fixture
def helsinki(demo_db: str, live_server: str) -> Iterator[list[str]]:
    """The territory, its streets, a depot and five tickets (one at sea); their ids."""
    engine = create_engine(with_driver(demo_db, "psycopg"))
    with engine.begin() as conn:
        territory = add_territory(conn)
    with psycopg.connect(demo_db) as pg:
        load_streets(pg, HELSINKI_PBF, force=True)
        pg.commit()
    try:
        admin = token(live_server, ADMIN, PASSWORD)
        resp = httpx.put(
            f"{live_server}/api/v1/services/{territory.voirie_id}/depot",
            json={"name": "Centre technique", "lon": DEPOT[0], "lat": DEPOT[1]},
            headers={"Authorization": f"Bearer {admin}"},
        )
        assert resp.status_code == 200, resp.text
        points = [*STOPS[:4], AT_SEA]
        yield [file_report(live_server, lon, lat, "voirie", "Nid-de-poule") for lon, lat in points]
    finally:
        with engine.begin() as conn:
            remove_territory(conn)
        with psycopg.connect(demo_db) as pg:
            pg.execute("TRUNCATE street_segment, street_import")
            pg.commit()
        engine.dispose()


def test_agent_prepares_a_round_and_downloads_the_gpx(page: Page, helsinki: list[str]) -> None:
    sign_in(page, AGENT, PASSWORD)
    page.goto("/agent")
    map_ready(page)
    for ticket in helsinki:
        page.get_by_label(f"Ajouter le n° {ticket} à la tournée").check()
    expect(page.get_by_text("5 signalements cochés.")).to_be_visible()
    page.get_by_label("Temps disponible en minutes (facultatif)").fill("240")
    page.get_by_role("button", name="Préparer une tournée").click()

    expect(page.get_by_role("heading", name="Tournée proposée")).to_be_focused()
    stops = page.get_by_role("list", name="Arrêts dans l'ordre").get_by_role("listitem")
    expect(stops).to_have_count(4)
    listed = [stops.nth(i).get_by_role("link").inner_text() for i in range(4)]
    assert sorted(listed) == sorted(f"n° {t}" for t in helsinki[:4])
    expect(page.get_by_text("Départ et retour : Centre technique.")).to_be_visible()
    apart = page.locator(".round-apart li")
    expect(apart).to_have_text(
        [f"n° {helsinki[4]} — Chaussée, trottoir, nid-de-poule : aucune rue à moins de 150 m"]
    )
    # The route and the numbered stops are on the map.
    route = page.evaluate(
        "() => window.cartoMap.map.getSource('round')?.serialize()"
        ".data.geometry.coordinates.length ?? 0"
    )
    assert route > 4
    expect(page.get_by_role("img", name="Arrêt 1 : signalement", exact=False)).to_have_count(1)
    expect(page.locator(".round-marker")).to_have_count(5)  # four stops and the depot
    assert serious_violations(page) == []

    with page.expect_download() as download:
        page.get_by_role("button", name="Télécharger le GPX").click()
    path = download.value.path()
    root = ET.parse(path).getroot()  # noqa: S314 - the file the app just gave
    names = [n.text or "" for n in root.findall("g:wpt/g:name", GPX)]
    assert [n.split(" — ")[0] for n in names] == [f"{i + 1}. {x}" for i, x in enumerate(listed)]
    assert len(root.findall("g:trk/g:trkseg/g:trkpt", GPX)) == route

    with page.expect_popup() as popup:
        page.get_by_role("button", name="Imprimer la feuille de tournée").click()
    sheet = popup.value
    expect(sheet.get_by_role("heading", name="Feuille de tournée")).to_be_visible()
    expect(sheet.get_by_role("row")).to_have_count(5)  # header and four stops
