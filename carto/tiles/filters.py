"""Tile filters from query parameters: validated, bounded, and with a canonical key.

Values are only ever bound as query parameters; the key names the cached variant.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlencode

from carto.errors import InvalidInput
from carto.tiles.layers import TileLayer

MAX_VALUES = 20
_VALUE = re.compile(r"^[\w.\-:]{1,80}$")


@dataclass(frozen=True)
class TileFilters:
    """Equality filters (param -> allowed values), a date range, an optional weight column."""

    values: dict[str, tuple[str, ...]] = field(default_factory=dict)
    date_from: datetime | None = None
    date_to: datetime | None = None
    weight: str | None = None

    @property
    def key(self) -> str:
        """Canonical, order-independent form: the cache variant and the stats key."""
        parts: list[tuple[str, str]] = [(k, ",".join(v)) for k, v in sorted(self.values.items())]
        if self.date_from:
            parts.append(("from", self.date_from.isoformat()))
        if self.date_to:
            parts.append(("to", self.date_to.isoformat()))
        return urlencode(parts)

    @property
    def only_dims(self) -> bool:
        """True when the precomputed heat grid can answer (no date range)."""
        return self.date_from is None and self.date_to is None


def _parse_date(name: str, raw: str) -> datetime:
    try:
        if len(raw) == 10:  # a day: `from` starts it, `to` ends it
            day = datetime.combine(date.fromisoformat(raw), datetime.min.time(), tzinfo=UTC)
            return day + timedelta(days=1, microseconds=-1) if name == "to" else day
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(
            f"Paramètre « {name} » : date attendue au format AAAA-MM-JJ ou ISO 8601."
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_filters(
    layer: TileLayer, params: Mapping[str, str], *, allow_weight: bool = False
) -> TileFilters:
    """Filters for `layer` from the request's query string; unknown values are refused."""
    values: dict[str, tuple[str, ...]] = {}
    for flt in layer.filters:
        raw = params.get(flt.param)
        if raw is None or raw == "":
            continue
        items = tuple(sorted({v.strip() for v in raw.split(",") if v.strip()}))
        if not items or len(items) > MAX_VALUES or not all(_VALUE.match(v) for v in items):
            raise InvalidInput(
                f"Paramètre « {flt.param} » invalide : une ou plusieurs valeurs "
                f"(au plus {MAX_VALUES}) séparées par des virgules."
            )
        values[flt.param] = items
    date_from = date_to = None
    if layer.date_column:
        if params.get("from"):
            date_from = _parse_date("from", params["from"])
        if params.get("to"):
            date_to = _parse_date("to", params["to"])
        if date_from and date_to and date_from > date_to:
            raise InvalidInput("La date « from » doit précéder la date « to ».")
    weight = params.get("weight") or None
    if weight is not None:
        if not allow_weight or weight not in layer.weights:
            choices = ", ".join(layer.weights) or "aucune"
            raise InvalidInput(
                f"Pondération « {weight} » inconnue pour cette couche (possibles : {choices})."
            )
        weight = layer.weights[weight]
    return TileFilters(values, date_from, date_to, weight)
