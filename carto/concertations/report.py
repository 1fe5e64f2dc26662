"""The synthesis as one self-contained HTML file: tables and a folium (Leaflet) map.

Self-contained means it opens offline and can be mailed or archived as is: Leaflet's
script and style (vendored, BSD-2) are inlined, the map page sits in an `iframe
srcdoc`, the data are embedded. Only the background map tiles come from the network,
when there is one. Every participant text is HTML-escaped before it reaches the page.
"""

from __future__ import annotations

import asyncio
import html
from importlib import resources
from typing import Any

import folium
from jinja2 import Environment, PackageLoader, select_autoescape

from carto.concertations.synthesis import Runner, build_synthesis

POINTS_SQL = """
    SELECT c.id, c.title, t.label AS theme, t.color, cardinality(c.flags) > 0 AS flagged,
           ST_X(ST_PointOnSurface(c.geom)) AS lon, ST_Y(ST_PointOnSurface(c.geom)) AS lat
    FROM contribution c JOIN concertation_theme t ON t.id = c.theme_id
    WHERE c.concertation_id = :k AND c.visibility = 'published'
    ORDER BY c.id LIMIT 20000"""

STATIC = resources.files("carto.concertations") / "static" / "leaflet"


def _inline_leaflet(page: str) -> str:
    script = (STATIC / "leaflet.js").read_text(encoding="utf-8")
    style = (STATIC / "leaflet.css").read_text(encoding="utf-8")
    page = page.replace('<script src="LEAFLET_JS"></script>', f"<script>{script}</script>")
    return page.replace('<link rel="stylesheet" href="LEAFLET_CSS"/>', f"<style>{style}</style>")


def map_page(synthesis: dict[str, Any], points: list[dict[str, Any]]) -> str:
    """The map as a complete HTML page: perimeter, contributions by theme, hotspots."""
    fmap = folium.Map(tiles=None, control_scale=True)
    fmap.default_js = [("leaflet", "LEAFLET_JS")]
    fmap.default_css = [("leaflet_css", "LEAFLET_CSS")]
    folium.TileLayer("OpenStreetMap", name="Fond OpenStreetMap (en ligne)").add_to(fmap)
    perimeter = folium.GeoJson(
        synthesis["perimeter"], name="Périmètre",
        style_function=lambda _: {"color": "#333333", "weight": 2, "fillOpacity": 0.03},
    )  # fmt: skip
    perimeter.add_to(fmap)
    layer = folium.FeatureGroup(name="Contributions").add_to(fmap)
    for p in points:
        label = html.escape(f"{p['title']} ({p['theme']})") + (
            " — signalée (campagne)" if p["flagged"] else ""
        )
        folium.CircleMarker(
            [p["lat"], p["lon"]], radius=4, weight=1, color=p["color"], fill=True,
            fill_opacity=0.3 if p["flagged"] else 0.8, dash_array="2" if p["flagged"] else None,
            tooltip=label,
        ).add_to(layer)  # fmt: skip
    hotspots = folium.FeatureGroup(name="Points chauds").add_to(fmap)
    for h in synthesis["hotspots"]["clusters"]:
        folium.Circle(
            [h["lat"], h["lon"]], radius=max(h["radius_m"], 50.0), color="#d62728", weight=2,
            fill=False,
            tooltip=html.escape(f"{h['size']} contributions — {h['theme_label']}"),
        ).add_to(hotspots)  # fmt: skip
    folium.LayerControl(collapsed=False).add_to(fmap)
    fmap.fit_bounds(perimeter.get_bounds())  # type: ignore[arg-type]
    return _inline_leaflet(fmap.get_root().render())


def render_html(synthesis: dict[str, Any], points: list[dict[str, Any]], *, demo: bool) -> str:
    env = Environment(
        loader=PackageLoader("carto.concertations", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
    )
    template = env.get_template("report.html.j2")
    return template.render(s=synthesis, map_srcdoc=map_page(synthesis, points), demo=demo)


async def build_report(run: Runner, concertation_id: int) -> str:
    """The HTML report of a concertation (NotFound when it does not exist)."""
    synthesis = await build_synthesis(run, concertation_id)
    points = [dict(p) for p in await run(POINTS_SQL, {"k": concertation_id})]
    demo_rows = await run("SELECT is_demo FROM concertation WHERE id = :k", {"k": concertation_id})
    demo = bool(demo_rows and demo_rows[0]["is_demo"])
    return await asyncio.to_thread(render_html, synthesis, points, demo=demo)
