"""A QGIS project (.qgs) for one concertation, reading the live services.

The planner opens one file and sees, styled: the contributions and reference layers
through the OGC API (QGIS's OAPIF provider; the URL's query string filters every request
server-side), the perimeter, the contributions as vector tiles (`/tiles/...mvt`), and an
OpenStreetMap background.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from sqlalchemy.ext.asyncio import AsyncSession

from carto.layers.catalog import load_layers
from carto.layers.filters import LayerFilter
from carto.layers.styles import QGIS_VERSION, geometry_family, qml
from carto.layers.stylist import style_for

OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"


@dataclass(frozen=True)
class ProjectLayer:
    """One layer of the project: its id, legend name, provider, source, kind and style."""

    ident: str
    name: str
    provider: str
    source: str
    kind: str = "vector"  # vector, vector-tile, raster
    geometry: str = "unknown"
    style_qml: str | None = None


def _oapif_source(base: str, collection: str, filters: dict[str, str]) -> str:
    url = f"{base}/ogc" + (f"?{urlencode(filters)}" if filters else "")
    return f"pagingEnabled='true' restrictToRequestBBOX='1' typename='{collection}' url='{url}'"


def _tiles_source(base: str, layer: str, filters: dict[str, str]) -> str:
    query = f"?{urlencode(filters)}" if filters else ""
    url = f"{base}/tiles/{layer}/{{z}}/{{x}}/{{y}}.mvt{query}"
    return f"type=xyz&url={quote(url, safe=':/')}&zmax=16&zmin=0"


def _maplayer(parent: ET.Element, layer: ProjectLayer) -> None:
    attrs = {"type": layer.kind}
    if layer.kind == "vector":
        attrs["geometry"] = {"point": "Point", "line": "Line", "polygon": "Polygon"}.get(
            layer.geometry, "Unknown geometry"
        )
    node = ET.SubElement(parent, "maplayer", attrs)
    ET.SubElement(node, "id").text = layer.ident
    ET.SubElement(node, "datasource").text = layer.source
    ET.SubElement(node, "layername").text = layer.name
    srs = ET.SubElement(ET.SubElement(node, "srs"), "spatialrefsys")
    ET.SubElement(srs, "authid").text = "EPSG:4326" if layer.kind == "vector" else "EPSG:3857"
    ET.SubElement(node, "provider", encoding="UTF-8").text = layer.provider
    if layer.style_qml:
        # Our own QML (styles.qml), not outside input.
        style_root = ET.fromstring(layer.style_qml.split("\n", 1)[1])  # noqa: S314
        for child in style_root:
            if child.tag != "layerGeometryType":
                node.append(child)
        if style_root.get("labelsEnabled") == "1":
            node.set("labelsEnabled", "1")


def project_document(title: str, layers: list[ProjectLayer]) -> str:
    """The .qgs XML: layer tree (first layer on top) and map layers, in Web Mercator."""
    root = ET.Element("qgis", projectname=title, version=QGIS_VERSION)
    ET.SubElement(root, "title").text = title
    crs = ET.SubElement(ET.SubElement(root, "projectCrs"), "spatialrefsys")
    ET.SubElement(crs, "authid").text = "EPSG:3857"
    tree = ET.SubElement(root, "layer-tree-group")
    for layer in layers:
        ET.SubElement(
            tree,
            "layer-tree-layer",
            id=layer.ident,
            name=layer.name,
            source=layer.source,
            providerKey=layer.provider,
            checked="Qt::Checked",
            expanded="1",
        )
    holder = ET.SubElement(root, "projectlayers")
    for layer in layers:
        _maplayer(holder, layer)
    body = ET.tostring(root, encoding="unicode")
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + body + "\n"


async def concertation_project(session: AsyncSession, base_url: str, slug: str) -> str:
    """The project of concertation `slug`, styled like the GeoPackage export."""
    catalog = await load_layers(session)
    base = base_url.rstrip("/")
    layers: list[ProjectLayer] = []
    wanted = (
        ("contributions", "concertation", "Contributions"),
        ("reference_features", "concertation", "Couches de référence"),
        ("concertations", "slug", "Périmètre"),
    )
    for view, column, name in wanted:
        layer = catalog.get(view)
        if layer is None or layer.column(column) is None:
            continue
        family = geometry_family(layer.geometry.geometry_type if layer.geometry else None)
        style = await style_for(session, layer, LayerFilter(equals={column: slug}), family)
        layers.append(
            ProjectLayer(
                ident=f"{view}_{slug}".replace("-", "_"),
                name=name,
                provider="OAPIF",
                source=_oapif_source(base, view, {column: slug}),
                geometry=family,
                style_qml=qml(style),
            )
        )
    layers.insert(
        1 if layers else 0,
        ProjectLayer(
            ident=f"tiles_contributions_{slug}".replace("-", "_"),
            name="Contributions (tuiles vectorielles)",
            provider="xyzvectortiles",
            source=_tiles_source(base, "contributions", {"concertation": slug}),
            kind="vector-tile",
        ),
    )
    layers.append(
        ProjectLayer(
            ident="osm_background",
            name="OpenStreetMap",
            provider="wms",
            source=f"type=xyz&url={quote(OSM_TILES, safe=':/')}&zmax=19&zmin=0",
            kind="raster",
        )
    )
    return project_document(f"Concertation {slug}", layers)
