"""Every OGC items filter checked before tipg makes SQL of it, in one place.

tipg gathers the `filter` (CQL2), `ids` / the item id, `bbox` and `property=value`
into one cql2 expression in `Collection.cql_where`, then inlines it as SQL text. Our
collections override that method, so whatever endpoint reaches it (items, item,
HTML pages) goes through the CQL2 allowlist and the value checks below: a function
outside CQL2, a column the collection does not have, a NaN bbox, an id beyond
bigint or a NUL byte are a clear 4xx, never a SQL statement.
"""

from __future__ import annotations

import math
from typing import Any

from cql2 import Expr
from tipg import errors as tipg_errors
from tipg.collections import Collection, PgCollection

from carto.layers.cql import accenti_as_translate, bbox_as_polygons, check_filter, check_text

INT_TYPES = frozenset({"smallint", "integer", "bigint", "smallserial", "serial", "bigserial"})
BIGINT = 2**63


class GuardedCollection(PgCollection):
    """A `PgCollection` whose WHERE clause is built from checked input only."""

    def cql_where(  # type: ignore[override]
        self,
        ids: list[str] | None = None,
        datetime: list[str] | None = None,
        bbox: list[float] | None = None,
        properties: list[tuple[str, Any]] | None = None,
        cql: Expr | None = None,
        **kwargs: Any,
    ) -> Expr | None:
        if cql is not None:
            tree = cql.to_json()
            check_filter(tree, {c.name for c in self.table_columns})
            cql = Expr(accenti_as_translate(bbox_as_polygons(tree)))
        if ids:
            self._check_ids(ids)
        if bbox is not None and not all(math.isfinite(v) for v in bbox):
            raise tipg_errors.InvalidBBox("bbox : quatre nombres finis attendus.")
        for value in [*(datetime or []), *(v for _, v in properties or [])]:
            if isinstance(value, str):
                check_text(value)
        return super().cql_where(
            ids=ids, datetime=datetime, bbox=bbox, properties=properties, cql=cql, **kwargs
        )

    def _check_ids(self, ids: list[str]) -> None:
        """Ids that cannot exist are a 404 (an integer key is a bigint at most)."""
        column = self.id_column
        for value in ids:
            check_text(value)
            if column is not None and column.type in INT_TYPES:
                try:
                    ok = -BIGINT <= int(value) < BIGINT
                except ValueError:
                    ok = False
                if not ok:
                    raise tipg_errors.NotFound(f"Objet introuvable : {value[:40]}.")


def guarded(collection: Collection) -> GuardedCollection:
    """The same collection (fields unchanged) with the checks above."""
    return GuardedCollection.model_construct(
        _fields_set=collection.model_fields_set, **dict(collection)
    )
