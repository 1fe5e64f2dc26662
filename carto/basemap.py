"""`CARTO_BASEMAP`: which base map the web map draws, and which third party it contacts.

Kept apart from the settings so that the settings, the config endpoint (carto.web) and
the Content-Security-Policy (carto.security_headers) read one parsed value: the policy
must allow exactly the origins of the chosen base and nothing more.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

# IGN Géoplateforme "Plan IGN" vector style: public, free, no key. Its tiles, sprites and
# glyphs are served from the same host.
PLAN_IGN_STYLE = (
    "https://data.geopf.fr/annexes/ressources/vectorTiles/styles/PLAN.IGN/standard.json"
)
PLAN_IGN_ATTRIBUTION = "© IGN – Plan IGN (Géoplateforme)"
OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
OSM_ATTRIBUTION = "© les contributeurs d'OpenStreetMap"

KEYWORDS = ("auto", "plan-ign", "osm", "none")
Kind = Literal["raster", "style"]


class BadBasemap(ValueError):
    """A `CARTO_BASEMAP` value that is neither a keyword nor an http(s) URL."""


@dataclass(frozen=True)
class BasemapChoice:
    """The parsed setting: `url` None means Carto's own offline base only; `fallback`
    means the browser falls back to it when the third party cannot be reached."""

    mode: str  # one of KEYWORDS, or "url"
    kind: Kind | None = None
    url: str | None = None
    attribution: str | None = None
    fallback: bool = False


def _url_kind(url: str) -> Kind:
    return "raster" if "{z}" in url else "style"


def parse_basemap(value: str | None, *, attribution: str | None = None) -> BasemapChoice:
    """Read `CARTO_BASEMAP`; raises `BadBasemap` with a message naming what is accepted."""
    raw = (value or "auto").strip()
    key = raw.lower()
    if key == "auto":
        return BasemapChoice("auto", "style", PLAN_IGN_STYLE, PLAN_IGN_ATTRIBUTION, fallback=True)
    if key == "plan-ign":
        return BasemapChoice("plan-ign", "style", PLAN_IGN_STYLE, PLAN_IGN_ATTRIBUTION)
    if key == "osm":
        return BasemapChoice("osm", "raster", OSM_TILES, attribution or OSM_ATTRIBUTION)
    if key in ("none", "off", ""):
        return BasemapChoice("none")
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c in raw for c in " \"'"):
        raise BadBasemap(
            f"CARTO_BASEMAP={raw!r} is not understood: use auto, plan-ign, osm, none, "
            "a MapLibre style URL (https://…/style.json) or an XYZ template "
            "(https://…/{z}/{x}/{y}.png)."
        )
    kind = _url_kind(raw)
    if kind == "raster" and not all(p in raw for p in ("{x}", "{y}")):
        raise BadBasemap(f"CARTO_BASEMAP={raw!r}: an XYZ template needs {{z}}, {{x}} and {{y}}.")
    return BasemapChoice("url", kind, raw, attribution)
