"""Territory reads the web map needs: the intercommunalities' extents (to jump to) and
the authorities an administrator acts for. Plain functions, keyword-only session."""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from carto.geo import LngLatBBox
from carto.territories.models import Authority

_EXTENTS_SQL = text(
    """
    SELECT nom, ST_XMin(e) AS w, ST_YMin(e) AS s, ST_XMax(e) AS e, ST_YMax(e) AS n
    FROM (SELECT nom, ST_Extent(geom)::geometry AS e FROM intercommunalite
          WHERE geom IS NOT NULL GROUP BY nom) AS x
    ORDER BY nom
    """
)


async def intercommunality_extents(*, session: AsyncSession) -> list[tuple[str, LngLatBBox]]:
    """Each intercommunality's name and bounding box, by name."""
    rows = (await session.execute(_EXTENTS_SQL)).all()
    return [(r.nom, LngLatBBox(r.w, r.s, r.e, r.n)) for r in rows]


class AuthoritySummary(NamedTuple):
    """An authority as the administration screens pick it."""

    id: int
    slug: str
    name: str
    kind: str  # "commune" (code: INSEE) or "intercommunalite" (code: SIREN)
    code: str


async def authorities_by_id(*, session: AsyncSession, ids: Iterable[int]) -> list[AuthoritySummary]:
    """The authorities with these ids, intercommunalities first, then by name."""
    rows = await session.execute(
        select(Authority)
        .where(Authority.id.in_(list(ids)))
        .order_by(Authority.kind.desc(), Authority.name)
    )
    return [AuthoritySummary(a.id, a.slug, a.name, a.kind, a.code) for a in rows.scalars()]
