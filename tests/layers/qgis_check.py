"""What QGIS itself makes of our exports: run by tests/layers/test_qgis.py with Debian's
python3 (PyQGIS lives there, not in the venv), offscreen.

    python3 qgis_check.py OUT_DIR FILE...   (.qgs, .qgz or .gpkg)

Prints one JSON object per file: the project CRS, the default view extent and, per layer,
validity, CRS, feature count, renderer and symbol types, visibility, and how many pixels
differ from the white background when the layer alone is rendered on the project's
extent (PNGs are written to OUT_DIR).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from qgis.core import (  # type: ignore[import-not-found]
    QgsApplication,
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsMapLayer,
    QgsMapRendererSequentialJob,
    QgsMapSettings,
    QgsProject,
    QgsRectangle,
    QgsRenderContext,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QSize  # type: ignore[import-not-found]
from qgis.PyQt.QtGui import QColor  # type: ignore[import-not-found]

SIZE = 300


def render(layers: list, crs, extent, path: Path) -> int:
    """Render `layers` and count the non-white pixels."""
    settings = QgsMapSettings()
    settings.setLayers(layers)
    settings.setDestinationCrs(crs)
    settings.setExtent(extent)
    settings.setOutputSize(QSize(SIZE, SIZE))
    settings.setBackgroundColor(QColor(255, 255, 255))
    job = QgsMapRendererSequentialJob(settings)
    job.start()
    job.waitForFinished()
    image = job.renderedImage()
    image.save(str(path))
    white = QColor(255, 255, 255).rgb()
    return sum(
        1 for x in range(0, SIZE, 2) for y in range(0, SIZE, 2) if image.pixel(x, y) != white
    )


def symbols(layer) -> list[str]:
    renderer = layer.renderer()
    if renderer is None or not hasattr(renderer, "symbols"):
        return []
    kinds = {0: "marker", 1: "line", 2: "fill"}
    return sorted({kinds.get(s.type(), "?") for s in renderer.symbols(QgsRenderContext())})


def describe(layer, crs, extent, out: Path, visible: bool) -> dict:
    info = {
        "name": layer.name(),
        "valid": layer.isValid(),
        "crs": layer.crs().authid(),
        "crs_valid": layer.crs().isValid(),
        "provider": layer.providerType(),
        "visible": visible,
    }
    if isinstance(layer, QgsVectorLayer):
        info["count"] = sum(1 for _ in layer.getFeatures())  # counts what a subset keeps
        info["renderer"] = layer.renderer().type() if layer.renderer() else None
        info["symbols"] = symbols(layer)
    elif layer.type() == QgsMapLayer.VectorTileLayer:
        renderer = layer.renderer()
        info["renderer"] = renderer.type() if renderer else None
    if crs is not None and extent is not None:
        safe = "".join(c if c.isalnum() else "_" for c in layer.name())
        info["pixels"] = render([layer], crs, extent, out / f"{safe}.png")
    return info


def check_project(path: Path, out: Path) -> dict:
    project = QgsProject.instance()
    project.clear()
    assert project.read(str(path)), f"QGIS could not read {path}"
    crs = project.crs()
    view = project.viewSettings().defaultViewExtent()
    extent = QgsRectangle(view) if not view.isEmpty() else None
    root = project.layerTreeRoot()
    order = [node.layer() for node in root.findLayers()]
    layers = [
        describe(lyr, crs, extent, out, root.findLayer(lyr.id()).isVisible()) for lyr in order
    ]
    result = {
        "crs": crs.authid(),
        "crs_valid": crs.isValid(),
        "extent": [extent.xMinimum(), extent.yMinimum(), extent.xMaximum(), extent.yMaximum()]
        if extent
        else None,
        "layers": layers,
    }
    if extent is not None:
        shown = [lyr for lyr in order if root.findLayer(lyr.id()).isVisible()]
        result["pixels"] = render(shown, crs, extent, out / f"{path.stem}-project.png")
    return result


def check_geopackage(path: Path, out: Path) -> dict:
    probe = QgsVectorLayer(str(path), "probe", "ogr")
    # One sublayer per geometry type of a table: each table once.
    names = list(dict.fromkeys(s.split("!!::!!")[1] for s in probe.dataProvider().subLayers()))
    crs = QgsCoordinateReferenceSystem("EPSG:2154")
    layers = []
    for name in names:
        if name == "layer_styles":
            continue
        layer = QgsVectorLayer(f"{path}|layername={name}", name, "ogr")
        layer.loadDefaultStyle()  # the layer_styles row, as QGIS does on opening
        to_project = QgsCoordinateTransform(layer.crs(), crs, QgsProject.instance())
        box = to_project.transformBoundingBox(layer.extent())
        box.scale(1.1)
        layers.append(describe(layer, crs, box, out, True))
    return {"layers": layers}


def main() -> None:
    out = Path(sys.argv[1])
    app = QgsApplication([], False)
    app.initQgis()
    report = {}
    for name in sys.argv[2:]:
        path = Path(name)
        check = check_geopackage if path.suffix == ".gpkg" else check_project
        report[path.name] = check(path, out)
    print(json.dumps(report))
    QgsProject.instance().clear()
    app.exitQgis()


if __name__ == "__main__":
    main()
