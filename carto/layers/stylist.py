"""Which style a public layer gets, decided by the columns it has (no layer names in code).

Rules, first match wins (a registry of data, like the exporters):
a `theme` column -> colours per theme (the concertation's own `theme_color`), labels on
`title`; `service_code` -> colours per category; `layer` + `layer_color` (reference
features) -> colours per reference layer; otherwise a single symbol labelled by `nom`
or `title`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from carto.layers.catalog import Layer, quote_ident
from carto.layers.filters import LayerFilter, where_sql
from carto.layers.styles import Category, LayerStyle, palette

MAX_CATEGORIES = 60


@dataclass(frozen=True)
class Rule:
    """Categorize on `attribute`, legend from `label`, colour from `color` (when present)."""

    attribute: str
    label: str | None
    color: str | None
    label_field: str | None
    label_max_scale: int


RULES = (
    Rule("theme", "theme_label", "theme_color", "title", 10000),
    Rule("service_code", "category", None, None, 5000),
    Rule("layer", "layer_title", "layer_color", None, 10000),
)
LABEL_FIELDS = ("nom", "title")


def _rule(layer: Layer) -> Rule | None:
    return next((r for r in RULES if layer.column(r.attribute) is not None), None)


async def _categories(
    session: AsyncSession, layer: Layer, flt: LayerFilter, rule: Rule
) -> tuple[Category, ...]:
    """The attribute's values in the exported rows, with their label and colour."""
    label = rule.label if rule.label and layer.column(rule.label) else rule.attribute
    color = rule.color if rule.color and layer.column(rule.color) else None
    where, params = where_sql(layer, flt)
    cols = [quote_ident(rule.attribute), quote_ident(label)]
    if color:
        cols.append(quote_ident(color))
    select = ", ".join(f"t.{c}::text" for c in cols)
    sql = (
        f"SELECT DISTINCT ON (1) {select} FROM {layer.qualified} t {where} "
        f"ORDER BY 1 LIMIT {MAX_CATEGORIES}"
    )
    rows = (await session.execute(text(sql), params)).all()
    return tuple(
        Category(
            value=row[0] or "",
            label=row[1] or row[0] or "(vide)",
            color=(row[2] if color and row[2] else palette(i)),
        )
        for i, row in enumerate(rows)
    )


async def style_for(
    session: AsyncSession, layer: Layer, flt: LayerFilter, geometry: str
) -> LayerStyle:
    """The QGIS style of `layer` as exported with `flt`."""
    rule = _rule(layer)
    if rule is not None:
        categories = await _categories(session, layer, flt, rule)
        wanted = rule.label_field
        label_field = wanted if wanted and layer.column(wanted) is not None else None
        return LayerStyle(
            geometry=geometry,
            attribute=rule.attribute,
            categories=categories,
            label_field=label_field,
            label_max_scale=rule.label_max_scale,
            name=f"carto-{layer.name}",
        )
    label_field = next((f for f in LABEL_FIELDS if layer.column(f) is not None), None)
    return LayerStyle(
        geometry=geometry,
        label_field=label_field,
        label_max_scale=100000,
        fill_opacity=0.15 if geometry == "polygon" else 0.35,
        name=f"carto-{layer.name}",
    )
