"""tipg's `/ogc` pages in Debian Chromium: their own copies of jQuery, Bootstrap and
Leaflet run under the page's Content-Security-Policy, and nothing is asked of another
origin but the OpenStreetMap base map's images (answered here without the network)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from playwright.sync_api import BrowserContext, Page, Request

# 1×1 transparent PNG: background tiles without the network.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def test_ogc_items_page_runs_its_own_scripts(
    context: BrowserContext, page: Page, live_server: str
) -> None:
    context.route(
        re.compile(r"^https://([a-z]\.)?tile\.openstreetmap\.org/"),
        lambda route: route.fulfill(status=200, content_type="image/png", body=PNG),
    )
    own = urlsplit(live_server).netloc
    foreign: list[str] = []

    def elsewhere(request: Request) -> None:
        url = urlsplit(request.url)
        remote = url.scheme in ("http", "https") and url.netloc != own
        if remote and not url.netloc.endswith("tile.openstreetmap.org"):
            foreign.append(request.url)

    page.on("request", elsewhere)
    violations: list[str] = []
    page.on(
        "console",
        lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.set_viewport_size({"width": 1200, "height": 900})
    page.goto("/ogc/collections/signalements/items?f=html&limit=5")
    page.wait_for_function(
        "() => window.jQuery && typeof jQuery.fn.collapse === 'function' && window.L"
    )
    page.locator(".leaflet-interactive, .leaflet-marker-icon").first.wait_for()
    assert page.locator("table tbody tr").count() == 5  # the script filled the table
    assert not violations, violations
    assert foreign == [], foreign
