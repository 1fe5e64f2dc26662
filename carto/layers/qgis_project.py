"""A QGIS project (.qgs, or zipped .qgz) for one concertation, reading the live services.

The planner opens one file and sees, styled, on the concertation's perimeter (project in
Lambert-93): the contributions and reference layers through the OGC API (QGIS's OAPIF
provider; the URL's query string filters every request server-side), the perimeter, the
contributions as vector tiles (`/tiles/...mvt`, off by default: the same points, for big
concertations) and an OpenStreetMap background.

The XML follows what QGIS 3.22 itself saves (checked by tests/layers/test_qgis.py with
Debian's PyQGIS): full `<spatialrefsys>` definitions, a `<renderer>` on the vector tile
layer, symbols matching each layer's geometry. A view holding several geometry families
(points and polygons among the reference layers) becomes one layer per family, split by a
QGIS subset filter, so each gets marker, line or fill symbols.
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from carto.layers.catalog import Layer, load_layers, quote_ident
from carto.layers.filters import LayerFilter, where_sql
from carto.layers.qgis_crs import CRS
from carto.layers.styles import QGIS_VERSION, geometry_family, qml, symbol_element
from carto.layers.stylist import style_for

OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
PROJECT_CRS = "EPSG:2154"  # Lambert-93: what French planners measure in
TILES_COLOR = "#d4572a"
_FAMILY = {  # family -> (QGIS geometry name, legend suffix, vector tile style geometry)
    "point": ("Point", "points", "0"),
    "line": ("Line", "lignes", "1"),
    "polygon": ("Polygon", "surfaces", "2"),
}
DOCTYPE = "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"


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
    crs: str = "EPSG:4326"
    visible: bool = True


def _spatialrefsys(parent: ET.Element, authid: str) -> None:
    node = ET.SubElement(parent, "spatialrefsys")
    for key, value in CRS[authid].items():
        ET.SubElement(node, key).text = value


def _oapif_source(base: str, collection: str, filters: dict[str, str], family: str | None) -> str:
    url = f"{base}/ogc" + (f"?{urlencode(filters)}" if filters else "")
    subset = ""
    if family:  # QGIS evaluates it; the OGC API has no geometry-type filter
        subset = f"filter='geometry_type($geometry) = \\'{_FAMILY[family][0]}\\'' "
    paging = "pagingEnabled='true' restrictToRequestBBOX='1'"
    return f"{subset}{paging} typename='{collection}' url='{url}'"


def _tiles_source(base: str, layer: str, filters: dict[str, str]) -> str:
    query = f"?{urlencode(filters)}" if filters else ""
    url = f"{base}/tiles/{layer}/{{z}}/{{x}}/{{y}}.mvt{query}"
    return f"type=xyz&url={quote(url, safe=':/')}&zmax=16&zmin=0"


def _tiles_renderer(node: ET.Element) -> None:
    """A basic vector tile renderer: one style per geometry family, all sublayers."""
    styles = ET.SubElement(ET.SubElement(node, "renderer", type="basic"), "styles")
    for family, (qgis_name, _, code) in _FAMILY.items():
        attrs = {
            "name": qgis_name,
            "layer": "",  # every sublayer of the tiles
            "geometry": code,
            "enabled": "1",
            "expression": f"geometry_type($geometry)='{qgis_name}'",
            "min-zoom": "-1",
            "max-zoom": "-1",
        }
        style = ET.SubElement(styles, "style", attrs)
        symbol_element(ET.SubElement(style, "symbols"), "0", family, TILES_COLOR)
    ET.SubElement(ET.SubElement(node, "labeling", type="basic"), "styles")


def _maplayer(parent: ET.Element, layer: ProjectLayer) -> None:
    attrs = {"type": layer.kind}
    if layer.kind == "vector":
        attrs["geometry"] = _FAMILY.get(layer.geometry, ("Unknown geometry",))[0]
    node = ET.SubElement(parent, "maplayer", attrs)
    ET.SubElement(node, "id").text = layer.ident
    ET.SubElement(node, "datasource").text = layer.source
    ET.SubElement(node, "layername").text = layer.name
    _spatialrefsys(ET.SubElement(node, "srs"), layer.crs)
    ET.SubElement(node, "provider", encoding="UTF-8").text = layer.provider
    if layer.kind == "vector-tile":
        _tiles_renderer(node)
    if layer.style_qml:
        # Our own QML (styles.qml), not outside input.
        style_root = ET.fromstring(layer.style_qml.split("\n", 1)[1])  # noqa: S314
        for child in style_root:
            if child.tag != "layerGeometryType":
                node.append(child)
        if style_root.get("labelsEnabled") == "1":
            node.set("labelsEnabled", "1")


def _extent(parent: ET.Element, tag: str, bbox: tuple[float, float, float, float]) -> ET.Element:
    node = ET.SubElement(parent, tag)
    for key, value in zip(("xmin", "ymin", "xmax", "ymax"), bbox, strict=True):
        ET.SubElement(node, key).text = repr(value)
    return node


def _view(root: ET.Element, bbox: tuple[float, float, float, float] | None) -> None:
    """Where the project opens: the map canvas (QGIS desktop) and the default view extent."""
    if bbox is None:
        return
    canvas = ET.SubElement(root, "mapcanvas", name="theMapCanvas", annotationsVisible="1")
    ET.SubElement(canvas, "units").text = "meters"
    _extent(canvas, "extent", bbox)
    ET.SubElement(canvas, "rotation").text = "0"
    _spatialrefsys(ET.SubElement(canvas, "destinationsrs"), PROJECT_CRS)
    view = ET.SubElement(root, "ProjectViewSettings", UseProjectScales="0", rotation="0")
    ET.SubElement(view, "Scales")
    keys = ("xmin", "ymin", "xmax", "ymax")
    default = ET.SubElement(
        view, "DefaultViewExtent", {k: repr(v) for k, v in zip(keys, bbox, strict=True)}
    )
    _spatialrefsys(default, PROJECT_CRS)


def project_document(
    title: str, layers: list[ProjectLayer], bbox: tuple[float, float, float, float] | None = None
) -> str:
    """The .qgs XML: layer tree (first layer on top), map layers, Lambert-93 view on `bbox`
    (in the project CRS)."""
    root = ET.Element("qgis", projectname=title, version=QGIS_VERSION)
    ET.SubElement(root, "homePath", path="")
    ET.SubElement(root, "title").text = title
    _spatialrefsys(ET.SubElement(root, "projectCrs"), PROJECT_CRS)
    tree = ET.SubElement(root, "layer-tree-group")
    for layer in layers:
        ET.SubElement(
            tree,
            "layer-tree-layer",
            id=layer.ident,
            name=layer.name,
            source=layer.source,
            providerKey=layer.provider,
            checked="Qt::Checked" if layer.visible else "Qt::Unchecked",
            expanded="1",
        )
    ET.SubElement(tree, "custom-order", enabled="0")
    _view(root, bbox)
    holder = ET.SubElement(root, "projectlayers")
    for layer in layers:
        _maplayer(holder, layer)
    order = ET.SubElement(root, "layerorder")
    for layer in layers:
        ET.SubElement(order, "layer", id=layer.ident)
    # Without this flag QGIS ignores <projectCrs> and leaves the project CRS empty.
    srs = ET.SubElement(ET.SubElement(root, "properties"), "SpatialRefSys")
    ET.SubElement(srs, "ProjectionsEnabled", type="int").text = "1"
    return DOCTYPE + ET.tostring(root, encoding="unicode") + "\n"


async def _families(session: AsyncSession, layer: Layer, flt: LayerFilter) -> list[str]:
    """The geometry families the filtered view holds, in a stable order (the declared one
    when it is empty)."""
    assert layer.geometry is not None  # the catalog keeps spatial views only
    where, params = where_sql(layer, flt)
    geom = f"t.{quote_ident(layer.geometry.name)}"
    sql = f"SELECT DISTINCT GeometryType({geom}) FROM {layer.qualified} t {where}"
    found = {geometry_family(str(v)) for v in (await session.execute(text(sql), params)).scalars()}
    families = [f for f in _FAMILY if f in found]
    return families or [geometry_family(layer.geometry.geometry_type)]


async def _perimeter_bbox(
    session: AsyncSession, slug: str
) -> tuple[float, float, float, float] | None:
    """The concertation's perimeter in Lambert-93, with a 5 % margin."""
    row = (
        await session.execute(
            text(
                "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT"
                " ST_Extent(ST_Transform(geom, 2154)) AS e"
                " FROM public_layers.concertations WHERE slug = :slug) s"
            ),
            {"slug": slug},
        )
    ).first()
    if row is None or row[0] is None:
        return None
    xmin, ymin, xmax, ymax = (float(v) for v in row)
    margin = max(xmax - xmin, ymax - ymin, 200.0) * 0.05
    return (xmin - margin, ymin - margin, xmax + margin, ymax + margin)


async def _vector_layers(
    session: AsyncSession,
    catalog: dict[str, Layer],
    base: str,
    slug: str,
    wanted: tuple[str, str, str],
) -> list[ProjectLayer]:
    """The OAPIF layer(s) of one view for this concertation, one per geometry family."""
    view, column, name = wanted
    layer = catalog.get(view)
    if layer is None or layer.column(column) is None or layer.geometry is None:
        return []
    flt = LayerFilter(equals={column: slug})
    families = await _families(session, layer, flt)
    split = len(families) > 1
    out = []
    for family in families:
        style = await style_for(session, layer, flt, family)
        suffix = f" ({_FAMILY[family][1]})" if split else ""
        out.append(
            ProjectLayer(
                ident=f"{view}_{family}_{slug}".replace("-", "_"),
                name=name + suffix,
                provider="OAPIF",
                source=_oapif_source(base, view, {column: slug}, family if split else None),
                geometry=family,
                style_qml=qml(style),
            )
        )
    return out


async def concertation_project(session: AsyncSession, base_url: str, slug: str) -> str:
    """The project of concertation `slug`, styled like the GeoPackage export."""
    base = base_url.rstrip("/")
    catalog = await load_layers(session)
    contributions = await _vector_layers(
        session, catalog, base, slug, ("contributions", "concertation", "Contributions")
    )
    tiles = ProjectLayer(
        ident=f"tiles_contributions_{slug}".replace("-", "_"),
        name="Contributions (tuiles vectorielles)",
        provider="vectortile",
        source=_tiles_source(base, "contributions", {"concertation": slug}),
        kind="vector-tile",
        crs="EPSG:3857",
        visible=False,  # the same contributions: an alternative for very large ones
    )
    reference = await _vector_layers(
        session, catalog, base, slug, ("reference_features", "concertation", "Couches de référence")
    )
    perimeter = await _vector_layers(
        session, catalog, base, slug, ("concertations", "slug", "Périmètre")
    )
    background = ProjectLayer(
        ident="osm_background",
        name="OpenStreetMap",
        provider="wms",
        source=f"type=xyz&url={quote(OSM_TILES, safe=':/')}&zmax=19&zmin=0",
        kind="raster",
        crs="EPSG:3857",
    )
    layers = [*contributions, tiles, *reference, *perimeter, background]
    bbox = await _perimeter_bbox(session, slug)
    return project_document(f"Concertation {slug}", layers, bbox)


def zipped_project(slug: str, document: str) -> bytes:
    """The .qgz form: a zip holding the .qgs (QGIS's default format since 3.2)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{slug}.qgs", document)
    return buffer.getvalue()
