"""Seeded demo contributions, reactions, answers, moderation and one campaign.

Deterministic (fixed seeds), fast (a few hundred rows through executemany), and
written straight in SQL on the loader's psycopg connection; counters follow through
the triggers as they would for real input.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import shapely
from shapely.geometry.base import BaseGeometry

from carto.concertations.demo_texts import (
    ANSWER_TEXTS,
    PLU_THEMES,
    plu_text,
)

COMMENTS = [
    "Tout à fait d'accord, c'est la même chose dans ma rue.",
    "Je ne suis pas d'accord : cela réduirait le stationnement pour les riverains.",
    "Bonne idée, mais qui financera l'entretien ?",
    "Il faudrait aussi penser aux personnes à mobilité réduite.",
    "C'était déjà demandé lors de la réunion publique de l'an dernier.",
    "Excellente proposition, je soutiens.",
]
VOTE_REASONS = ["Indispensable pour le quartier.", "Trop coûteux.", "À faire en priorité.", None]


@dataclass
class Seed:
    """One demo contribution before insertion."""

    ref: str
    theme: str
    kind: str
    title: str
    body: str
    lon: float
    lat: float
    author: int | None
    at: datetime
    channel: str = "online"
    label: str | None = None
    entered_by: int | None = None
    ip_hash: str | None = None
    visibility: str = "published"
    hold: str | None = None
    moderation: str | None = None
    flags: list[str] = field(default_factory=list)


def communes(conn: psycopg.Connection, k: int) -> list[tuple[str, str, int, BaseGeometry]]:
    """The communes of the perimeter, clipped to it, with their population."""
    rows = conn.execute(
        """SELECT m.insee, m.nom, coalesce(m.population, 0),
                  ST_AsBinary(ST_Intersection(m.geom, k.perimeter))
           FROM commune m
           JOIN concertation k ON ST_Intersects(k.perimeter, ST_PointOnSurface(m.geom))
           WHERE k.id = %s ORDER BY m.insee""",
        (k,),
    ).fetchall()
    return [(r[0], r[1], int(r[2]), shapely.from_wkb(bytes(r[3]))) for r in rows]


def point_in(rng: random.Random, geom: BaseGeometry) -> tuple[float, float]:
    west, south, east, north = geom.bounds
    for _ in range(10_000):
        lon, lat = rng.uniform(west, east), rng.uniform(south, north)
        if shapely.contains_xy(geom, lon, lat):
            return round(lon, 6), round(lat, 6)
    point = geom.representative_point()
    return point.x, point.y


def near(rng: random.Random, lon: float, lat: float, metres: float) -> tuple[float, float]:
    """A point within `metres` of (lon, lat) (equirectangular: fine at street scale)."""
    r, a = metres * math.sqrt(rng.random()), rng.uniform(0, 2 * math.pi)
    dlat = r * math.sin(a) / 111_320
    dlon = r * math.cos(a) / (111_320 * math.cos(math.radians(lat)))
    return round(lon + dlon, 6), round(lat + dlat, 6)


INSERT = """
INSERT INTO contribution (concertation_id, theme_id, kind, title, body, geom, phase, channel,
    author_id, author_label, entered_by_id, source_ref, ip_hash, visibility, hold_reason,
    moderation_reason, flags, constraint_notes, votes_for, votes_against, supports, comments,
    is_demo, created_at, updated_at)
VALUES (%(k)s,
    (SELECT id FROM concertation_theme WHERE concertation_id = %(k)s AND slug = %(theme)s),
    %(kind)s, %(title)s, %(body)s, ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326),
    'contribution', %(channel)s, %(author)s, %(label)s, %(entered_by)s, %(ref)s, %(ip_hash)s,
    %(visibility)s, %(hold)s, %(moderation)s, %(flags)s, '{}', 0, 0, 0, 0, true, %(at)s, %(at)s)
"""


def insert(conn: psycopg.Connection, k: int, seeds: list[Seed]) -> dict[str, int]:
    """Insert the seeds; their ids by reference. Communes are set in one statement."""
    with conn.cursor() as cur:
        cur.executemany(INSERT, [{"k": k, **s.__dict__} for s in seeds])
    conn.execute(
        """UPDATE contribution c SET commune_insee = (
             SELECT m.insee FROM commune m WHERE ST_Intersects(m.geom, ST_PointOnSurface(c.geom))
             ORDER BY m.insee LIMIT 1)
           WHERE c.concertation_id = %s AND c.commune_insee IS NULL""",
        (k,),
    )
    rows = conn.execute(
        "SELECT source_ref, id FROM contribution WHERE concertation_id = %s", (k,)
    ).fetchall()
    return {r[0]: int(r[1]) for r in rows}


def later(rng: random.Random, start: datetime, now: datetime) -> datetime:
    """A moment after `start` and at least an hour before `now`: seeded reactions must not
    look like a burst happening while the demo is being used."""
    end = now - timedelta(hours=1)
    if start + timedelta(minutes=1) >= end:
        return start + timedelta(minutes=1)
    return start + (end - start) * rng.uniform(0.01, 1)


def react(
    conn: psycopg.Connection, rng: random.Random, seeds: list[Seed], ids: dict[str, int],
    citizens: list[int], now: datetime,
) -> None:  # fmt: skip
    """Votes (some contributions split opinion), supports and comment threads."""
    votes, supports, comments = [], [], []
    for s in seeds:
        if s.visibility != "published" or s.flags:
            continue
        cid, agree = ids[s.ref], rng.choice((0.95, 0.85, 0.7, 0.5, 0.5, 0.3))
        voters = rng.sample([c for c in citizens if c != s.author], k=rng.choice((0, 2, 4, 7, 12)))
        for voter in voters:
            value = 1 if rng.random() < agree else -1
            votes.append((cid, voter, value, rng.choice(VOTE_REASONS), later(rng, s.at, now)))
        for fan in rng.sample(citizens, k=rng.choice((0, 0, 1, 3, 6))):
            supports.append((cid, fan, later(rng, s.at, now)))
        if rng.random() < 0.3:
            for _ in range(rng.randint(1, 3)):
                at = later(rng, s.at, now)
                comments.append((cid, rng.choice(citizens), rng.choice(COMMENTS), at))
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO contribution_vote (contribution_id, user_id, value, reason, flags, "
            "created_at, updated_at) VALUES (%s, %s, %s, %s, '{}', %s, %s) ON CONFLICT DO NOTHING",
            [(*v, v[-1]) for v in votes],
        )
        cur.executemany(
            "INSERT INTO contribution_support (contribution_id, user_id, created_at) "
            "VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
            supports,
        )
        cur.executemany(
            "INSERT INTO contribution_comment (contribution_id, author_id, body, visibility, "
            "created_at) VALUES (%s, %s, %s, 'published', %s)",
            comments,
        )
    # Make a few threads: every third comment answers the previous one on the same contribution.
    conn.execute(
        """UPDATE contribution_comment c SET parent_id = p.id
           FROM contribution_comment p
           WHERE p.contribution_id = c.contribution_id AND p.id = c.id - 1 AND c.id %% 3 = 0
             AND c.contribution_id IN (SELECT id FROM contribution WHERE id = ANY(%s))""",
        (list(ids.values()),),
    )


def answer(
    conn: psycopg.Connection, rng: random.Random, refs: list[int], authority: int,
    admin: int | None,
) -> None:  # fmt: skip
    statuses = ["retenue", "a_l_etude", "a_l_etude", "non_retenue", "hors_sujet", "hors_competence"]
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO contribution_answer (contribution_id, status, text, authority_id, "
            "answered_by_id) VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
            [
                (cid, st, ANSWER_TEXTS[st], authority, admin)
                for cid, st in ((c, rng.choice(statuses)) for c in refs)
            ],  # fmt: skip
        )


def _plu_seeds(
    rng: random.Random, places: list[tuple[str, str, int, BaseGeometry]], accounts: dict[str, Any],
    now: datetime,
) -> list[Seed]:  # fmt: skip
    """About 300 contributions over the communes, with two dense spots and offline input."""
    citizens = accounts["citizens"]
    weights = [math.sqrt(p) if (p > 3000 or rng.random() < 0.4) else 0 for _, _, p, _ in places]
    kinds = ["proposition"] * 11 + ["constat"] * 6 + ["question"] * 3
    channels = ["online"] * 16 + ["workshop", "workshop", "paper", "kiosk", "assisted"]
    seeds = []
    for n in range(280):
        insee, nom, _, geom = rng.choices(places, weights=weights)[0]
        theme = rng.choice(PLU_THEMES)[0]
        title, body = plu_text(rng, theme, nom)
        lon, lat = point_in(rng, geom)
        channel = rng.choice(channels)
        online = channel == "online"
        seeds.append(Seed(
            ref=f"demo-{n}", theme=theme, kind=rng.choice(kinds), title=title, body=body,
            lon=lon, lat=lat, author=rng.choice(citizens) if online else None,
            at=now - timedelta(days=rng.uniform(0.5, 38)), channel=channel,
            label=None if online else f"Atelier {nom} (démo)" if channel == "workshop"
            else "Contribution saisie par un agent (démo)",
            entered_by=None if online else accounts["admin"],
        ))  # fmt: skip
    spots = [("gare", 3.0707, 50.6366, "mobilites", "Lille"),
             ("grand-place", 3.1746, 50.6903, "commerces", "Roubaix")]  # fmt: skip
    for name, lon0, lat0, theme, nom in spots:
        for n in range(14):
            title, body = plu_text(rng, theme, nom)
            lon, lat = near(rng, lon0, lat0, 150)
            seeds.append(Seed(
                ref=f"demo-{name}-{n}", theme=theme, kind="proposition", title=title, body=body,
                lon=lon, lat=lat, author=rng.choice(citizens),
                at=now - timedelta(days=rng.uniform(0.5, 38)),
            ))  # fmt: skip
    return seeds


def _special_seeds(
    rng: random.Random, places: list[tuple[str, str, int, BaseGeometry]], accounts: dict[str, Any],
    now: datetime,
) -> list[Seed]:  # fmt: skip
    """What moderators meet: held personal data, a hidden text, a campaign burst."""
    lille = next(g for insee, _, _, g in places if insee == "59350")
    seeds = [
        Seed(ref="demo-held-phone", theme="equipements", kind="question",
             title="Horaires de la future médiathèque ?",
             body="Pouvez-vous me rappeler au 06 12 34 56 78 pour en discuter ?",
             lon=3.0586, lat=50.6310, author=accounts["citizens"][3],
             at=now - timedelta(hours=5), visibility="held",
             hold="Données personnelles possibles : numéro de téléphone"),
        Seed(ref="demo-held-mail", theme="logement", kind="constat",
             title="Immeuble insalubre", body="Écrivez-moi à voisin.demo@example.org, merci.",
             lon=3.0650, lat=50.6290, author=accounts["citizens"][4],
             at=now - timedelta(hours=9), visibility="held",
             hold="Données personnelles possibles : adresse e-mail"),
        Seed(ref="demo-hidden", theme="commerces", kind="constat",
             title="Commerçant malhonnête", body="(texte masqué par la modération)",
             lon=3.0630, lat=50.6330, author=accounts["citizens"][5],
             at=now - timedelta(days=6), visibility="hidden",
             moderation="Propos mettant en cause nommément un tiers (charte, article 3)."),
    ]  # fmt: skip
    start = now - timedelta(days=3)
    for n in range(14):  # 14 contributions in six minutes from one outside account and address
        lon, lat = point_in(rng, lille)
        seeds.append(Seed(
            ref=f"demo-burst-{n}", theme="mobilites", kind="proposition",
            title="Supprimer les zones 30 et rouvrir les voies aux deux-roues",
            body="Les zones 30 pénalisent les motards qui traversent la métropole. Rouvrez "
                 "toutes les voies aux deux-roues motorisés.",
            lon=lon, lat=lat, author=accounts["collective"], at=start + timedelta(seconds=25 * n),
            ip_hash="0" * 24 + "demo" + "0" * 4,
            flags=["burst_account", "burst_network", "outside_perimeter"],
        ))  # fmt: skip
    own = [
        ("nature", "Un verger dans le parc de mon quartier"),
        ("mobilites", "Un double sens cyclable rue Nationale"),
        ("equipements", "Ouvrir la piscine le dimanche"),
    ]
    for n, (theme, title) in enumerate(own):
        seeds.append(Seed(
            ref=f"demo-citoyen-{n}", theme=theme, kind="proposition", title=title,
            body="Proposition de démonstration déposée par le compte citoyen de la démo.",
            lon=3.0573 + n * 0.004, lat=50.6330, author=accounts["citoyen"],
            at=now - timedelta(days=20 - n),
        ))  # fmt: skip
    return seeds


def _campaign_votes(conn: psycopg.Connection, k: int, collective: int, now: datetime) -> None:
    """The collective also votes 30 times in five minutes: flagged, counted apart."""
    start = now - timedelta(days=3)
    rows = conn.execute(
        """SELECT id, source_ref LIKE 'demo-burst-%%' FROM contribution
           WHERE concertation_id = %s AND visibility = 'published'
             AND (source_ref LIKE 'demo-burst-%%' OR theme_id = (SELECT id FROM concertation_theme
                  WHERE concertation_id = %s AND slug = 'mobilites'))
           ORDER BY source_ref LIKE 'demo-burst-%%' DESC, id LIMIT 30""",
        (k, k),
    ).fetchall()
    flags = ["burst_account", "outside_perimeter"]
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO contribution_vote (contribution_id, user_id, value, flags, created_at, "
            "updated_at) VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
            [
                (
                    cid,
                    collective,
                    1 if own else -1,
                    flags,
                    start + timedelta(seconds=10 * i),
                    start + timedelta(seconds=10 * i),
                )
                for i, (cid, own) in enumerate(rows)
            ],  # fmt: skip
        )
    conn.execute(
        "INSERT INTO concertation_residence (concertation_id, user_id, resident, commune_insee) "
        "VALUES (%s, %s, false, '75056') ON CONFLICT DO NOTHING",
        (k, collective),
    )


def _moderation(conn: psycopg.Connection, ids: dict[str, int], accounts: dict[str, Any]) -> None:
    conn.execute(
        "INSERT INTO moderation_event (contribution_id, moderator_id, action, reason) "
        "VALUES (%s, %s, 'hide', %s)",
        (
            ids["demo-hidden"],
            accounts["moderator"],
            "Propos mettant en cause nommément un tiers (charte, article 3).",
        ),  # fmt: skip
    )
    reporters = accounts["citizens"][10:13]
    for n, reporter in enumerate(reporters):
        conn.execute(
            "INSERT INTO moderation_report (contribution_id, reporter_id, reason) "
            "VALUES (%s, %s, %s)",
            (ids[f"demo-{n * 7}"], reporter, "Hors sujet ou déjà proposé ailleurs."),
        )


def seed_plu(conn: psycopg.Connection, k: int, accounts: dict[str, Any], authority: int) -> None:
    """About 320 contributions over the MEL with votes, comments, answers and a campaign."""
    rng, now = random.Random(2024), datetime.now(UTC).replace(microsecond=0)
    places = communes(conn, k)
    seeds = _plu_seeds(rng, places, accounts, now) + _special_seeds(rng, places, accounts, now)
    ids = insert(conn, k, seeds)
    react(conn, rng, seeds, ids, accounts["citizens"] + [accounts["moderator"]], now)
    answered = [ids[s.ref] for s in seeds if s.visibility == "published" and not s.flags
                and (s.ref.startswith("demo-citoyen") or rng.random() < 0.18)]  # fmt: skip
    answer(conn, rng, answered, authority, accounts["admin"])
    _campaign_votes(conn, k, accounts["collective"], now)
    _moderation(conn, ids, accounts)
