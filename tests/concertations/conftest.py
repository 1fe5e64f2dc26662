"""Small factories for concertation tests: a concertation on chosen communes, features,
principals for direct service calls. Everything lives in the test's rolled-back session."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from carto.accounts.deps import Principal, principal_of
from carto.accounts.models import User
from carto.concertations.models import Concertation, ConcertationAuthority, Phase, Theme
from carto.territories.models import Commune

LILLE = (3.0632, 50.6369)
ROUBAIX = (3.1746, 50.6903)
BELLECOUR = (4.8357, 45.7640)
LILLE_INSEE, ROUBAIX_INSEE = "59350", "59512"

MakeConcertation = Callable[..., Awaitable[Concertation]]


def feature(
    lon: float,
    lat: float,
    *,
    theme: str = "velo",
    kind: str = "proposition",
    title: str = "Une piste cyclable",
    body: str = "Relier la gare au centre à vélo.",
    **extra: Any,
) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {"title": title, "body": body, "theme": theme, "kind": kind, **extra},
    }


@pytest.fixture
def make_concertation(session: AsyncSession) -> MakeConcertation:
    """A concertation on the union of `communes`, organised by the first one's authority."""

    async def make(
        *,
        slug: str = "test-concertation",
        communes: Sequence[str] = (LILLE_INSEE,),
        opens: timedelta = timedelta(days=-1),
        closes: timedelta = timedelta(days=30),
        archived: bool = False,
        geometry_types: Sequence[str] = ("Point", "LineString", "Polygon"),
        kinds: Sequence[str] = ("proposition", "constat", "question"),
        themes: Sequence[tuple[str, str]] = (("velo", "Vélo"), ("arbres", "Arbres")),
    ) -> Concertation:
        now = datetime.now(UTC)
        union = (
            select(func.ST_Multi(func.ST_Union(Commune.geom)))
            .where(Commune.insee.in_(communes))
            .scalar_subquery()
        )
        authority = await session.scalar(
            select(Commune.authority_id).where(Commune.insee == communes[0])
        )
        k = Concertation(
            slug=slug,
            title=f"Concertation {slug}",
            description="Pour les tests.",
            kind="autre",
            perimeter=union,
            opens_at=now + opens,
            closes_at=now + closes,
            archived_at=now if archived else None,
            allowed_geometry_types=list(geometry_types),
            allowed_kinds=list(kinds),
            is_demo=False,
        )
        k.themes = [
            Theme(slug=s, label=label, color=f"#00{i:02d}00", icon="", description="", sort_order=i)
            for i, (s, label) in enumerate(themes)
        ]
        k.phases = [
            Phase(phase="information", starts_at=now + opens - timedelta(days=5), description=""),
            Phase(phase="contribution", starts_at=now + opens, description=""),
        ]
        k.organisers = [ConcertationAuthority(authority_id=authority)]
        session.add(k)
        await session.flush()
        return k

    return make


async def principal(session: AsyncSession, email: str) -> Principal:
    """The principal of a demo account, for calling services directly."""
    user = await session.scalar(select(User).where(User.email == email))
    assert user is not None, email
    return principal_of(user)


async def count(session: AsyncSession, sql: str, **params: Any) -> int:
    return int(await session.scalar(text(sql), params) or 0)
