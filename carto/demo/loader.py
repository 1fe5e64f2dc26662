"""Loads the demo deployment idempotently: territories, categories, services, accounts.

Every step is an upsert keyed by a natural code, so `carto demo` can run any
number of times on the same data dir and ends with the same rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import psycopg
import yaml
from rich.console import Console

from carto.credentials import hash_password
from carto.territories.importer import import_file
from carto.tiles.maintenance import vacuum_tile_tables

DEMO_PASSWORD = "demo"  # noqa: S105 - the contract's published demo password
DEMO_DOMAIN = "demo.local"
DATA = resources.files("carto.demo") / "data"


@dataclass
class DemoSummary:
    communes: int = 0
    services: int = 0
    agents: int = 0
    examples: list[str] = field(default_factory=list)

    def account_lines(self) -> list[str]:
        return [
            f"citoyen@{DEMO_DOMAIN}   citoyen",
            f"admin@{DEMO_DOMAIN}     administrateur de toutes les collectivités de démo",
            f"moderateur@{DEMO_DOMAIN} modérateur des concertations",
            f"plateforme@{DEMO_DOMAIN} administrateur de la plateforme (file « à orienter »)",
            f"agent.<code>.<collectivité>@{DEMO_DOMAIN}   {self.agents} agents, par exemple :",
            *[f"  {e}" for e in self.examples],
        ]


def demo_config() -> dict[str, Any]:
    return yaml.safe_load((DATA / "demo.yaml").read_text(encoding="utf-8"))


def _load_territories(conn: psycopg.Connection, console: Console | None) -> None:
    for name in ("communes-demo.geojson", "intercommunalites-demo.geojson"):
        with resources.as_file(DATA / name) as path:
            report = import_file(conn, Path(path))
            conn.commit()
        if console:
            console.print(f"Territoires : {name} ({report.read} entités, {report.seconds:.1f} s)")


def _territories_loaded(conn: psycopg.Connection, config: dict[str, Any]) -> bool:
    sirens = list(config["intercommunalites"])
    row = conn.execute(
        "SELECT count(*) FROM intercommunalite_member WHERE siren = ANY(%s)", (sirens,)
    ).fetchone()
    return bool(row and row[0] >= 150)


def _upsert_categories(conn: psycopg.Connection, config: dict[str, Any]) -> None:
    for order, cat in enumerate(config["categories"]):
        conn.execute(
            """INSERT INTO category (code, label, description, icon, "group", keywords,
                                     due_days, sort_order, active)
               VALUES (%(code)s, %(label)s, %(description)s, %(icon)s, %(group)s, %(keywords)s,
                       %(due_days)s, %(order)s, true)
               ON CONFLICT (code) DO UPDATE SET label = EXCLUDED.label,
                   description = EXCLUDED.description, icon = EXCLUDED.icon,
                   "group" = EXCLUDED."group", keywords = EXCLUDED.keywords,
                   due_days = EXCLUDED.due_days, sort_order = EXCLUDED.sort_order""",
            {**cat, "order": order},
        )


def _competent_authorities(
    conn: psycopg.Connection, config: dict[str, Any]
) -> list[tuple[int, str, str]]:
    """(authority id, authority slug, category code) for every demo service to create."""
    out: list[tuple[int, str, str]] = []
    for siren, table in config["competences"].items():
        interco = conn.execute(
            "SELECT a.id, a.slug FROM intercommunalite i JOIN authority a ON a.id = i.authority_id "
            "WHERE i.siren = %s",
            (siren,),
        ).fetchone()
        communes = conn.execute(
            """SELECT a.id, a.slug FROM intercommunalite_member m
               JOIN commune c ON c.insee = m.insee JOIN authority a ON a.id = c.authority_id
               WHERE m.siren = %s ORDER BY c.insee""",
            (siren,),
        ).fetchall()
        for code, level in table.items():
            if level == "intercommunalite" and interco:
                out.append((interco[0], interco[1], code))
            elif level == "commune":
                out.extend((cid, cslug, code) for cid, cslug in communes)
    return out


def _upsert_services(
    conn: psycopg.Connection, config: dict[str, Any], targets: list[tuple[int, str, str]]
) -> dict[tuple[int, str], int]:
    names = {c["code"]: c["service"] for c in config["categories"]}
    ids: dict[tuple[int, str], int] = {}
    for authority_id, slug, code in targets:
        row = conn.execute(
            """INSERT INTO service (authority_id, slug, name, email)
               VALUES (%s, %s, %s, %s)
               ON CONFLICT (authority_id, slug) DO UPDATE SET name = EXCLUDED.name
               RETURNING id""",
            (authority_id, code, names[code], f"{code}.{slug}@services.{DEMO_DOMAIN}"),
        ).fetchone()
        assert row is not None
        ids[(authority_id, code)] = row[0]
    return ids


def _upsert_user(conn: psycopg.Connection, email: str, pseudonym: str, password_hash: str) -> int:
    row = conn.execute(
        """INSERT INTO app_user (email, pseudonym, password_hash, is_active, email_verified)
           VALUES (%s, %s, %s, true, true)
           ON CONFLICT (email) DO UPDATE SET is_active = true
           RETURNING id""",
        (email, pseudonym, password_hash),
    ).fetchone()
    assert row is not None
    return int(row[0])


def _grant(conn: psycopg.Connection, user_id: int, role: str, *, service_id: int | None = None,
           authority_id: int | None = None) -> None:  # fmt: skip
    conn.execute(
        """INSERT INTO role_grant (user_id, role, service_id, authority_id)
           SELECT %(u)s::int, %(r)s::varchar, %(s)s::int, %(a)s::int WHERE NOT EXISTS (
             SELECT 1 FROM role_grant WHERE user_id = %(u)s AND role = %(r)s
               AND service_id IS NOT DISTINCT FROM %(s)s
               AND authority_id IS NOT DISTINCT FROM %(a)s)""",
        {"u": user_id, "r": role, "s": service_id, "a": authority_id},
    )


def _upsert_accounts(
    conn: psycopg.Connection,
    targets: list[tuple[int, str, str]],
    services: dict[tuple[int, str], int],
) -> DemoSummary:
    # One hash for every demo account: argon2 costs ~50 ms a call, and there are hundreds.
    pw = hash_password(DEMO_PASSWORD)
    citizen = _upsert_user(conn, f"citoyen@{DEMO_DOMAIN}", "Camille (démo)", pw)
    _grant(conn, citizen, "citizen")
    admin = _upsert_user(conn, f"admin@{DEMO_DOMAIN}", "Administration (démo)", pw)
    _grant(conn, admin, "citizen")
    for authority_id in sorted({t[0] for t in targets}):
        _grant(conn, admin, "admin", authority_id=authority_id)
    platform = conn.execute("SELECT id FROM authority WHERE kind = 'plateforme'").fetchone()
    if platform is not None:  # migration y001: sees the « à orienter » queue of all France
        operator = _upsert_user(conn, f"plateforme@{DEMO_DOMAIN}", "Plateforme (démo)", pw)
        _grant(conn, operator, "admin", authority_id=platform[0])
    summary = DemoSummary(services=len(services))
    for authority_id, slug, code in targets:
        email = f"agent.{code}.{slug}@{DEMO_DOMAIN}"
        user = _upsert_user(conn, email, f"Agent {code} {slug}", pw)
        _grant(conn, user, "agent", service_id=services[(authority_id, code)])
        summary.agents += 1
    wanted = [
        f"agent.voirie.mel@{DEMO_DOMAIN}",
        f"agent.proprete.roubaix@{DEMO_DOMAIN}",
        f"agent.proprete.lyon-metropole@{DEMO_DOMAIN}",
        f"agent.eclairage.lyon@{DEMO_DOMAIN}",
        f"agent.eclairage.gpso@{DEMO_DOMAIN}",
        f"agent.espaces-verts.boulogne-billancourt@{DEMO_DOMAIN}",
    ]
    summary.examples = [
        e for e in wanted if any(e == f"agent.{c}.{s}@{DEMO_DOMAIN}" for _, s, c in targets)
    ]
    return summary


def load_demo(url: str, *, console: Console | None = None, france: bool = False) -> DemoSummary:
    """Bring the database at `url` to the demo state; safe to call again. `france`: also
    every French commune and intercommunality (`carto demo`; tests keep the three only)."""
    config = demo_config()
    with psycopg.connect(url) as conn:
        conn.execute("SELECT pg_advisory_lock(hashtext('carto-demo-load'))")
        if not _territories_loaded(conn, config):
            _load_territories(conn, console)
        for siren, attrs in config["intercommunalites"].items():
            conn.execute(
                "UPDATE authority SET slug = %s FROM intercommunalite i "
                "WHERE i.authority_id = authority.id AND i.siren = %s AND authority.slug <> %s",
                (attrs["slug"], siren, attrs["slug"]),
            )
        _upsert_categories(conn, config)
        targets = _competent_authorities(conn, config)
        services = _upsert_services(conn, config, targets)
        summary = _upsert_accounts(conn, targets, services)
        summary.communes = conn.execute("SELECT count(*) FROM commune").fetchone()[0]  # type: ignore[index]
        _load_extensions(conn, config, console)
        conn.commit()
        if france:
            from carto.demo.national import load_france_demo

            load_france_demo(conn, console)
            conn.commit()
        conn.execute("SELECT pg_advisory_unlock(hashtext('carto-demo-load'))")
    vacuum_tile_tables(url)  # a bulk load: its tile rows all-visible (maintenance.py)
    return summary


def _load_extensions(
    conn: psycopg.Connection, config: dict[str, Any], console: Console | None
) -> None:
    """Hook for the feature packages' demo data (competence table, signalements, concertations)."""
    from carto.demo import extensions

    for step in extensions.STEPS:
        step(conn, config, console)
