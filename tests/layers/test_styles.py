"""QML styles and QGIS project documents (pure XML, no database)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from carto.layers.qgis_project import ProjectLayer, project_document
from carto.layers.styles import Category, LayerStyle, geometry_family, palette, qml


def parse(document: str) -> ET.Element:
    assert document.startswith("<!DOCTYPE qgis")
    return ET.fromstring(document.split("\n", 1)[1])  # noqa: S314 - our own output


def test_categorized_points_with_theme_colours_and_labels() -> None:
    style = LayerStyle(
        geometry="point",
        attribute="theme",
        categories=(
            Category("mobilite", "Mobilité & vélo", "#e31a1c"),
            Category("nature", "Nature <en> ville", "#33a02c"),
        ),
        label_field="title",
    )
    root = parse(qml(style))
    renderer = root.find("renderer-v2")
    assert renderer is not None and renderer.get("type") == "categorizedSymbol"
    assert renderer.get("attr") == "theme"
    cats = renderer.findall("categories/category")
    assert [(c.get("value"), c.get("label")) for c in cats] == [
        ("mobilite", "Mobilité & vélo"),
        ("nature", "Nature <en> ville"),  # escaped by the XML writer, read back intact
    ]
    symbols = renderer.findall("symbols/symbol")
    assert [s.get("type") for s in symbols] == ["marker", "marker"]
    colours = [s.find("layer/prop[@k='color']").get("v") for s in symbols]  # type: ignore[union-attr]
    assert colours == ["227,26,28,255", "51,160,44,255"]
    assert root.get("labelsEnabled") == "1"
    assert root.find("labeling/settings/text-style").get("fieldName") == "title"  # type: ignore[union-attr]
    assert root.findtext("layerGeometryType") == "0"


def test_single_symbol_polygon_without_labels() -> None:
    root = parse(qml(LayerStyle(geometry="polygon", color="#123456", fill_opacity=0.5)))
    layer = root.find("renderer-v2/symbols/symbol/layer")
    assert layer is not None and layer.get("class") == "SimpleFill"
    props = {p.get("k"): p.get("v") for p in layer.findall("prop")}
    assert props["color"] == "18,52,86,128" and props["outline_color"] == "18,52,86,255"
    assert root.find("labeling") is None and root.get("labelsEnabled") == "0"


def test_bad_colour_falls_back_and_palette_is_distinct() -> None:
    root = parse(qml(LayerStyle(geometry="line", color="rouge")))
    line = root.find("renderer-v2/symbols/symbol/layer")
    assert line is not None and line.get("class") == "SimpleLine"
    assert {p.get("k"): p.get("v") for p in line.findall("prop")}["line_color"] == "59,111,182,255"
    assert len({palette(i) for i in range(12)}) == 12


@pytest.mark.parametrize(
    ("name", "family"),
    [("MULTIPOLYGON", "polygon"), ("Point", "point"), ("LineString", "line"), (None, "unknown")],
)
def test_geometry_family(name: str | None, family: str) -> None:
    assert geometry_family(name) == family


def test_project_document_lists_layers_in_tree_and_map() -> None:
    style = qml(LayerStyle(geometry="point", label_field="title"))
    layers = [
        ProjectLayer(
            "a",
            "Contributions",
            "OAPIF",
            "url='http://h/ogc?x=1' typename='c'",
            geometry="point",
            style_qml=style,
        ),
        ProjectLayer(
            "t", "Tuiles", "xyzvectortiles", "type=xyz&url=http://h/t", kind="vector-tile"
        ),
    ]
    root = parse(project_document("Concertation test", layers))
    assert [n.get("id") for n in root.findall("layer-tree-group/layer-tree-layer")] == ["a", "t"]
    maps = root.findall("projectlayers/maplayer")
    assert [m.get("type") for m in maps] == ["vector", "vector-tile"]
    assert maps[0].findtext("provider") == "OAPIF" and maps[0].get("labelsEnabled") == "1"
    assert maps[0].find("renderer-v2") is not None and maps[0].get("geometry") == "Point"
    assert root.findtext("projectCrs/spatialrefsys/authid") == "EPSG:2154"
    assert root.findtext("projectCrs/spatialrefsys/srsid") == "145"  # what QGIS reads first
