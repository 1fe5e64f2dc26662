"""The public layers, discovered from the database catalog (views of `public_layers`).

The schema is the privacy boundary: a layer is whatever view exists there, with
whatever columns it selects. Nothing here names a layer, so a view a colleague's
migration adds shows up in the OGC API and the exports without code changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

SCHEMA = "public_layers"
GEOMETRY_COLUMN = "geom"
"""The column public outputs map; other geometry columns (e.g. `geom_3857` for tiles) stay
internal."""
DATETIME_PREFERENCE = ("created_at", "updated_at")

_INTEGER = {"smallint", "integer", "bigint"}
_NUMBER = {"numeric", "real", "double precision"}
_DATETIME = {"timestamp with time zone", "timestamp without time zone"}

CATALOG_SQL = text(
    """
    SELECT c.relname AS layer, obj_description(c.oid, 'pg_class') AS description,
           a.attname AS name, format_type(a.atttypid, NULL) AS pg_type,
           CASE WHEN t.typname = 'geometry' AND a.atttypmod > 0
                THEN postgis_typmod_type(a.atttypmod) END AS geometry_type,
           CASE WHEN t.typname = 'geometry' AND a.atttypmod > 0
                THEN postgis_typmod_srid(a.atttypmod) END AS srid
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
    JOIN pg_type t ON t.oid = a.atttypid
    WHERE n.nspname = :schema AND c.relkind IN ('v', 'm', 'r')
    ORDER BY c.relname, a.attnum
    """
)


def quote_ident(name: str) -> str:
    """A PostgreSQL identifier, quoted (names come from the catalog, never from users)."""
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class Column:
    """One column of a public view, with the kind of value it holds."""

    name: str
    pg_type: str
    geometry_type: str | None = None
    srid: int | None = None

    @property
    def kind(self) -> str:
        """geometry, integer, number, boolean, datetime, date, json or text."""
        if self.pg_type in ("geometry", "geography"):
            return "geometry"
        if self.pg_type in _INTEGER:
            return "integer"
        if self.pg_type in _NUMBER:
            return "number"
        if self.pg_type == "boolean":
            return "boolean"
        if self.pg_type in _DATETIME:
            return "datetime"
        if self.pg_type == "date":
            return "date"
        if self.pg_type in ("json", "jsonb") or self.pg_type.endswith("[]"):
            return "json"
        return "text"


@dataclass(frozen=True)
class Layer:
    """A public view: its properties, its geometry, its id and date columns."""

    name: str
    columns: tuple[Column, ...]
    description: str | None = None

    @property
    def qualified(self) -> str:
        return f"{quote_ident(SCHEMA)}.{quote_ident(self.name)}"

    @property
    def title(self) -> str:
        """The first line of the view's comment, else its name."""
        if self.description:
            return self.description.split("\n", 1)[0].strip()
        return self.name

    @property
    def geometry(self) -> Column | None:
        """The mapped geometry: `geom` when present, else the first geometry column."""
        geoms = [c for c in self.columns if c.kind == "geometry"]
        named = [c for c in geoms if c.name == GEOMETRY_COLUMN]
        candidates = named or geoms
        return candidates[0] if candidates else None

    @property
    def properties(self) -> tuple[Column, ...]:
        """Every non-geometry column, in the view's order."""
        return tuple(c for c in self.columns if c.kind != "geometry")

    @property
    def id_column(self) -> Column | None:
        return self.column("id")

    @property
    def datetime_column(self) -> Column | None:
        """The date that `datetime` filters apply to (created_at first)."""
        for name in DATETIME_PREFERENCE:
            col = self.column(name)
            if col is not None and col.kind in ("datetime", "date"):
                return col
        return next((c for c in self.properties if c.kind in ("datetime", "date")), None)

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


def _build(rows: list[Any]) -> dict[str, Layer]:
    grouped: dict[str, list[Column]] = {}
    descriptions: dict[str, str | None] = {}
    for row in rows:
        grouped.setdefault(row.layer, []).append(
            Column(row.name, row.pg_type, row.geometry_type, row.srid)
        )
        descriptions[row.layer] = row.description
    return {
        name: Layer(name, tuple(cols), descriptions[name])
        for name, cols in grouped.items()
        if any(c.kind == "geometry" for c in cols)
    }


async def load_layers(session: AsyncSession | AsyncConnection) -> dict[str, Layer]:
    """Every spatial view of `public_layers`, by name (read on each call: it is cheap)."""
    result = await session.execute(CATALOG_SQL, {"schema": SCHEMA})
    return _build(list(result))
