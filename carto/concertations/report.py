"""The synthesis as one self-contained HTML file: tables and a Leaflet map.

Self-contained means it opens offline and can be mailed or archived as is: Leaflet's
script and style (vendored, BSD-2) are inlined, the map page sits in an `iframe
srcdoc`, the data are embedded. Only the background map tiles come from the network,
when there is one.

Participant text never becomes code. The map's data go in as one JSON block
(`<script type="application/json">`, `<` escaped) that a static script parses and
shows through text nodes; the only scripts are Leaflet and that static script, both
allowed by hash in the page's Content-Security-Policy (a `<meta>` for the offline
file, the same policy as a header when served). The map's iframe is sandboxed
without `allow-same-origin`: even a script that ran there could not reach the
site's cookies or storage. (folium was dropped: it writes every value into
generated JavaScript, which is how a title with a backtick became code.)
"""

from __future__ import annotations

import asyncio
import json
from functools import cache
from importlib import resources
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from carto.concertations.synthesis import Runner, build_synthesis
from carto.security_headers import sha256_source

POINTS_SQL = """
    SELECT c.id, c.title, c.theme_label AS theme, c.theme_color AS color, c.flagged,
           c.lon, c.lat
    FROM public_layers.contribution_pages c
    WHERE c.concertation_id = :k AND c.visibility = 'published'
    ORDER BY c.id LIMIT 20000"""

STATIC = resources.files("carto.concertations") / "static"
OSM_TILES = "https://tile.openstreetmap.org"


@cache
def _static(name: str) -> str:
    return (STATIC / name).read_text(encoding="utf-8")


def _scripts() -> tuple[str, str]:
    return _static("leaflet/leaflet.js"), _static("report_map.js")


def report_policy(*, meta: bool = False) -> str:
    """The report's Content-Security-Policy: its two static scripts by hash, nothing else.
    `meta`: the `<meta>` form, without `frame-ancestors` (which only a header can carry)."""
    hashes = " ".join(sha256_source(s) for s in _scripts())
    policy = (
        f"default-src 'none'; script-src {hashes}; style-src 'unsafe-inline'; "
        f"img-src data: {OSM_TILES}; base-uri 'none'; form-action 'none'; object-src 'none'"
    )
    return policy if meta else f"{policy}; frame-ancestors 'self'"


def json_block(data: Any) -> str:
    """JSON safe inside `<script type="application/json">`: no `<` can close the block."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def map_data(synthesis: dict[str, Any], points: list[dict[str, Any]]) -> dict[str, Any]:
    """What the map draws: the perimeter, the contributions, the hotspots."""
    return {
        "perimeter": synthesis["perimeter"],
        "points": [
            {
                "lat": p["lat"],
                "lon": p["lon"],
                "color": p["color"],
                "flagged": bool(p["flagged"]),
                "label": f"{p['title']} ({p['theme']})"
                + (" — signalée (campagne)" if p["flagged"] else ""),
            }
            for p in points
        ],
        "hotspots": [
            {
                "lat": h["lat"],
                "lon": h["lon"],
                "radius": max(h["radius_m"], 50.0),
                "label": f"{h['size']} contributions — {h['theme_label']}",
            }
            for h in synthesis["hotspots"]["clusters"]
        ],
    }


def map_page(synthesis: dict[str, Any], points: list[dict[str, Any]]) -> str:
    """The map as a complete HTML page: Leaflet, the JSON data, the static script."""
    leaflet, script = _scripts()
    return (
        '<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8">'
        f"<style>{_static('leaflet/leaflet.css')}</style>"
        "<style>html,body,#map{height:100%;margin:0}</style></head><body>"
        '<div id="map"></div>'
        f'<script type="application/json" id="map-data">{json_block(map_data(synthesis, points))}'
        f"</script><script>{leaflet}</script><script>{script}</script></body></html>"
    )


def render_html(synthesis: dict[str, Any], points: list[dict[str, Any]], *, demo: bool) -> str:
    env = Environment(
        loader=PackageLoader("carto.concertations", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
    )
    template = env.get_template("report.html.j2")
    return template.render(
        s=synthesis, map_srcdoc=map_page(synthesis, points), demo=demo, csp=report_policy(meta=True)
    )


async def build_report(run: Runner, concertation_id: int) -> str:
    """The HTML report of a concertation (NotFound when it does not exist)."""
    synthesis = await build_synthesis(run, concertation_id)
    points = [dict(p) for p in await run(POINTS_SQL, {"k": concertation_id})]
    demo_rows = await run(
        "SELECT is_demo FROM public_layers.concertation_pages WHERE id = :k", {"k": concertation_id}
    )
    demo = bool(demo_rows and demo_rows[0]["is_demo"])
    return await asyncio.to_thread(render_html, synthesis, points, demo=demo)
