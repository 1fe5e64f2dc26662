"""The competence table of a deployment file (YAML), and its idempotent load.

Two sections are read. `competences` is the contract's simple table, one block
per intercommunality (by SIREN) giving the competent level per category; the
demo loader also creates services from it. `competence_rules` (optional) holds
everything else: rules scoped to a commune, a département or everywhere, named
authorities, road classes, validity periods and services to inform. An entry of
`competence_rules` without a `level` completes the table's rule of the same
category and scope instead of adding one.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from psycopg.types.json import Jsonb

from carto.errors import ImportFailed
from carto.routing.models import AUTHORED_LEVELS, SCOPE_KINDS

PARIS = ZoneInfo("Europe/Paris")
INFORM_LEVELS = ("commune", "intercommunalite", "departement", "authority")


@dataclass(frozen=True)
class RuleSpec:
    """One competence rule as written in a deployment file (authorities by slug)."""

    category: str
    level: str
    scope_kind: str
    scope_code: str | None
    authority: str | None = None
    road_class: str | None = None
    service: str | None = None
    inform: tuple[tuple[str, str | None, str | None], ...] = field(default_factory=tuple)
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    note: str | None = None

    @property
    def key(self) -> tuple[str, str, str | None, str | None, datetime | None]:
        """What identifies a deployment rule across loads of the same file."""
        return (self.category, self.scope_kind, self.scope_code, self.road_class, self.valid_from)


def as_datetime(value: object, what: str) -> datetime | None:
    """A YAML date (midnight, Paris time) or datetime (naive: Paris time) as aware datetime."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=PARIS)
    if isinstance(value, date):
        return datetime.combine(value, time(0), tzinfo=PARIS)
    try:
        return as_datetime(datetime.fromisoformat(str(value)), what)
    except ValueError as exc:
        raise ImportFailed(f"{what} : date invalide « {value} » (AAAA-MM-JJ attendu)") from exc


def parse_scope(value: object, where: str) -> tuple[str, str | None]:
    """`everywhere`, or a one-key mapping {intercommunalite|commune|departement: code}."""
    if value in (None, "everywhere", "partout"):
        return "everywhere", None
    if isinstance(value, dict) and len(value) == 1:
        kind, code = next(iter(value.items()))
        if kind in SCOPE_KINDS and kind != "everywhere" and code not in (None, ""):
            return str(kind), str(code)
    raise ImportFailed(
        f"{where} : portée invalide ({value!r}) ; attendu `everywhere` ou "
        "{intercommunalite: SIREN}, {commune: INSEE} ou {departement: code}"
    )


def parse_inform(value: object, where: str) -> tuple[tuple[str, str | None, str | None], ...]:
    """[{level, service?, authority?}] -> ((level, service slug, authority slug), ...)."""
    if value in (None, []):
        return ()
    if not isinstance(value, list):
        raise ImportFailed(f"{where} : `inform` doit être une liste")
    out = []
    for item in value:
        entry = {"level": item} if isinstance(item, str) else item
        if not isinstance(entry, dict) or entry.get("level") not in INFORM_LEVELS:
            raise ImportFailed(f"{where} : entrée `inform` invalide ({item!r})")
        if entry["level"] == "authority" and not entry.get("authority"):
            raise ImportFailed(f"{where} : `inform` de niveau authority sans `authority`")
        out.append((str(entry["level"]), entry.get("service"), entry.get("authority")))
    return tuple(out)


def _table_specs(config: dict[str, Any]) -> list[RuleSpec]:
    specs = []
    for siren, table in (config.get("competences") or {}).items():
        for category, level in table.items():
            if level not in ("commune", "intercommunalite"):
                raise ImportFailed(f"competences.{siren}.{category} : niveau inconnu {level!r}")
            specs.append(RuleSpec(str(category), str(level), "intercommunalite", str(siren)))
    return specs


def _rule_spec(entry: dict[str, Any], where: str) -> RuleSpec:
    if not isinstance(entry, dict) or not entry.get("category"):
        raise ImportFailed(f"{where} : `category` manquante")
    scope_kind, scope_code = parse_scope(entry.get("scope"), where)
    level = entry.get("level") or ""
    if level and level not in AUTHORED_LEVELS:
        raise ImportFailed(
            f"{where} : niveau inconnu {level!r} "
            "(commune, intercommunalite, departement, authority)"
        )
    if (level == "authority") != bool(entry.get("authority")):
        raise ImportFailed(f"{where} : `authority` va avec le niveau authority, et seulement lui")
    return RuleSpec(
        category=str(entry["category"]),
        level=str(level),
        scope_kind=scope_kind,
        scope_code=scope_code,
        authority=entry.get("authority"),
        road_class=entry.get("road_class"),
        service=entry.get("service"),
        inform=parse_inform(entry.get("inform"), where),
        valid_from=as_datetime(entry.get("valid_from"), where),
        valid_to=as_datetime(entry.get("valid_to"), where),
        note=entry.get("note"),
    )


def rules_from_config(config: dict[str, Any]) -> list[RuleSpec]:
    """Every rule of a deployment file, the simple table completed by `competence_rules`."""
    specs = _table_specs(config)
    for n, entry in enumerate(config.get("competence_rules") or []):
        where = f"competence_rules[{n}]"
        spec = _rule_spec(entry, where)
        if spec.level:
            specs.append(spec)
            continue
        target = next(
            (i for i, s in enumerate(specs)
             if (s.category, s.scope_kind, s.scope_code) == (spec.category, spec.scope_kind,
                                                              spec.scope_code)),
            None,
        )  # fmt: skip
        if target is None:
            raise ImportFailed(f"{where} : sans `level`, il complète une règle du tableau : aucune")
        base = specs[target]
        specs[target] = replace(
            base,
            service=spec.service or base.service,
            inform=spec.inform or base.inform,
            valid_from=spec.valid_from or base.valid_from,
            valid_to=spec.valid_to or base.valid_to,
            note=spec.note or base.note,
        )
    for spec in specs:
        if spec.valid_from and spec.valid_to and spec.valid_from >= spec.valid_to:
            raise ImportFailed(f"règle {spec.category} : valid_from doit précéder valid_to")
    return specs


def _authority_ids(conn: psycopg.Connection, slugs: set[str]) -> dict[str, int]:
    rows = conn.execute("SELECT slug, id FROM authority WHERE slug = ANY(%s)", (list(slugs),))
    found: dict[str, int] = {str(slug): int(i) for slug, i in rows.fetchall()}
    missing = slugs - set(found)
    if missing:
        raise ImportFailed(
            "collectivités inconnues dans les règles : " + ", ".join(sorted(missing))
        )
    return found


def _inform_json(spec: RuleSpec, ids: dict[str, int]) -> list[dict[str, Any]]:
    return [
        {"level": level, "service": service, "authority_id": ids[authority] if authority else None}
        for level, service, authority in spec.inform
    ]


def upsert_rules(conn: psycopg.Connection, specs: list[RuleSpec]) -> int:
    """Insert the file's rules that are missing; update those still open; returns changes.

    A deployment rule an administrator has since closed (edited or withdrawn
    through the API) is left alone: the administrator's version stands."""
    slugs = {s.authority for s in specs if s.authority}
    slugs |= {a for s in specs for _, _, a in s.inform if a}
    ids = _authority_ids(conn, slugs) if slugs else {}
    changed = 0
    for spec in specs:
        values = {
            "category": spec.category, "level": spec.level, "scope_kind": spec.scope_kind,
            "scope_code": spec.scope_code, "road_class": spec.road_class,
            "authority_id": ids[spec.authority] if spec.authority else None,
            "service": spec.service, "inform": Jsonb(_inform_json(spec, ids)),
            "valid_from": spec.valid_from, "valid_to": spec.valid_to, "note": spec.note,
        }  # fmt: skip
        row = conn.execute(
            """SELECT id, valid_to IS NOT NULL AND valid_to <= now() FROM competence_rule
               WHERE source = 'deployment' AND category_code = %(category)s
                 AND scope_kind = %(scope_kind)s
                 AND scope_code IS NOT DISTINCT FROM %(scope_code)s
                 AND road_class IS NOT DISTINCT FROM %(road_class)s
                 AND valid_from IS NOT DISTINCT FROM %(valid_from)s
               ORDER BY id LIMIT 1""",
            values,
        ).fetchone()
        if row is None:
            conn.execute(
                """INSERT INTO competence_rule (category_code, level, authority_id, scope_kind,
                       scope_code, road_class, service_slug, inform, valid_from, valid_to,
                       source, note)
                   VALUES (%(category)s, %(level)s, %(authority_id)s, %(scope_kind)s,
                       %(scope_code)s, %(road_class)s, %(service)s, %(inform)s, %(valid_from)s,
                       %(valid_to)s, 'deployment', %(note)s)""",
                values,
            )
            changed += 1
        elif not row[1]:
            changed += conn.execute(
                """UPDATE competence_rule SET level = %(level)s, authority_id = %(authority_id)s,
                       service_slug = %(service)s, inform = %(inform)s, valid_to = %(valid_to)s,
                       note = %(note)s
                   WHERE id = %(id)s AND (level, authority_id, service_slug, inform, valid_to,
                       note) IS DISTINCT FROM (%(level)s, %(authority_id)s, %(service)s,
                       %(inform)s, %(valid_to)s, %(note)s)""",
                {**values, "id": row[0]},
            ).rowcount
    return changed


def upsert_category_domains(conn: psycopg.Connection, config: dict[str, Any]) -> None:
    """Each category's noun phrase (`domaine: la voirie`), used in explanations."""
    for cat in config.get("categories") or []:
        if cat.get("domaine"):
            conn.execute(
                "UPDATE category SET domain = %s WHERE code = %s AND domain IS DISTINCT FROM %s",
                (cat["domaine"], cat["code"], cat["domaine"]),
            )
