"""Demo step: "PLU de la MEL" and "Planter un arbre à Lyon", with their accounts.

Idempotent: each concertation is created and seeded once (keyed by slug); later runs
only keep it open (closing date in the future) and make sure the demo accounts
exist. Deterministic: one seeded random generator per concertation. Everything is
marked `is_demo`, and the descriptions say the contributions are fictional.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from rich.console import Console

from carto.concertations.demo_layers import plu_layers, seed_trees
from carto.concertations.demo_seed import seed_plu
from carto.concertations.demo_texts import PLU_THEMES, PSEUDONYMS, TREE_THEMES
from carto.credentials import hash_password

DOMAIN = "demo.local"
PASSWORD = "demo"  # noqa: S105 - the contract's published demo password
MEL_SIREN = "200093201"
LYON_INSEE = "69123"

PLU = {
    "slug": "plu-de-la-mel",
    "title": "PLU de la MEL",
    "kind": "plu",
    "description": (
        "Révision du plan local d'urbanisme intercommunal de la Métropole Européenne de Lille : "
        "situez un projet ou un lieu, proposez une action, une amélioration ou faites un constat. "
        "Données de démonstration : les contributions présentes sont fictives."
    ),
    "geometry_types": ["Point", "LineString", "Polygon"],
    "kinds": ["proposition", "constat", "question"],
    "themes": PLU_THEMES,
}
TREES = {
    "slug": "planter-un-arbre-a-lyon",
    "title": "Planter un arbre à Lyon",
    "kind": "plantation",
    "description": (
        "Où planter les prochains arbres de Lyon ? Proposez des emplacements : pas sur un "
        "bâtiment, et à au moins 5 m d'un arbre existant. Données de démonstration : "
        "propositions, arbres et bâtiments fictifs."
    ),
    "geometry_types": ["Point"],
    "kinds": ["proposition", "constat"],
    "themes": TREE_THEMES,
}


def _user(conn: psycopg.Connection, email: str, pseudonym: str, pw: str, *roles: str) -> int:
    row = conn.execute(
        """INSERT INTO app_user (email, pseudonym, password_hash, is_active, email_verified)
           VALUES (%s, %s, %s, true, true)
           ON CONFLICT (email) DO UPDATE SET is_active = true RETURNING id""",
        (email, pseudonym, pw),
    ).fetchone()
    assert row is not None
    for role in roles:
        conn.execute(
            """INSERT INTO role_grant (user_id, role)
               SELECT %(u)s::int, %(r)s::varchar WHERE NOT EXISTS (
                 SELECT 1 FROM role_grant WHERE user_id = %(u)s AND role = %(r)s
                   AND service_id IS NULL AND authority_id IS NULL)""",
            {"u": row[0], "r": role},
        )
    return int(row[0])


def demo_accounts(conn: psycopg.Connection) -> dict[str, Any]:
    """The moderator, thirty demo citizens and one outside "collective" (a campaign)."""
    pw = hash_password(PASSWORD)  # one hash for all: argon2 is slow on purpose
    citizens = [
        _user(conn, f"participant.{i:02d}@{DOMAIN}", f"{name} (démo)", pw, "citizen")
        for i, name in enumerate(PSEUDONYMS, start=1)
    ]
    admin = conn.execute("SELECT id FROM app_user WHERE email = %s", (f"admin@{DOMAIN}",))
    citizen = conn.execute("SELECT id FROM app_user WHERE email = %s", (f"citoyen@{DOMAIN}",))
    return {
        "moderator": _user(
            conn, f"moderateur@{DOMAIN}", "Modération (démo)", pw, "citizen", "moderator"
        ),
        "citizens": citizens,
        "collective": _user(
            conn, f"collectif.vitesse@{DOMAIN}", "Collectif Vitesse Libre (démo)", pw, "citizen"
        ),
        "admin": (admin.fetchone() or [None])[0],
        "citoyen": (citizen.fetchone() or [None])[0],
    }


def _create(
    conn: psycopg.Connection, spec: dict[str, Any], perimeter_sql: str, code: str
) -> int | None:
    """Insert the concertation with its themes, phases and organiser; None if it exists."""
    now = datetime.now(UTC).replace(microsecond=0)
    opens, closes = now - timedelta(days=40), now + timedelta(days=60)
    row = conn.execute(
        f"""INSERT INTO concertation (slug, title, description, kind, perimeter, opens_at,
                closes_at, allowed_geometry_types, allowed_kinds, is_demo)
            SELECT %s, %s, %s, %s, p.geom, %s, %s, %s, %s, true FROM ({perimeter_sql}) p
            ON CONFLICT (slug) DO NOTHING RETURNING id""",
        (
            spec["slug"],
            spec["title"],
            spec["description"],
            spec["kind"],
            opens,
            closes,
            spec["geometry_types"],
            spec["kinds"],
            code,
        ),  # fmt: skip
    ).fetchone()
    if row is None:
        return None
    k = int(row[0])
    for order, (slug, label, color, icon) in enumerate(spec["themes"]):
        conn.execute(
            """INSERT INTO concertation_theme (concertation_id, slug, label, color, icon,
                   description, sort_order) VALUES (%s, %s, %s, %s, %s, '', %s)""",
            (k, slug, label, color, icon, order),
        )
    phases = [
        ("information", opens - timedelta(days=20)),
        ("contribution", opens),
        ("analyse", closes),
        ("restitution", closes + timedelta(days=45)),
    ]
    for phase, start in phases:
        conn.execute(
            "INSERT INTO concertation_phase (concertation_id, phase, starts_at, description) "
            "VALUES (%s, %s, %s, '')",
            (k, phase, start),
        )
    return k


def _organise(conn: psycopg.Connection, k: int, authority_sql: str, code: str) -> int:
    row = conn.execute(authority_sql, (code,)).fetchone()
    assert row is not None, f"demo territory {code} missing"
    conn.execute(
        "INSERT INTO concertation_authority (concertation_id, authority_id) VALUES (%s, %s) "
        "ON CONFLICT DO NOTHING",
        (k, row[0]),
    )
    return int(row[0])


def load_concertations_demo(
    conn: psycopg.Connection, config: dict[str, Any], console: Console | None
) -> None:
    """The demo step appended to `carto.demo.extensions.STEPS`."""
    accounts = demo_accounts(conn)
    plu = _create(conn, PLU, "SELECT geom FROM intercommunalite WHERE siren = %s", MEL_SIREN)
    if plu is not None:
        authority = _organise(
            conn, plu, "SELECT authority_id FROM intercommunalite WHERE siren = %s", MEL_SIREN
        )
        seed_plu(conn, plu, accounts, authority)
        plu_layers(conn, plu)
    trees = _create(conn, TREES, "SELECT geom FROM commune WHERE insee = %s", LYON_INSEE)
    if trees is not None:
        authority = _organise(
            conn, trees, "SELECT authority_id FROM commune WHERE insee = %s", LYON_INSEE
        )
        seed_trees(conn, trees, accounts, authority)
    # Keep the demo open whatever the day it is loaded again.
    conn.execute(
        """UPDATE concertation SET closes_at = now() + interval '60 days'
           WHERE is_demo AND archived_at IS NULL AND closes_at < now() + interval '30 days'"""
    )
    conn.execute(
        """UPDATE concertation_phase p
              SET starts_at = k.closes_at + CASE p.phase WHEN 'analyse' THEN interval '0 days'
                                                         ELSE interval '45 days' END
             FROM concertation k
            WHERE k.id = p.concertation_id AND k.is_demo AND k.archived_at IS NULL
              AND p.phase IN ('analyse', 'restitution') AND p.starts_at < k.closes_at"""
    )
    if console:
        console.print(
            "Concertations de démo : « PLU de la MEL », « Planter un arbre à Lyon » "
            f"(modération : moderateur@{DOMAIN})"
        )
