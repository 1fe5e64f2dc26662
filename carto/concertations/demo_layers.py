"""Demo reference and constraint layers, and the Lyon tree-site proposals.

Lyon gets two constraint layers: existing trees (points; at least 5 m away) and a few
building footprints (no planting on them), both fictional and placed so that the
proposals seeded here respect them. The MEL gets a plain reference layer of project
areas. The contract check's point (4.8357, 45.7640) is kept clear of both layers.
"""

from __future__ import annotations

import json
import math
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import shapely
from shapely.geometry import Point, box
from shapely.geometry.base import BaseGeometry

from carto.concertations.demo_seed import Seed, answer, communes, insert, point_in, react
from carto.concertations.demo_texts import TREE_THEMES, tree_text

KEEP_CLEAR = (4.8357, 45.7640)  # the contract check's tree proposal
BUILDINGS = [
    ("Hôtel de Ville (démo)", 4.8360, 45.7676),
    ("Grand Hôtel-Dieu (démo)", 4.8362, 45.7595),
    ("Gare Part-Dieu (démo)", 4.8596, 45.7606),
    ("Musée des Confluences (démo)", 4.8183, 45.7330),
    ("Halle Tony Garnier (démo)", 4.8260, 45.7310),
    ("Cité internationale (démo)", 4.8530, 45.7840),
]
SPECIES = ["Tilleul", "Platane", "Micocoulier", "Érable", "Chêne", "Charme", "Févier"]
NEIGHBOURHOODS = ["Lyon 3e", "Lyon 7e", "Lyon 8e", "Lyon 1er", "la Guillotière", "Vaise"]
PROJECT_AREAS = [
    ("Euralille 3000 (démo)", (3.0700, 50.6350, 3.0830, 50.6420)),
    ("Fives-Cail (démo)", (3.0880, 50.6300, 3.0990, 50.6360)),
    ("L'Union (démo)", (3.1450, 50.6940, 3.1620, 50.7030)),
]


def metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Distance on the ground between two lon/lat points (equirectangular, street scale)."""
    dx = (a[0] - b[0]) * 111_320 * math.cos(math.radians((a[1] + b[1]) / 2))
    return math.hypot(dx, (a[1] - b[1]) * 111_320)


def footprint(lon: float, lat: float, half_w: float = 40, half_h: float = 25) -> BaseGeometry:
    dlon = half_w / (111_320 * math.cos(math.radians(lat)))
    return box(lon - dlon, lat - half_h / 111_320, lon + dlon, lat + half_h / 111_320)


def add_layer(
    conn: psycopg.Connection, k: int, meta: dict[str, Any],
    features: list[tuple[dict[str, Any], BaseGeometry]],
) -> None:  # fmt: skip
    row = conn.execute(
        """INSERT INTO reference_layer (concertation_id, slug, title, description, role, rule,
               distance_m, action, message, color, source)
           VALUES (%(k)s, %(slug)s, %(title)s, %(description)s, %(role)s, %(rule)s,
                   %(distance_m)s, 'reject', %(message)s, %(color)s, 'démo')
           ON CONFLICT (concertation_id, slug) DO NOTHING RETURNING id""",
        {"k": k, "rule": None, "distance_m": None, "message": "", **meta},
    ).fetchone()
    if row is None:
        return
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO reference_feature (layer_id, properties, geom) "
            "VALUES (%s, %s::jsonb, ST_GeomFromText(%s, 4326))",
            [(row[0], json.dumps(p, ensure_ascii=False), g.wkt) for p, g in features],
        )


def plu_layers(conn: psycopg.Connection, k: int) -> None:
    add_layer(conn, k, {"slug": "secteurs-de-projet", "title": "Secteurs de projet (démo)",
                        "description": "Grands secteurs d'aménagement, pour se repérer.",
                        "role": "reference", "color": "#6a3d9a"},
              [({"nom": name}, box(*bounds)) for name, bounds in PROJECT_AREAS])  # fmt: skip


def _sites(
    rng: random.Random, lyon: BaseGeometry, buildings: BaseGeometry
) -> list[tuple[float, float]]:
    sites: list[tuple[float, float]] = []
    while len(sites) < 70:
        lon, lat = point_in(rng, lyon)
        if metres((lon, lat), KEEP_CLEAR) > 150 and not buildings.intersects(Point(lon, lat)):
            sites.append((lon, lat))
    return sites


def _existing_trees(
    rng: random.Random,
    lyon: BaseGeometry,
    buildings: BaseGeometry,
    sites: list[tuple[float, float]],
) -> list[tuple[dict[str, Any], BaseGeometry]]:
    trees: list[tuple[dict[str, Any], BaseGeometry]] = []
    while len(trees) < 400:
        lon, lat = point_in(rng, lyon)
        if metres((lon, lat), KEEP_CLEAR) < 150 or buildings.intersects(Point(lon, lat)):
            continue
        if any(metres((lon, lat), s) < 10 for s in sites):
            continue
        trees.append(({"essence": rng.choice(SPECIES), "plantation": rng.randint(1960, 2022)},
                      Point(lon, lat)))  # fmt: skip
    return trees


def seed_trees(conn: psycopg.Connection, k: int, accounts: dict[str, Any], authority: int) -> None:
    """Seventy tree-site proposals in Lyon, the two constraint layers, votes and answers."""
    rng, now = random.Random(69123), datetime.now(UTC).replace(microsecond=0)
    lyon = shapely.union_all([g for _, _, _, g in communes(conn, k)])
    buildings = [(name, footprint(lon, lat)) for name, lon, lat in BUILDINGS]
    blocked = shapely.union_all([g for _, g in buildings])
    sites = _sites(rng, lyon, blocked)
    add_layer(conn, k, {"slug": "batiments", "title": "Bâtiments (démo)", "role": "constraint",
                        "rule": "no_overlap", "color": "#7f7f7f",
                        "message": "Impossible de planter sur l'emprise d'un bâtiment.",
                        "description": "Emprises de bâtiments (fictives, pour la démo)."},
              [({"nom": name}, g) for name, g in buildings])  # fmt: skip
    add_layer(conn, k, {"slug": "arbres-existants", "title": "Arbres existants (démo)",
                        "role": "constraint", "rule": "min_distance", "distance_m": 5.0,
                        "color": "#1a9641",
                        "message": "Un arbre existe déjà à moins de 5 m : choisissez un "
                                   "emplacement plus dégagé.",
                        "description": "Inventaire des arbres d'alignement (fictif)."},
              _existing_trees(rng, lyon, blocked, sites))  # fmt: skip
    seeds = []
    for n, (lon, lat) in enumerate(sites):
        theme = rng.choice(TREE_THEMES)[0]
        title, body = tree_text(rng, theme, rng.choice(NEIGHBOURHOODS))
        seeds.append(Seed(
            ref=f"demo-arbre-{n}", theme=theme, kind="proposition" if n % 6 else "constat",
            title=title, body=body, lon=lon, lat=lat, author=rng.choice(accounts["citizens"]),
            at=now - timedelta(days=rng.uniform(0.5, 35)),
        ))  # fmt: skip
    ids = insert(conn, k, seeds)
    react(conn, rng, seeds, ids, accounts["citizens"], now)
    answer(conn, rng, [ids[s.ref] for s in seeds[:8]], authority, accounts["admin"])
