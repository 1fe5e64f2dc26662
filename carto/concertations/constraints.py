"""Constraint layers: checks that reject or flag a contribution, each naming its reason.

Distances are true metres (PostGIS geography on the WGS84 ellipsoid), so "at least
5 m from an existing tree" means 5 m on the ground wherever the concertation is.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

CHECK_SQL = text(
    """
    WITH g AS (SELECT ST_GeomFromText(:wkt, 4326) AS geom)
    SELECT l.slug, l.title, l.rule, l.distance_m, l.action, l.message,
      CASE l.rule
        WHEN 'no_overlap' THEN EXISTS (
          SELECT 1 FROM reference_feature f
           WHERE f.layer_id = l.id AND ST_Intersects(f.geom, g.geom))
        WHEN 'min_distance' THEN EXISTS (
          SELECT 1 FROM reference_feature f
           WHERE f.layer_id = l.id
             AND ST_DWithin(f.geom::geography, g.geom::geography, l.distance_m))
        WHEN 'inside' THEN NOT EXISTS (
          SELECT 1 FROM reference_feature f
           WHERE f.layer_id = l.id AND ST_CoveredBy(g.geom, f.geom))
      END AS violated,
      CASE WHEN l.rule = 'min_distance' THEN (
          SELECT min(ST_Distance(f.geom::geography, g.geom::geography))
            FROM reference_feature f
           WHERE f.layer_id = l.id
             AND ST_DWithin(f.geom::geography, g.geom::geography, l.distance_m))
      END AS nearest_m
    FROM reference_layer l, g
    WHERE l.concertation_id = :k AND l.role = 'constraint'
    ORDER BY l.id
    """
)


@dataclass(frozen=True)
class Violation:
    """One broken rule: which layer, which rule, and the sentence shown to the participant."""

    layer: str
    rule: str
    action: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"layer": self.layer, "rule": self.rule, "message": self.message}


def describe(
    rule: str, title: str, message: str, distance_m: float | None, nearest_m: float | None
) -> str:
    """The reason in French: the layer's own message when set, plus the measured distance."""
    if rule == "no_overlap":
        default = f"Cet emplacement touche un élément de la couche « {title} »."
    elif rule == "inside":
        default = f"Cet emplacement est en dehors des zones de la couche « {title} »."
    else:
        default = f"Cet emplacement est trop près d'un élément de la couche « {title} »."
    sentence = message.strip() or default
    if rule == "min_distance" and nearest_m is not None and distance_m is not None:
        sentence += f" (distance : {nearest_m:.1f} m ; minimum : {distance_m:g} m)"
    return sentence


def explain(rule: str | None, title: str, distance_m: float | None, action: str) -> str:
    """The rule in one French sentence, shown before the participant places anything."""
    if rule == "min_distance":
        where = f"à au moins {distance_m or 0:g} m de tout élément de la couche « {title} »"
    elif rule == "no_overlap":
        where = f"en dehors des éléments de la couche « {title} »"
    elif rule == "inside":
        where = f"à l'intérieur des zones de la couche « {title} »"
    else:
        return ""
    then = "sinon elle est refusée" if action == "reject" else "sinon la modération l'examine"
    return f"Votre contribution doit être {where} ({then})."


async def check_constraints(
    *, session: AsyncSession, concertation_id: int, wkt: str
) -> list[Violation]:
    """Every constraint this geometry breaks, in layer order (empty when it fits)."""
    rows = await session.execute(CHECK_SQL, {"wkt": wkt, "k": concertation_id})
    return [
        Violation(
            layer=row.slug,
            rule=row.rule,
            action=row.action,
            message=describe(row.rule, row.title, row.message, row.distance_m, row.nearest_m),
        )
        for row in rows
        if row.violated
    ]
