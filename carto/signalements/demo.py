"""Demo step: a few hundred signalements across the three territories, in every state a
ticket can rest in, so that maps, heatmaps, queues and statistics are not empty.

They go through the real service functions (routing, events, explanations,
transfers, merges, supports), backdated over the last two months, from a fixed
random seed; they are marked `source = 'demo'` and their descriptions start with
"[Démo]". Notifications are not queued: this is history, not news. A second run
finds them and adds nothing.

The loader's step runs on its psycopg connection; the service functions are
async, so the step commits what the loader has done so far and runs them on
their own connection, in a thread with its own event loop.
"""

from __future__ import annotations

import asyncio
import random
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from rich.console import Console
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncSession

from carto.db import make_async_engine, make_sessionmaker
from carto.errors import CartoError
from carto.signalements import lifecycle
from carto.signalements.models import Signalement
from carto.signalements.schemas import SignalementCreate
from carto.signalements.service import ReporterInfo, create_report

SEED = 20261122
TERRITORIES = {"200093201": 150, "200046977": 110, "200057974": 60}  # SIREN -> tickets
CATEGORY_WEIGHTS = {"voirie": 25, "proprete": 25, "dechets": 15, "eclairage": 15,
                    "espaces-verts": 10, "mobilier": 10}  # fmt: skip
# Final state -> the steps leading there (after intake, which leaves a ticket `routed`).
PATHS: dict[str, tuple[str, ...]] = {
    "routed": (),
    "acknowledged": ("acknowledged",),
    "in_progress": ("acknowledged", "in_progress"),
    "resolved": ("acknowledged", "in_progress", "resolved"),
    "rejected": ("rejected",),
    "reopened": ("acknowledged", "resolved", "reopened"),
    "duplicate": ("duplicate",),
}
STATE_WEIGHTS = {"routed": 20, "acknowledged": 15, "in_progress": 20, "resolved": 25,
                 "rejected": 7, "reopened": 5, "duplicate": 8}  # fmt: skip
DESCRIPTIONS = {
    "voirie": ["Nid-de-poule profond sur la chaussée", "Trottoir soulevé par des racines",
               "Bordure de trottoir cassée", "Affaissement de la chaussée près du passage piéton"],
    "proprete": ["Dépôt sauvage d'encombrants", "Tags sur le mur de l'école",
                 "Sacs d'ordures abandonnés au pied de l'arbre", "Verre brisé sur le trottoir"],
    "dechets": ["Bac jaune non collecté", "Bac d'ordures ménagères cassé",
                "Collecte oubliée dans la rue", "Conteneur à verre plein"],
    "eclairage": ["Lampadaire éteint depuis plusieurs jours", "Candélabre qui clignote",
                  "Éclairage allumé en pleine journée", "Mât d'éclairage penché"],
    "espaces-verts": ["Branche cassée menaçant de tomber", "Arbre mort dans le square",
                      "Pelouse du parc non tondue", "Haie qui déborde sur le trottoir"],
    "mobilier": ["Banc public cassé", "Panneau stop arraché", "Potelet couché sur le trottoir",
                 "Feu piéton en panne"],
}  # fmt: skip
NOTES = {
    "acknowledged": "Signalement pris en compte par le service.",
    "in_progress": "Intervention programmée.",
    "resolved": "Intervention réalisée.",
    "rejected": "Hors du domaine public : le propriétaire a été prévenu.",
    "reopened": "Le problème est réapparu.",
}


@dataclass(frozen=True)
class DemoActor:
    """An agent of one service (fits lifecycle.Actor)."""

    user_id: int
    service_ids: frozenset[int] = field(default_factory=frozenset)
    admin_authority_ids: frozenset[int] = field(default_factory=frozenset)


@dataclass(frozen=True)
class Planned:
    lon: float
    lat: float
    category: str
    created_at: datetime
    final: str
    by_citizen: bool
    transfer: bool
    supported: bool


def plan(points: list[tuple[float, float]], now: datetime) -> list[Planned]:
    """What to create, oldest first: deterministic for a given list of points."""
    rng = random.Random(SEED)
    cats, cat_w = list(CATEGORY_WEIGHTS), list(CATEGORY_WEIGHTS.values())
    states, state_w = list(STATE_WEIGHTS), list(STATE_WEIGHTS.values())
    out = [
        Planned(
            lon=lon,
            lat=lat,
            category=rng.choices(cats, cat_w)[0],
            created_at=now - timedelta(days=rng.uniform(0.5, 60)),
            final=rng.choices(states, state_w)[0],
            by_citizen=rng.random() < 0.2,
            transfer=rng.random() < 0.04,
            supported=rng.random() < 0.15,
        )  # fmt: skip
        for lon, lat in points
    ]
    return sorted(out, key=lambda p: p.created_at)


def demo_points(conn: psycopg.Connection) -> list[tuple[float, float]]:
    """Points inside the communes, more in the populous ones, from PostGIS's seeded sampler."""
    rng = random.Random(SEED)
    points: list[tuple[float, float]] = []
    for siren, total in TERRITORIES.items():
        communes = conn.execute(
            """SELECT c.insee, coalesce(c.population, 1) FROM intercommunalite_member m
               JOIN commune c ON c.insee = m.insee WHERE m.siren = %s ORDER BY c.insee""",
            (siren,),
        ).fetchall()
        if not communes:
            continue
        picks = rng.choices([c[0] for c in communes], [max(c[1], 1) ** 0.8 for c in communes],
                            k=total)  # fmt: skip
        counts = {insee: picks.count(insee) for insee in sorted(set(picks))}
        rows = conn.execute(
            """SELECT ST_X(p.geom), ST_Y(p.geom)
               FROM unnest(%s::text[], %s::int[]) AS w(insee, n)
               JOIN commune c ON c.insee = w.insee,
               LATERAL ST_Dump(ST_GeneratePoints(c.geom, w.n, %s)) p
               ORDER BY c.insee, p.path""",
            (list(counts), list(counts.values()), SEED),
        ).fetchall()
        points.extend((round(x, 6), round(y, 6)) for x, y in rows)
    return points


def async_url(conn: psycopg.Connection) -> str:
    """The loader connection's database, as a URL for an engine of our own."""
    info = conn.info
    host = info.host
    socket = host.startswith("/")
    url = URL.create(
        "postgresql", username=info.user, password=info.password or None,
        host=None if socket else host, port=info.port, database=info.dbname,
        query={"host": host} if socket else {},
    )  # fmt: skip
    return url.render_as_string(hide_password=False)


def seed_signalements(
    conn: psycopg.Connection, config: dict[str, Any], console: Console | None
) -> None:
    """The demo step: skipped when demo signalements exist already."""
    row = conn.execute("SELECT count(*) FROM signalement WHERE source = 'demo'").fetchone()
    if row and row[0]:
        return
    points = demo_points(conn)
    conn.commit()  # the rules and services must be visible to the seeding connection
    now = datetime.now(UTC)
    with ThreadPoolExecutor(max_workers=1) as pool:
        made = pool.submit(asyncio.run, _seed(async_url(conn), plan(points, now), now)).result()
    if console:
        console.print(f"Signalements de démonstration : {made} créés")


async def _seed(url: str, planned: list[Planned], now: datetime) -> int:
    engine = make_async_engine(url, pool_size=1, max_overflow=0)
    try:
        async with make_sessionmaker(engine)() as session:
            made = await seed(session=session, planned=planned, now=now)
            await session.commit()
            return made
    finally:
        await engine.dispose()


async def _people(session: AsyncSession) -> tuple[int | None, dict[int, int]]:
    citizen = await session.scalar(
        text("SELECT id FROM app_user WHERE email = 'citoyen@demo.local'")
    )
    agents = {
        int(service_id): int(user_id)
        for service_id, user_id in await session.execute(
            text(
                "SELECT service_id, min(user_id) FROM role_grant WHERE role = 'agent' "
                "GROUP BY service_id"
            )
        )  # fmt: skip
    }
    return citizen, agents


async def seed(*, session: AsyncSession, planned: list[Planned], now: datetime) -> int:
    """Create the planned tickets through the service functions; returns how many."""
    rng = random.Random(SEED + 1)
    citizen, agents = await _people(session)
    open_by_service: dict[int, list[int]] = {}
    made = 0
    for item in planned:
        text_ = rng.choice(DESCRIPTIONS[item.category])
        data = SignalementCreate(lon=item.lon, lat=item.lat, service_code=item.category,
                                 description=f"[Démo] {text_}")  # fmt: skip
        reporter = ReporterInfo(user_id=citizen if item.by_citizen else None)
        try:
            created = await create_report(
                session=session, data=data, reporter=reporter, source="demo",
                now=item.created_at, notify_people=False, commit=False,
            )  # fmt: skip
            sid = created.id
        except CartoError:
            continue  # a point on a sliver between communes: nobody to route it to
        made += 1
        await _life(session, sid, item, rng, agents, open_by_service, now)
        if item.supported and citizen and not item.by_citizen:
            with suppress(CartoError):  # closed meanwhile: no support
                await lifecycle.support(
                    session=session, signalement_id=sid, supporter=f"u:{citizen}",
                    user_id=citizen, commit=False,
                )  # fmt: skip
    return made


async def _life(
    session: AsyncSession, sid: int, item: Planned, rng: random.Random, agents: dict[int, int],
    open_by_service: dict[int, list[int]], now: datetime,
) -> None:  # fmt: skip
    ticket = await session.get(Signalement, sid)  # in the session already: no query
    assert ticket is not None
    service_id = ticket.service_id
    when = item.created_at
    if item.transfer and service_id in agents:
        service_id, when = await _transfer(session, sid, agents, service_id, when)
    if service_id not in agents:
        return
    actor = DemoActor(agents[service_id], frozenset({service_id}))
    for step in PATHS[item.final]:
        when = min(when + timedelta(hours=rng.uniform(2, 120)), now - timedelta(minutes=5))
        if step == "duplicate":
            earlier = open_by_service.get(service_id, [])
            if earlier:
                await lifecycle.merge(session=session, signalement_id=sid, into=earlier[-1],
                                      actor=actor, now=when, notify_people=False,
                                      commit=False)  # fmt: skip
            continue
        await lifecycle.transition(
            session=session, signalement_id=sid, actor=actor, to=step, note=NOTES.get(step),
            now=when, notify_people=False, commit=False,
        )  # fmt: skip
    if item.final not in ("resolved", "rejected", "duplicate"):
        open_by_service.setdefault(service_id, []).append(sid)


async def _transfer(
    session: AsyncSession, sid: int, agents: dict[int, int], service_id: int, when: datetime
) -> tuple[int, datetime]:
    """Misrouting, then a transfer to the intercommunality's roads service, say."""
    target = await session.scalar(
        text("""SELECT s.id FROM service s
                JOIN intercommunalite i ON i.authority_id = s.authority_id
                JOIN signalement t ON t.intercommunalite_siren = i.siren
                WHERE t.id = :i AND s.slug = 'voirie' AND s.id <> t.service_id"""),
        {"i": sid},
    )  # fmt: skip
    if target is None:
        return service_id, when
    actor = DemoActor(agents[service_id], frozenset({service_id}))
    later = when + timedelta(hours=3)
    await lifecycle.transfer(
        session=session, signalement_id=sid, actor=actor, service_id=int(target),
        reason="Concerne la chaussée : transmis au service de la voirie.",
        now=later, notify_people=False, commit=False,
    )  # fmt: skip
    return int(target), later
