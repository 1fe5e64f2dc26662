"""tipg's `/ogc` HTML pages load Bootstrap, jQuery and Leaflet from Carto itself.

The stock templates took them from three CDNs (one a state agency's file server), so
the pages' policy had to trust those hosts. Every page is fetched over HTTP: no script
or stylesheet comes from another origin, each one answers 200 with its type, and the
policy names no CDN. What stays remote is the OpenStreetMap base map (tile images).
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

TAG = re.compile(r"<(script|link|img|iframe)\b[^>]*?\b(?:src|href)=[\"']([^\"']+)[\"']", re.I)
ORIGIN = re.compile(r"https?://([a-z0-9.-]+)", re.I)
URL = re.compile(r"https?://[^\s'\"`]+", re.I)
BASE_MAP = "tile.openstreetmap.org"
TYPES = {".js": "javascript", ".css": "text/css"}


def _pages(http: httpx.Client) -> list[str]:
    item = http.get("/ogc/collections/signalements/items?limit=1").json()["features"][0]["id"]
    return [
        "/ogc/?f=html",
        "/ogc/conformance?f=html",
        "/ogc/collections?f=html",
        "/ogc/collections/signalements?f=html",
        "/ogc/collections/signalements/queryables?f=html",
        "/ogc/collections/signalements/items?f=html&limit=3",
        f"/ogc/collections/signalements/items/{item}?f=html",
    ]


@pytest.fixture(scope="module")
def pages(served: str) -> dict[str, httpx.Response]:
    with httpx.Client(base_url=served, timeout=30) as http:
        return {path: http.get(path) for path in _pages(http)}


def test_pages_load_nothing_from_another_origin(pages: dict[str, httpx.Response]) -> None:
    for path, resp in pages.items():
        assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/html")
        own = urlsplit(str(resp.url)).netloc
        loaded = [
            (tag, urlsplit(urljoin(str(resp.url), url))) for tag, url in TAG.findall(resp.text)
        ]
        assert any(tag == "script" for tag, _ in loaded), path
        foreign = [
            u.geturl() for _, u in loaded if u.scheme in ("http", "https") and u.netloc != own
        ]
        assert foreign == [], path
        scripts = " ".join(re.findall(r"<script[^>]*>(.*?)</script>", resp.text, re.S))
        fetched = [u for u in URL.findall(scripts) if u.endswith((".js", ".css")) or "{z}" in u]
        hosts = {urlsplit(u).hostname for u in fetched}  # what inline code loads: tiles only
        assert hosts <= {BASE_MAP, urlsplit(str(resp.url)).hostname}, path


def test_every_script_and_stylesheet_answers(served: str, pages: dict[str, httpx.Response]) -> None:
    urls = {
        urljoin(str(resp.url), url)
        for resp in pages.values()
        for tag, url in TAG.findall(resp.text)
        if tag in ("script", "link")
        and not url.startswith("data:")
        and urlsplit(url).path.endswith((".js", ".css"))
    }
    assert len(urls) == 5, urls  # jQuery, Bootstrap's script and style, Leaflet's both
    with httpx.Client(timeout=30) as http:
        for url in sorted(urls):
            resp = http.get(url)
            assert resp.status_code == 200, url
            assert TYPES[url[url.rindex(".") :]] in resp.headers["content-type"], url
            assert len(resp.content) > 10_000, url
    marker = urljoin(served, "/ogc/static/leaflet/images/marker-icon.png")
    with httpx.Client(timeout=30) as http:
        assert http.get(marker).headers["content-type"] == "image/png"


def test_policy_trusts_no_cdn(pages: dict[str, httpx.Response]) -> None:
    for path, resp in pages.items():
        policy = resp.headers["content-security-policy"]
        assert set(ORIGIN.findall(policy)) <= {BASE_MAP, "*." + BASE_MAP}, (path, policy)
        script_src = next(d for d in policy.split(";") if d.strip().startswith("script-src"))
        assert "http" not in script_src and "unsafe-inline" not in script_src, path


def test_every_script_tag_carries_the_nonce(pages: dict[str, httpx.Response]) -> None:
    """Ours and tipg's templates alike: a script without the nonce would not run."""
    for path, resp in pages.items():
        nonce = re.search(r"'nonce-([^']+)'", resp.headers["content-security-policy"])
        assert nonce is not None, path
        tags = re.findall(r"<script\b[^>]*>", resp.text)
        assert tags and all(f'nonce="{nonce[1]}"' in tag for tag in tags), path
