"""A planned round as a GPX file (for a phone's navigation app) and as a printable
French HTML list (no script, no inline style: it passes a strict Content-Security-Policy)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime

from jinja2 import Environment, PackageLoader, select_autoescape

from carto.rounds.schemas import RoundPublic, RoundStop

GPX_NS = "http://www.topografix.com/GPX/1/1"
_env = Environment(
    loader=PackageLoader("carto.rounds", "templates"),
    autoescape=select_autoescape(["html", "j2"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _point(parent: ET.Element, tag: str, lon: float, lat: float, name: str, desc: str = "") -> None:
    el = ET.SubElement(parent, tag, lat=f"{lat:.7f}", lon=f"{lon:.7f}")
    ET.SubElement(el, "name").text = name
    if desc:
        ET.SubElement(el, "desc").text = desc


def gpx(plan: RoundPublic, *, title: str) -> bytes:
    """GPX 1.1: one waypoint per stop, the route through them in order, and the track
    along the streets."""
    ET.register_namespace("", GPX_NS)
    root = ET.Element("gpx", version="1.1", creator="Carto", xmlns=GPX_NS)
    meta = ET.SubElement(root, "metadata")
    ET.SubElement(meta, "name").text = title
    for s in plan.stops:
        _point(root, "wpt", s.location.lon, s.location.lat, _stop_name(s), s.address or "")
    rte = ET.SubElement(root, "rte")
    ET.SubElement(rte, "name").text = title
    _point(rte, "rtept", plan.start.lon, plan.start.lat, f"Départ : {plan.start_name}")
    for s in plan.stops:
        _point(rte, "rtept", s.location.lon, s.location.lat, _stop_name(s), s.address or "")
    trk = ET.SubElement(root, "trk")
    ET.SubElement(trk, "name").text = title
    seg = ET.SubElement(trk, "trkseg")
    for lon, lat in plan.route.coordinates:
        ET.SubElement(seg, "trkpt", lat=f"{lat:.7f}", lon=f"{lon:.7f}")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _stop_name(s: RoundStop) -> str:
    return f"{s.rank}. n° {s.signalement_id} — {s.category}"


def html(plan: RoundPublic, *, title: str, service: str, at: datetime) -> str:
    """The round as a printable page, in French."""
    return _env.get_template("round.html.j2").render(
        plan=plan, title=title, service=service, at=at.strftime("%d/%m/%Y à %H:%M")
    )
