"""Export filters: the OGC items' filters (bbox, datetime, property=value), as SQL.

Parsed and type-checked in Python first, so that bad input answers a French 422
and never reaches PostgreSQL; the SQL then only carries bound parameters.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from carto.errors import InvalidInput
from carto.geo import LngLatBBox, parse_bbox
from carto.layers.catalog import Column, Layer, quote_ident

RESERVED = frozenset({"bbox", "datetime", "f"})


@dataclass(frozen=True)
class LayerFilter:
    """What to keep of a layer: a bbox, a time interval (inclusive), property values."""

    bbox: LngLatBBox | None = None
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    equals: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        """A short French summary for metadata ("filtre : state=resolved, bbox=...")."""
        parts = [f"{k}={v}" for k, v in self.equals.items()]
        if self.bbox:
            b = self.bbox
            parts.append(f"bbox={b.west},{b.south},{b.east},{b.north}")
        if self.start or self.end:
            start = self.start.isoformat() if self.start else ".."
            end = self.end.isoformat() if self.end else ".."
            parts.append(f"datetime={start}/{end}")
        return ", ".join(parts)


def _instant(value: str, *, end: bool) -> dt.datetime:
    """An RFC 3339 date-time, or a date (a whole day: its end for an interval's end)."""
    try:
        if len(value) == 10:
            day = dt.date.fromisoformat(value)
            moment = dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)
            return moment + dt.timedelta(days=1, microseconds=-1) if end else moment
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(
            f"datetime invalide : « {value[:40]} » n'est pas une date ISO 8601."
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def parse_datetime(value: str) -> tuple[dt.datetime | None, dt.datetime | None]:
    """`instant`, `start/end`, `start/..` or `../end` as an inclusive interval."""
    if "/" not in value:
        return _instant(value, end=False), _instant(value, end=True)
    first, _, second = value.partition("/")
    start = None if first in ("", "..") else _instant(first, end=False)
    end = None if second in ("", "..") else _instant(second, end=True)
    if start is None and end is None:
        raise InvalidInput("datetime invalide : intervalle ouvert des deux côtés.")
    if start and end and start > end:
        raise InvalidInput("datetime invalide : le début est après la fin.")
    return start, end


def _typed(column: Column, value: str) -> Any:
    kind = column.kind
    try:
        if kind == "integer":
            return int(value)
        if kind == "number":
            return float(value)
        if kind == "boolean":
            return {"true": True, "false": False, "1": True, "0": False}[value.lower()]
        if kind in ("datetime", "date"):
            return _instant(value, end=False)
    except (ValueError, KeyError):
        raise InvalidInput(f"Valeur invalide pour {column.name} : « {value[:40]} ».") from None
    if kind == "json":
        raise InvalidInput(f"On ne peut pas filtrer sur {column.name}.")
    return value


def parse_filter(layer: Layer, params: Mapping[str, str]) -> LayerFilter:
    """The filter that query parameters describe for `layer`; unknown names are refused."""
    equals: dict[str, Any] = {}
    for name, value in params.items():
        if name in RESERVED:
            continue
        column = layer.column(name)
        if column is None or column.kind == "geometry":
            allowed = ", ".join(["bbox", "datetime", *(c.name for c in layer.properties)])
            raise InvalidInput(
                f"Filtre inconnu pour la couche {layer.name} : {name[:40]}. Filtres possibles : "
                f"{allowed}."
            )
        equals[name] = _typed(column, value)
    bbox = parse_bbox(params["bbox"], allow_flat=True) if params.get("bbox") else None
    start = end = None
    if params.get("datetime"):
        if layer.datetime_column is None:
            raise InvalidInput(f"La couche {layer.name} n'a pas de date : datetime impossible.")
        start, end = parse_datetime(params["datetime"])
    return LayerFilter(bbox=bbox, start=start, end=end, equals=equals)


def where_sql(layer: Layer, flt: LayerFilter, alias: str = "t") -> tuple[str, dict[str, Any]]:
    """`WHERE ...` (or an empty string) and its bound parameters."""
    clauses: list[str] = []
    params: dict[str, Any] = {}
    for i, (name, value) in enumerate(flt.equals.items()):
        clauses.append(f"{alias}.{quote_ident(name)} = :eq{i}")
        params[f"eq{i}"] = value
    geom = layer.geometry
    if flt.bbox and geom is not None:
        g = f"{alias}.{quote_ident(geom.name)}"
        clauses.append(f"ST_Intersects({g}, ST_MakeEnvelope(:west, :south, :east, :north, 4326))")
        b = flt.bbox
        params |= {"west": b.west, "south": b.south, "east": b.east, "north": b.north}
    date = layer.datetime_column
    if date is not None and flt.start is not None:
        clauses.append(f"{alias}.{quote_ident(date.name)} >= :start")
        params["start"] = flt.start
    if date is not None and flt.end is not None:
        clauses.append(f"{alias}.{quote_ident(date.name)} <= :end")
        params["end"] = flt.end
    return ("WHERE " + " AND ".join(clauses)) if clauses else "", params
