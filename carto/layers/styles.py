"""QGIS styles (QML) for the exported layers: categorized colours, labels.

Written into the GeoPackage's `layer_styles` table (QGIS's own convention), so QGIS
opens the file styled. The QML uses the `<prop k= v=>` symbol-layer form that every
QGIS 3 release reads.
"""

from __future__ import annotations

import colorsys
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

QGIS_VERSION = "3.22.16-Białowieża"
DEFAULT_COLOR = "#3b6fb6"
_LAYER = {"enabled": "1", "locked": "0", "pass": "0"}


@dataclass(frozen=True)
class Category:
    """One class of a categorized renderer: the attribute value, its legend label, colour."""

    value: str
    label: str
    color: str


@dataclass(frozen=True)
class LayerStyle:
    """What QGIS should draw for one layer."""

    geometry: str  # "point", "line", "polygon" or "unknown"
    attribute: str | None = None
    categories: tuple[Category, ...] = field(default_factory=tuple)
    label_field: str | None = None
    label_max_scale: int = 25000
    color: str = DEFAULT_COLOR
    fill_opacity: float = 0.35
    name: str = "carto"


def palette(index: int) -> str:
    """A distinct, readable colour for the n-th category (golden-angle hues)."""
    hue = (index * 0.381966) % 1.0
    r, g, b = colorsys.hls_to_rgb(hue, 0.45, 0.65)
    return f"#{int(r * 255):02x}{int(g * 255):02x}{int(b * 255):02x}"


def _rgba(color: str, alpha: float = 1.0) -> str:
    """'#rrggbb' -> 'r,g,b,a' as QGIS writes colours (a fallback for anything unreadable)."""
    value = color.lstrip("#")
    if len(value) != 6:
        value = DEFAULT_COLOR.lstrip("#")
    try:
        r, g, b = (int(value[i : i + 2], 16) for i in (0, 2, 4))
    except ValueError:
        r, g, b = 59, 111, 182
    return f"{r},{g},{b},{round(alpha * 255)}"


def _props(parent: ET.Element, values: dict[str, str]) -> None:
    for key, value in values.items():
        ET.SubElement(parent, "prop", k=key, v=value)


def _symbol(parent: ET.Element, name: str, geometry: str, color: str, opacity: float) -> None:
    kind = {"point": "marker", "line": "line"}.get(geometry, "fill")
    symbol = ET.SubElement(
        parent, "symbol", type=kind, name=name, alpha="1", clip_to_extent="1", force_rhr="0"
    )
    if kind == "marker":
        layer = ET.SubElement(symbol, "layer", _LAYER | {"class": "SimpleMarker"})
        _props(
            layer,
            {
                "name": "circle",
                "color": _rgba(color),
                "outline_color": "255,255,255,255",
                "outline_width": "0.3",
                "outline_width_unit": "MM",
                "size": "2.8",
                "size_unit": "MM",
            },
        )
    elif kind == "line":
        layer = ET.SubElement(symbol, "layer", _LAYER | {"class": "SimpleLine"})
        _props(layer, {"line_color": _rgba(color), "line_width": "0.6", "line_width_unit": "MM"})
    else:
        layer = ET.SubElement(symbol, "layer", _LAYER | {"class": "SimpleFill"})
        _props(
            layer,
            {
                "color": _rgba(color, opacity),
                "style": "solid",
                "outline_color": _rgba(color),
                "outline_style": "solid",
                "outline_width": "0.4",
                "outline_width_unit": "MM",
            },
        )


def symbol_element(parent: ET.Element, name: str, geometry: str, color: str) -> None:
    """One symbol (marker, line or fill by geometry family), for renderers built elsewhere
    (the vector tile layer of the QGIS project)."""
    _symbol(parent, name, geometry, color, LayerStyle(geometry).fill_opacity)


def _renderer(root: ET.Element, style: LayerStyle) -> None:
    common = {"forceraster": "0", "symbollevels": "0", "enableorderby": "0"}
    if style.attribute and style.categories:
        renderer = ET.SubElement(
            root, "renderer-v2", common, type="categorizedSymbol", attr=style.attribute
        )
        categories = ET.SubElement(renderer, "categories")
        symbols = ET.SubElement(renderer, "symbols")
        for i, cat in enumerate(style.categories):
            attrs = {"render": "true", "symbol": str(i), "value": cat.value, "label": cat.label}
            ET.SubElement(categories, "category", attrs)
            _symbol(symbols, str(i), style.geometry, cat.color, style.fill_opacity)
        source = ET.SubElement(renderer, "source-symbol")
        _symbol(source, "0", style.geometry, style.color, style.fill_opacity)
        return
    renderer = ET.SubElement(root, "renderer-v2", common, type="singleSymbol")
    symbols = ET.SubElement(renderer, "symbols")
    _symbol(symbols, "0", style.geometry, style.color, style.fill_opacity)


def _labeling(root: ET.Element, style: LayerStyle) -> None:
    if not style.label_field:
        return
    labeling = ET.SubElement(root, "labeling", type="simple")
    settings = ET.SubElement(labeling, "settings", calloutType="simple")
    text_style = ET.SubElement(
        settings,
        "text-style",
        fieldName=style.label_field,
        isExpression="0",
        fontSize="9",
        fontSizeUnit="Point",
        textColor="40,40,40,255",
        textOpacity="1",
    )
    ET.SubElement(
        text_style,
        "text-buffer",
        bufferDraw="1",
        bufferSize="0.8",
        bufferSizeUnits="MM",
        bufferColor="255,255,255,255",
        bufferOpacity="0.8",
    )
    # QGIS writes the most zoomed-in scale as scaleMin and the most zoomed-out as scaleMax.
    placement = {"point": "6", "line": "2"}.get(style.geometry, "1")
    ET.SubElement(settings, "placement", placement=placement, dist="1.5", distUnits="MM")
    ET.SubElement(
        settings,
        "rendering",
        scaleVisibility="1",
        scaleMin="0",
        scaleMax=str(style.label_max_scale),
        obstacle="1",
        displayAll="0",
    )


def qml(style: LayerStyle) -> str:
    """The QML document QGIS loads for a layer."""
    root = ET.Element(
        "qgis",
        version=QGIS_VERSION,
        styleCategories="Symbology|Labeling",
        labelsEnabled="1" if style.label_field else "0",
    )
    _renderer(root, style)
    _labeling(root, style)
    geometry_type = {"point": "0", "line": "1", "polygon": "2"}.get(style.geometry, "3")
    ET.SubElement(root, "layerGeometryType").text = geometry_type
    body = ET.tostring(root, encoding="unicode")
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + body + "\n"


def geometry_family(geometry_type: str | None) -> str:
    """point / line / polygon / unknown, from an OGC geometry type name."""
    name = (geometry_type or "").upper()
    if "POINT" in name:
        return "point"
    if "LINE" in name:
        return "line"
    if "POLYGON" in name:
        return "polygon"
    return "unknown"
