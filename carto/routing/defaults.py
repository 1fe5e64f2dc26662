"""The national default competences (defaults.yaml) as `source = 'national'` rule rows.

Defaults are data, versioned like any rule: a changed entry closes the old row and
opens a new one, so a ticket routed by a default keeps pointing at the text that
was in force. Categories the deployment does not have are skipped.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

import psycopg
import yaml
from psycopg.types.json import Jsonb

from carto.errors import ImportFailed

UNCERTAIN = "règle incertaine"
DEFAULT_LEVELS = ("commune", "intercommunalite", "departement", "etat")  # never a named one
INFORM_LEVELS = ("commune", "intercommunalite", "departement")
PLATFORM_DESK = "File « à orienter »"  # the platform's service: where `etat` reports wait


def default_rules() -> list[dict[str, Any]]:
    """The shipped table, flattened: one dict per rule with its category."""
    text = (resources.files("carto.routing") / "defaults.yaml").read_text(encoding="utf-8")
    out = []
    for category, rules in yaml.safe_load(text).items():
        for rule in rules:
            if rule.get("level") not in DEFAULT_LEVELS or not rule.get("basis"):
                raise ImportFailed(f"defaults.yaml, {category} : niveau ou base légale manquant")
            caveat = rule.get("caveat")
            if rule.get("uncertain"):
                caveat = f"{UNCERTAIN}{' : ' + caveat if caveat else ''}"
            out.append({"category": category, "level": rule["level"],
                        "epci_kind": rule.get("epci_kind"), "basis": rule["basis"],
                        "caveat": caveat, "road_class": rule.get("road_class"),
                        "inform": _inform(rule.get("inform"), category),
                        "note": rule.get("note")})  # fmt: skip
    return out


def _inform(value: Any, category: str) -> list[dict[str, Any]]:
    """`inform: [{level, service?}]` as the rule's JSON (the places' own authorities only)."""
    out = []
    for item in value or []:
        if not isinstance(item, dict) or item.get("level") not in INFORM_LEVELS:
            raise ImportFailed(f"defaults.yaml, {category} : entrée `inform` invalide ({item!r})")
        out.append({"level": item["level"], "service": item.get("service"), "authority_id": None})
    return out


def ensure_platform_desk(conn: psycopg.Connection) -> int:
    """The platform's service, which holds the reports of the État's roads (level `etat`)
    in the « à orienter » queue; no e-mail: nothing is sent from it."""
    return conn.execute(
        """INSERT INTO service (authority_id, slug, name)
           SELECT a.id, 'contact', %s FROM authority a WHERE a.kind = 'plateforme'
           ON CONFLICT (authority_id, slug) DO NOTHING""",
        (PLATFORM_DESK,),
    ).rowcount


def load_defaults(conn: psycopg.Connection) -> dict[str, int]:
    """Upsert the national rules; returns how many were added, kept and closed."""
    ensure_platform_desk(conn)
    categories = {row[0] for row in conn.execute("SELECT code FROM category")}
    current = {
        (row[1], row[2] or "", row[6] or ""): row
        for row in conn.execute(
            """SELECT id, category_code, epci_kind, level, legal_basis, caveat, road_class,
                      inform, note
               FROM competence_rule WHERE source = 'national' AND valid_to IS NULL"""
        )
    }
    counts = {"added": 0, "kept": 0, "closed": 0}
    wanted = set()
    for rule in default_rules():
        if rule["category"] not in categories:
            continue
        key = (rule["category"], rule["epci_kind"] or "", rule["road_class"] or "")
        wanted.add(key)
        old = current.get(key)
        wording = (rule["level"], rule["basis"], rule["caveat"], rule["inform"], rule["note"])
        if old is not None and (*old[3:6], list(old[7] or []), old[8]) == wording:
            counts["kept"] += 1
            continue
        if old is not None:
            conn.execute("UPDATE competence_rule SET valid_to = now() WHERE id = %s", (old[0],))
            counts["closed"] += 1
        conn.execute(
            """INSERT INTO competence_rule (category_code, level, scope_kind, epci_kind,
                   road_class, legal_basis, caveat, source, replaces_id, valid_from, inform,
                   note)
               VALUES (%s, %s, 'everywhere', %s, %s, %s, %s, 'national', %s,
                       CASE WHEN %s THEN now() END, %s, %s)""",
            (rule["category"], rule["level"], rule["epci_kind"], rule["road_class"],
             rule["basis"], rule["caveat"], old[0] if old else None, old is not None,
             Jsonb(rule["inform"]), rule["note"]),
        )  # fmt: skip
        counts["added"] += 1
    for key, old in current.items():
        if key not in wanted and key[0] in categories:
            conn.execute("UPDATE competence_rule SET valid_to = now() WHERE id = %s", (old[0],))
            counts["closed"] += 1
    return counts
