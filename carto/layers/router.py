"""`/exports`: public layers as GeoJSON, CSV, GeoPackage, FlatGeobuf; QGIS projects.

Same layer names as the OGC collections, same filters as the OGC items (any property
`name=value`, `bbox`, `datetime`). Thin: the work is in `service`, `exports`, `gpkg`.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response, StreamingResponse
from starlette.background import BackgroundTask

from carto.deps import PublicSessionDep
from carto.layers import qgis_project, service
from carto.layers.filters import LayerFilter
from carto.layers.gpkg import ExportPart

router = APIRouter(tags=["exports"])


def _params(request: Request) -> dict[str, str]:
    return dict(request.query_params)


def _attachment(filename: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{filename}"'}


async def _file_response(
    session: PublicSessionDep, parts: list[ExportPart], fmt: service.Format, filename: str
) -> FileResponse:
    """Write the file in a temp dir, stream it, then remove the dir."""
    workdir = Path(tempfile.mkdtemp(prefix="carto-export-"))
    target = workdir / filename
    try:
        await service.write_file(session, parts, fmt, target)
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    return FileResponse(
        target,
        media_type=fmt.media_type,
        filename=filename,
        background=BackgroundTask(shutil.rmtree, workdir, ignore_errors=True),
    )


@router.get("/concertations/{slug}.qgs", response_class=Response)
async def concertation_project(slug: str, request: Request, session: PublicSessionDep) -> Response:
    """A QGIS project showing the concertation live (OGC API and vector tiles)."""
    await service.concertation_exists(session, slug)
    body = await qgis_project.concertation_project(session, str(request.base_url), slug)
    headers = _attachment(f"{slug}.qgs")
    return Response(body, media_type="application/x-qgis-project", headers=headers)


@router.get("/concertations/{slug}.qgz", response_class=Response)
async def concertation_project_zipped(
    slug: str, request: Request, session: PublicSessionDep
) -> Response:
    """The same project, zipped as QGIS saves by default."""
    await service.concertation_exists(session, slug)
    body = await qgis_project.concertation_project(session, str(request.base_url), slug)
    headers = _attachment(f"{slug}.qgz")
    return Response(
        qgis_project.zipped_project(slug, body), media_type="application/zip", headers=headers
    )


@router.get("/concertations/{slug}.gpkg", response_class=FileResponse)
async def concertation_geopackage(slug: str, session: PublicSessionDep) -> FileResponse:
    """The concertation's contributions, perimeter and reference layers, styled for QGIS."""
    await service.concertation_exists(session, slug)
    layer, flt, catalog = await service.resolve(session, "contributions", {"concertation": slug})
    parts = service.bundle(layer, flt, catalog)
    filename = f"concertation-{slug}.gpkg"
    return await _file_response(session, parts, service.FORMATS["gpkg"], filename)


@router.get("/{layer}.{extension}", response_class=Response)
async def export_layer(
    layer: str, extension: str, request: Request, session: PublicSessionDep
) -> Response:
    """One public layer (with its related layers in a GeoPackage), filtered like OGC items."""
    fmt = service.export_format(extension)
    found, flt, catalog = await service.resolve(session, layer, _params(request))
    filename = f"{found.name}.{fmt.extension}"
    if fmt.streamer is not None:
        return StreamingResponse(
            fmt.streamer(session, found, flt),
            media_type=fmt.media_type,
            headers=_attachment(filename),
        )
    parts = (
        service.bundle(found, flt, catalog)
        if fmt.extension == "gpkg"
        else [ExportPart(found, flt or LayerFilter(), found.name)]
    )
    return await _file_response(session, parts, fmt, filename)
