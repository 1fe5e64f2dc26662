"""Reference and constraint layers: import from GeoJSON/GeoPackage/Shapefile, list, read.

Files go through the shared reader (`carto.vector_files`), so any CRS is reprojected
to EPSG:4326; invalid geometries are repaired and empty ones dropped. Re-importing a
layer with the same slug replaces its features (an updated tree inventory, say).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import shapely
from pydantic import Field, model_validator
from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from carto.accounts.deps import Principal
from carto.concertations.models import ReferenceFeature, ReferenceLayer
from carto.concertations.schemas import SLUG, Input
from carto.concertations.service import _layers, is_organiser_admin, load_concertation
from carto.errors import Forbidden, ImportFailed, InvalidInput, NotFound
from carto.geo import slugify
from carto.vector_files import read_vector_file

MAX_FEATURES = 200_000
INSERT_BATCH = 2000


class ReferenceLayerInput(Input):
    """How an uploaded layer is shown and, for a constraint layer, what it checks."""

    title: str = Field(min_length=2, max_length=200)
    slug: str | None = Field(default=None, max_length=80, pattern=SLUG)
    description: str = Field(default="", max_length=5000)
    role: Literal["reference", "constraint"] = "reference"
    rule: Literal["no_overlap", "min_distance", "inside"] | None = None
    distance_m: float | None = Field(default=None, gt=0, le=10_000)
    action: Literal["reject", "flag"] = "reject"
    message: str = Field(default="", max_length=500)
    color: str = Field(default="#666666", pattern=r"^#[0-9a-fA-F]{6}$")

    @model_validator(mode="after")
    def _rule_fits_role(self) -> ReferenceLayerInput:
        if self.role == "constraint" and self.rule is None:
            raise ValueError("une couche de contrainte a besoin d'une règle")
        if self.rule == "min_distance" and self.distance_m is None:
            raise ValueError("la règle min_distance a besoin de distance_m")
        return self


@dataclass
class LayerImport:
    layer_id: int
    slug: str
    features: int
    repaired: int
    skipped: int


def _lon_lat(geom: Any) -> bool:
    """Inside the lon/lat range (a file in an undeclared projected CRS is not)."""
    west, south, east, north = geom.bounds
    return -180 <= west <= east <= 180 and -90 <= south <= north <= 90


def feature_rows(frame: gpd.GeoDataFrame) -> tuple[list[dict[str, Any]], int, int]:
    """JSON-safe properties and 2D WKB per feature; and how many were repaired or skipped."""
    if len(frame) > MAX_FEATURES:
        raise ImportFailed(f"trop d'entités ({len(frame)}) ; au plus {MAX_FEATURES}.")
    geoms = shapely.force_2d(frame.geometry.values)
    invalid = ~shapely.is_valid(geoms) & ~shapely.is_missing(geoms)
    if invalid.any():
        geoms[invalid] = shapely.make_valid(geoms[invalid])
    attributes = frame.drop(columns=frame.geometry.name)
    records = json.loads(
        attributes.to_json(orient="records", date_format="iso", default_handler=str)
    )
    rows, skipped = [], 0
    for geom, props in zip(geoms, records, strict=True):
        if geom is None or geom.is_empty or not _lon_lat(geom):
            skipped += 1
            continue
        # PostgreSQL's jsonb refuses NUL characters, which some files carry in attributes.
        properties = json.dumps(props, ensure_ascii=False).replace("\\u0000", "")
        rows.append({"p": properties, "g": shapely.to_wkb(geom)})
    return rows, int(invalid.sum()), skipped


async def _upsert_layer(
    session: AsyncSession, concertation_id: int, meta: ReferenceLayerInput, source: str
) -> ReferenceLayer:
    slug = meta.slug or slugify(meta.title)[:80] or "couche"
    layer = await session.scalar(
        select(ReferenceLayer).where(
            ReferenceLayer.concertation_id == concertation_id, ReferenceLayer.slug == slug
        )
    )
    if layer is None:
        layer = ReferenceLayer(concertation_id=concertation_id, slug=slug)
        session.add(layer)
    fields = meta.model_dump(exclude={"slug"})
    for name, value in fields.items():
        setattr(layer, name, value)
    layer.source = "".join(ch for ch in source if ch.isprintable())[:300]
    await session.flush()
    await session.execute(delete(ReferenceFeature).where(ReferenceFeature.layer_id == layer.id))
    return layer


async def check_can_attach(*, session: AsyncSession, ref: int | str, principal: Principal) -> None:
    """Forbidden unless the caller administers an organiser (checked before reading a file)."""
    c = await load_concertation(session=session, ref=ref)
    if not is_organiser_admin(principal, c):
        raise Forbidden("Seuls les administrateurs des collectivités organisatrices le peuvent.")


async def import_reference_layer(
    *, session: AsyncSession, ref: int | str, path: Path, meta: ReferenceLayerInput,
    principal: Principal | None, source: str | None = None,
) -> LayerImport:  # fmt: skip
    """Read `path` and attach it to the concertation (principal None: trusted CLI caller)."""
    c = await load_concertation(session=session, ref=ref)
    if principal is not None and not is_organiser_admin(principal, c):
        raise Forbidden("Seuls les administrateurs des collectivités organisatrices le peuvent.")
    try:
        frame = await asyncio.to_thread(read_vector_file, path)
        rows, repaired, skipped = await asyncio.to_thread(feature_rows, frame)
    except ImportFailed as exc:
        raise InvalidInput(f"Import impossible : {exc.message}") from exc
    if not rows:
        raise InvalidInput("Le fichier ne contient aucune géométrie utilisable.")
    layer = await _upsert_layer(session, c.id, meta, source or path.name)
    insert = text(
        "INSERT INTO reference_feature (layer_id, properties, geom) "
        "VALUES (:l, CAST(:p AS jsonb), ST_SetSRID(ST_GeomFromWKB(:g), 4326))"
    )
    for start in range(0, len(rows), INSERT_BATCH):
        batch = [{"l": layer.id, **row} for row in rows[start : start + INSERT_BATCH]]
        await session.execute(insert, batch)
    await session.commit()
    return LayerImport(layer.id, layer.slug, len(rows), repaired, skipped)


async def list_layers(*, session: AsyncSession, ref: int | str) -> list[dict[str, Any]]:
    c = await load_concertation(session=session, ref=ref)
    return [layer.model_dump() for layer in await _layers(session, c.id)]


async def layer_features(
    *, session: AsyncSession, layer_id: int, bbox: tuple[float, float, float, float] | None,
    limit: int,
) -> dict[str, Any]:  # fmt: skip
    """A layer's features as a GeoJSON FeatureCollection, optionally within a lon/lat bbox."""
    layer = await session.get(ReferenceLayer, layer_id) if 0 < layer_id < 2**31 else None
    if layer is None:
        raise NotFound("Couche introuvable.")
    query = select(
        ReferenceFeature.id,
        ReferenceFeature.properties,
        func.ST_AsGeoJSON(ReferenceFeature.geom, 7).label("geometry"),
    ).where(ReferenceFeature.layer_id == layer_id)
    if bbox is not None:
        query = query.where(ReferenceFeature.geom.op("&&")(func.ST_MakeEnvelope(*bbox, 4326)))
    rows = await session.execute(query.order_by(ReferenceFeature.id).limit(limit))
    features = [
        {
            "type": "Feature",
            "id": r.id,
            "geometry": json.loads(r.geometry),
            "properties": r.properties,
        }
        for r in rows
    ]
    return {
        "type": "FeatureCollection",
        "layer": {
            "id": layer.id,
            "slug": layer.slug,
            "title": layer.title,
            "role": layer.role,
            "color": layer.color,
        },  # fmt: skip
        "features": features,
    }
