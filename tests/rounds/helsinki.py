"""A test territory around the shipped Helsinki extract (tests/data/helsinki.osm.pbf).

The demo's territories are French and no French street extract ships with the
repository, so the round tests add one commune over the extract, as a deployment
would add a territory: an authority, its commune polygon (INSEE-style code 99105,
COG's code for Finland), two services, commune-level competence rules, and staff
accounts. Tickets are then filed through the real intake API and routed by the
competence table like any other.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, text

from carto.credentials import hash_password

HELSINKI_PBF = Path(__file__).resolve().parents[1] / "data" / "helsinki.osm.pbf"
INSEE = "99105"
# The commune polygon covers the extract and some sea to its south (no street there).
ENVELOPE = (24.925, 60.150, 24.965, 60.185)
DEPOT = (24.9394, 60.1699)  # near Kaivopiha, central Helsinki
AT_SEA = (24.945, 60.155)  # inside the commune, ~1 km from the nearest street
# Points along streets of the extract (lon, lat), a few tens of metres apart at least.
STOPS = [
    (24.9410, 60.1712), (24.9458, 60.1688), (24.9502, 60.1675), (24.9375, 60.1660),
    (24.9440, 60.1745), (24.9520, 60.1720), (24.9365, 60.1730), (24.9480, 60.1650),
]  # fmt: skip
AGENT = "agent.voirie@helsinki.test"
OTHER_AGENT = "agent.proprete@helsinki.test"
ADMIN = "admin@helsinki.test"
PASSWORD = "helsinki-essai"


@dataclass(frozen=True)
class Territory:
    authority_id: int
    voirie_id: int
    proprete_id: int


def add_territory(conn: Connection) -> Territory:
    """Insert the test territory and its accounts (the caller commits or rolls back)."""
    authority = conn.execute(
        text("INSERT INTO authority (slug, name, kind, code) VALUES "
             "('helsinki-essai', 'Helsinki (territoire d''essai)', 'commune', :c) RETURNING id"),
        {"c": INSEE},
    ).scalar_one()  # fmt: skip
    conn.execute(
        text("INSERT INTO commune (insee, nom, authority_id, geom) VALUES (:c, 'Helsinki', :a, "
             "ST_Multi(ST_MakeEnvelope(:w, :s, :e, :n, 4326)))"),
        {"c": INSEE, "a": authority, "w": ENVELOPE[0], "s": ENVELOPE[1], "e": ENVELOPE[2],
         "n": ENVELOPE[3]},
    )  # fmt: skip
    services = {}
    for slug, name in (("voirie", "Voirie d'essai"), ("proprete", "Propreté d'essai")):
        services[slug] = conn.execute(
            text("INSERT INTO service (authority_id, slug, name) VALUES (:a, :s, :n) RETURNING id"),
            {"a": authority, "s": slug, "n": name},
        ).scalar_one()
        conn.execute(
            text("INSERT INTO competence_rule (category_code, level, scope_kind, scope_code, "
                 "source) VALUES (:s, 'commune', 'commune', :c, 'deployment')"),
            {"s": slug, "c": INSEE},
        )  # fmt: skip
    pw = hash_password(PASSWORD)
    for email, role, service, auth in (
        (AGENT, "agent", services["voirie"], None),
        (OTHER_AGENT, "agent", services["proprete"], None),
        (ADMIN, "admin", None, authority),
    ):
        user = conn.execute(
            text("INSERT INTO app_user (email, pseudonym, password_hash, is_active, "
                 "email_verified, failed_logins) VALUES (:e, :p, :h, true, true, 0) RETURNING id"),
            {"e": email, "p": email.split("@")[0], "h": pw},
        ).scalar_one()  # fmt: skip
        conn.execute(
            text("INSERT INTO role_grant (user_id, role, service_id, authority_id) "
                 "VALUES (:u, :r, :s, :a)"),
            {"u": user, "r": role, "s": service, "a": auth},
        )  # fmt: skip
    return Territory(int(authority), int(services["voirie"]), int(services["proprete"]))


def remove_territory(conn: Connection) -> None:
    """Delete what `add_territory` and the tickets filed there left (committed tests)."""
    params = {"slug": "helsinki-essai", "c": INSEE}
    conn.execute(text("DELETE FROM signalement WHERE commune_insee = :c"), params)
    conn.execute(text("DELETE FROM competence_rule WHERE scope_code = :c"), params)
    conn.execute(
        text("DELETE FROM app_user WHERE email IN (:a, :b, :c2)"),
        {"a": AGENT, "b": OTHER_AGENT, "c2": ADMIN},
    )
    conn.execute(text("DELETE FROM commune WHERE insee = :c"), params)
    conn.execute(
        text(
            "DELETE FROM service WHERE authority_id = (SELECT id FROM authority WHERE slug = :slug)"
        ),
        params,
    )
    conn.execute(text("DELETE FROM authority WHERE slug = :slug"), params)
