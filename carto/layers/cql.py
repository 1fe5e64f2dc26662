"""The CQL2 allowlist of the OGC API `filter`: what a caller may ask PostgreSQL to evaluate.

cql2 turns any operator it does not know into a SQL function call of that name
(`query_to_xml(...)`, `pg_read_file(...)`, `pg_sleep(...)`), so a filter is checked
on its parsed tree (cql2-json, whatever the `filter-lang`) before any SQL is made:
every operator must be a CQL2 one, every property a column of the collection, every
literal a finite number, a boolean or a text without NUL. Anything else is refused
with a French message that names what was refused.
"""

from __future__ import annotations

import math
from collections.abc import Collection as Names
from typing import Any

COMPARISON = frozenset({"=", "<>", "<", "<=", ">", ">=", "like", "between", "in", "isnull"})
LOGICAL = frozenset({"and", "or", "not"})
FUNCTIONS = frozenset({"casei", "accenti"})  # the CQL2 standard functions
ARITHMETIC = frozenset({"+", "-", "*", "/", "%", "^", "div"})
SPATIAL = frozenset(
    {f"s_{p}" for p in ("intersects", "equals", "disjoint", "touches", "within")}
    | {f"s_{p}" for p in ("overlaps", "crosses", "contains")}
)
TEMPORAL = frozenset(
    f"t_{p}"
    for p in (
        "after", "before", "contains", "disjoint", "during", "equals", "finishedby",
        "finishes", "intersects", "meets", "metby", "overlappedby", "overlaps",
        "startedby", "starts",
    )
)  # fmt: skip
ARRAY = frozenset({"a_equals", "a_contains", "a_containedby", "a_overlaps"})
ALLOWED_OPS = COMPARISON | LOGICAL | FUNCTIONS | ARITHMETIC | SPATIAL | TEMPORAL | ARRAY

GEOMETRY_TYPES = frozenset(
    {"Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"}
    | {"GeometryCollection"}
)
MAX_DEPTH = 40  # a deeper tree is no honest filter, and the walk stays bounded
MAX_NODES = 2000


class UnsupportedFilter(ValueError):
    """A CQL2 filter that names something outside the allowlist (answered 400)."""


def check_filter(tree: Any, columns: Names[str]) -> None:
    """Raise `UnsupportedFilter` unless `tree` (cql2-json) uses only allowed parts."""
    _Walker(columns).walk(tree, 0)


class _Walker:
    def __init__(self, columns: Names[str]) -> None:
        self.columns = columns
        self.nodes = 0

    def walk(self, node: Any, depth: int) -> None:  # noqa: C901 - one branch per node kind
        self.nodes += 1
        if depth > MAX_DEPTH or self.nodes > MAX_NODES:
            raise UnsupportedFilter("Filtre trop complexe.")
        if node is None or isinstance(node, bool):
            return
        if isinstance(node, int | float):
            if not math.isfinite(node):
                raise UnsupportedFilter("Nombre invalide dans le filtre (infini ou NaN).")
            return
        if isinstance(node, str):
            check_text(node)
            return
        if isinstance(node, list):
            for item in node:
                self.walk(item, depth + 1)
            return
        if not isinstance(node, dict):
            raise UnsupportedFilter("Élément de filtre non pris en charge.")
        keys = set(node)
        if keys == {"property"}:
            self.property(node["property"])
        elif keys <= {"op", "args"} and "op" in keys:
            self.operation(node["op"], node.get("args", []), depth)
        elif keys in ({"date"}, {"timestamp"}, {"interval"}, {"bbox"}):
            self.walk(next(iter(node.values())), depth + 1)
        elif node.get("type") in GEOMETRY_TYPES and keys <= {"type", "coordinates", "geometries"}:
            self.walk(node.get("coordinates", node.get("geometries")), depth + 1)
        else:
            shown = ", ".join(sorted(str(k)[:30] for k in keys)[:5])
            raise UnsupportedFilter(f"Élément de filtre non pris en charge : {shown}.")

    def property(self, name: Any) -> None:
        if not isinstance(name, str) or name not in self.columns:
            shown = str(name)[:60]
            raise UnsupportedFilter(
                f"Propriété inconnue dans le filtre : {shown}. "
                f"Propriétés possibles : {', '.join(sorted(self.columns))}."
            )

    def operation(self, op: Any, args: Any, depth: int) -> None:
        if not isinstance(op, str) or op.lower() not in ALLOWED_OPS:
            shown = str(op)[:60]
            raise UnsupportedFilter(
                f"Fonction non prise en charge dans le filtre : {shown}. Le filtre accepte "
                "les comparaisons, LIKE, IN, BETWEEN, IS NULL, les prédicats spatiaux (S_*), "
                "temporels (T_*) et de tableaux (A_*), CASEI et ACCENTI."
            )
        if not isinstance(args, list):
            raise UnsupportedFilter(f"Arguments invalides pour {op}.")
        self.walk(args, depth + 1)


def check_text(value: str) -> None:
    """PostgreSQL text cannot hold NUL: refuse it here rather than fail in the driver."""
    if "\x00" in value:
        raise UnsupportedFilter("Caractère nul interdit dans une valeur.")


def bbox_as_polygons(node: Any) -> Any:
    """`BBOX(w, s, e, n)` literals as GeoJSON polygons: cql2 renders a BBOX as an SRID-0
    `ST_MakeEnvelope`, which PostGIS refuses to compare with a 4326 column (a 500 for a
    valid filter); a GeoJSON polygon is read as 4326 (CRS84, as OGC API Part 3 says)."""
    if isinstance(node, list):
        return [bbox_as_polygons(item) for item in node]
    if not isinstance(node, dict):
        return node
    box = node.get("bbox")
    if set(node) == {"bbox"} and isinstance(box, list) and len(box) in (4, 6):
        west, south, east, north = (box[0], box[1], box[3], box[4]) if len(box) == 6 else box
        ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
        return {"type": "Polygon", "coordinates": [ring]}
    return {key: bbox_as_polygons(value) for key, value in node.items()}


_ACCENTED = "àáâãäåçèéêëìíîïñòóôõöùúûüýÿÀÁÂÃÄÅÇÈÉÊËÌÍÎÏÑÒÓÔÕÖÙÚÛÜÝ"
_PLAIN = "aaaaaaceeeeiiiinooooouuuuyyAAAAAACEEEEIIIINOOOOOUUUUY"


def accenti_as_translate(node: Any) -> Any:
    """ACCENTI(x) as PostgreSQL's built-in `translate(x, 'é…', 'e…')`: cql2 renders it as
    `strip_accents(x)`, a function PostgreSQL does not have. Applied after the check, so
    `translate` is only ever ours."""
    if isinstance(node, list):
        return [accenti_as_translate(item) for item in node]
    if not isinstance(node, dict):
        return node
    if str(node.get("op", "")).lower() == "accenti" and len(node.get("args", [])) == 1:
        return {
            "op": "translate",
            "args": [accenti_as_translate(node["args"][0]), _ACCENTED, _PLAIN],
        }
    return {key: accenti_as_translate(value) for key, value in node.items()}
