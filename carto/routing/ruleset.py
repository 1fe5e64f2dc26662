"""The competence rules, services and memberships as one in-memory rule set, cached per process.

The single-report query only locates the point (commune, arrondissement) and reads
the `routing_version` stamp; the rules that apply there are chosen here, by the
same code the bulk path uses, from a rule set loaded in ONE statement (one
snapshot) and kept until the stamp changes, with the places' postcodes and, per
commune, category and rule period, the candidates once computed. Any write to the
underlying tables stamps a new random version (migrations r002, r003), so every
process sees a change on its next report, and a rolled-back change is never
mistaken for a later one.
"""

from __future__ import annotations

import bisect
import json
import threading
from collections import OrderedDict, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from carto.routing.decision import (
    Candidate,
    CategoryInfo,
    InformedService,
    assemble,
    dedupe_informed,
    of,
    with_article,
)

SCOPE_RANK = {"commune": 0, "intercommunalite": 1, "departement": 2, "everywhere": 3}
CACHED_VERSIONS = 4
# Candidate lists kept per rule set (about 0.9 kB each: ~26 MB when full, then cleared);
# reports gather in towns, so the communes met again are most of them.
MEMO_SIZE = 30_000
CONTACT_SLUG = "contact"  # every territorial authority's front desk (territories/france.py)

LOAD_SQL = """
SELECT (SELECT v.version::text FROM routing_version v) AS version,
  (SELECT coalesce(json_agg(json_build_array(r.id, r.category_code, r.level, r.authority_id,
          r.scope_kind, r.scope_code, r.road_class, coalesce(r.service_slug, r.category_code),
          r.inform, r.valid_from, r.valid_to, r.source, r.epci_kind, r.legal_basis, r.caveat,
          r.note)),
          '[]') FROM competence_rule r)::text AS rules,
  (SELECT coalesce(json_agg(json_build_array(s.id, s.authority_id, s.slug, s.name, s.email)),
          '[]') FROM service s)::text AS services,
  (SELECT coalesce(json_agg(json_build_array(a.id, a.name)), '[]') FROM authority a)::text
      AS authorities,
  (SELECT coalesce(json_agg(json_build_array(c.code, c.label, c.domain, c.due_days)), '[]')
     FROM category c WHERE c.active)::text AS categories,
  (SELECT coalesce(json_agg(json_build_array(m.insee, i.siren, i.nom, i.authority_id,
          c.epci_siren, i.kind) ORDER BY m.insee, i.siren), '[]')
     FROM intercommunalite_member m JOIN intercommunalite i ON i.siren = m.siren
     JOIN commune c ON c.insee = m.insee)::text AS members,
  (SELECT coalesce(json_agg(json_build_array(d.code, d.authority_id)), '[]')
     FROM departement d)::text AS departements,
  (SELECT min(a.id) FROM authority a WHERE a.kind = 'plateforme') AS platform,
  (SELECT coalesce(json_object_agg(p.insee, p.postcode), '{}')
     FROM (SELECT gp.insee, min(gp.postcode) AS postcode FROM geocode_postcode gp
           GROUP BY gp.insee HAVING count(*) = 1) p)::text AS postcodes
"""


@dataclass(frozen=True)
class Member:
    siren: str
    nom: str
    authority_id: int
    kind: str = ""


@dataclass
class RuleSet:
    """Everything the choice of a rule needs, keyed for lookups; all periods kept."""

    version: str | None
    rules: dict[str, list[dict[str, Any]]]  # by category code
    services: dict[tuple[int, str], tuple[int, str, str | None]]  # (authority, slug)
    authorities: dict[int, str]
    categories: dict[str, CategoryInfo]
    members: dict[str, list[Member]]  # by INSEE code: own EPCI first, then by SIREN
    departements: dict[str, int] = field(default_factory=dict)  # code -> authority id
    # The platform (migration y001): the État has no account, so a default of level
    # `etat` (its roads) hands the report to the platform's « à orienter » queue.
    platform: int | None = None
    # INSEE code (commune or arrondissement) -> its postcode, when it has a single one
    # (never the INSEE code itself: Lille is 59350 for INSEE, 59000, 59160... for La Poste).
    postcodes: dict[str, str] = field(default_factory=dict)
    # (category, scope kind, scope code) -> rules: a report looks at its own scopes only,
    # not at every rule of the category (hundreds of commune-scoped ones nationwide).
    by_scope: dict[tuple[str, str, str | None], list[dict[str, Any]]] = field(
        init=False, repr=False
    )
    # Per category, the rules' start and end dates, sorted: between two of them the
    # rules in force are the same (the bulk path's periods too).
    bounds: dict[str, list[datetime]] = field(init=False, repr=False)
    precedence: dict[int, tuple[Any, ...]] = field(init=False, repr=False)  # by rule id
    # `candidates_cached`'s lists, dropped with the rule set when the stamp changes.
    memo: dict[tuple[Any, ...], list[Candidate]] = field(
        init=False, repr=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        self.by_scope = defaultdict(list)
        self.bounds = {}
        self.precedence = {}
        for category, rules in self.rules.items():
            for r in rules:
                self.by_scope[(category, r["scope_kind"], r["scope_code"])].append(r)
                self.precedence[r["id"]] = _precedence(r)
            dates = {d for r in rules for d in (r["valid_from"], r["valid_to"]) if d is not None}
            self.bounds[category] = sorted(dates)

    def period(self, category: str, at: datetime) -> int:
        """Which stretch between the category's rules' dates holds `at`."""
        return bisect.bisect_right(self.bounds.get(category, ()), at)

    def in_force(self, category: str, at: datetime) -> list[dict[str, Any]]:
        return [r for r in self.rules.get(category, []) if _valid(r, at)]

    def in_force_at(
        self, category: str, at: datetime, commune: dict[str, Any], sirens: set[str]
    ) -> list[dict[str, Any]]:
        """The rules in force `at` whose scope contains the commune (any EPCI kind)."""
        scopes = [("commune", commune["insee"]), ("departement", commune["departement"]),
                  ("everywhere", None), *(("intercommunalite", s) for s in sirens)]  # fmt: skip
        get = self.by_scope.get
        return [
            r for kind, code in scopes for r in get((category, kind, code), ()) if _valid(r, at)
        ]


def _valid(rule: dict[str, Any], at: datetime) -> bool:
    start, end = rule["valid_from"], rule["valid_to"]
    return (start is None or start <= at) and (end is None or end > at)


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value is not None else None


def _rule(row: list[Any]) -> dict[str, Any]:
    keys = ("id", "category_code", "level", "authority_id", "scope_kind", "scope_code",
            "road_class", "service_slug", "inform")  # fmt: skip
    rule = dict(zip(keys, row[:9], strict=True))
    rule["valid_from"], rule["valid_to"] = _when(row[9]), _when(row[10])
    rule["source"], rule["epci_kind"], rule["legal_basis"], rule["caveat"] = row[11:15]
    rule["note"] = row[15] if len(row) > 15 else None
    return rule


def ruleset_from_row(row: Any) -> RuleSet:
    """A RuleSet from LOAD_SQL's single row (a mapping; JSON columns as text)."""
    rules: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in json.loads(row["rules"]):
        rule = _rule(item)
        rules[rule["category_code"]].append(rule)
    members: dict[str, list[Member]] = defaultdict(list)
    epci: dict[str, str | None] = {}
    for insee, siren, nom, authority_id, epci_siren, kind in json.loads(row["members"]):
        members[insee].append(Member(siren, nom, authority_id, kind))
        epci[insee] = epci_siren
    for insee, items in members.items():  # the commune's own EPCI first, then by SIREN
        items.sort(key=lambda m, e=epci[insee]: (m.siren != e, m.siren))  # type: ignore[misc]
    return RuleSet(
        version=row["version"],
        rules=dict(rules),
        services={
            (a, slug): (i, name, email) for i, a, slug, name, email in json.loads(row["services"])
        },  # fmt: skip
        authorities={i: name for i, name in json.loads(row["authorities"])},
        categories={c[0]: CategoryInfo(*c) for c in json.loads(row["categories"])},
        members=dict(members),
        departements={code: a for code, a in json.loads(row["departements"])},
        platform=row["platform"],
        postcodes=json.loads(row["postcodes"]),
    )


class RuleSetCache:
    """The last few rule sets by version stamp (several databases may share a process)."""

    def __init__(self, size: int = CACHED_VERSIONS) -> None:
        self._items: OrderedDict[str, RuleSet] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, version: str | None) -> RuleSet | None:
        if version is None:
            return None
        with self._lock:
            found = self._items.get(version)
            if found is not None:
                self._items.move_to_end(version)
            return found

    def put(self, ruleset: RuleSet) -> None:
        if ruleset.version is None:
            return
        with self._lock:
            self._items[ruleset.version] = ruleset
            self._items.move_to_end(ruleset.version)
            while len(self._items) > self._size:
                self._items.popitem(last=False)


CACHE = RuleSetCache()


def _rule_applies(
    rule: dict[str, Any], commune: dict[str, Any], sirens: set[str], kinds: set[str]
) -> bool:
    if rule["epci_kind"] is not None and rule["epci_kind"] not in kinds:
        return False
    kind, code = rule["scope_kind"], rule["scope_code"]
    if kind == "everywhere":
        return True
    if kind == "commune":
        return bool(code == commune["insee"])
    if kind == "departement":
        return bool(code == commune["departement"])
    return kind == "intercommunalite" and code in sirens


def _precedence(rule: dict[str, Any]) -> tuple[Any, ...]:
    """The authorities' own rules before the national defaults; then road-class rules,
    then commune, intercommunality, département and nationwide scopes, then (defaults)
    an EPT's rule before its métropole's and kind-specific before general ones, then
    the most recent start, then the id (as the SQL once did).

    The État's roads (level `etat`) rank with the authorities' road-class rules: a
    métropole's rule for all its voirie does not take a route nationale or an autoroute
    (never its own), while its rule for that road class (an RN transferred to it) wins."""
    start = rule["valid_from"]
    kind = rule["epci_kind"]
    return (
        rule["source"] == "national" and rule["level"] != "etat",
        rule["road_class"] is None,
        SCOPE_RANK[rule["scope_kind"]],
        0 if kind == "EPT" else 1 if kind else 2,
        (0, -start.timestamp()) if start is not None else (1, 0.0),
        rule["id"],
    )


def _designated(rule: dict[str, Any], members: list[Member]) -> Member | None:
    """The intercommunality a rule speaks of at this commune."""
    if rule["scope_kind"] == "intercommunalite":
        return next((m for m in members if m.siren == rule["scope_code"]), None)
    if rule["epci_kind"] is not None:
        return next((m for m in members if m.kind == rule["epci_kind"]), None)
    return members[0] if members else None


def _caveat(rule: dict[str, Any], ic: Member | None) -> str | None:
    text = rule["caveat"]
    if not text:
        return None
    if ic is None:
        return str(text).replace("{interco}", "l'intercommunalité")
    return str(text).replace("de {interco}", of(ic.nom)).replace("{interco}", with_article(ic.nom))


def _informed(
    rs: RuleSet, rule: dict[str, Any], commune: dict[str, Any], ic: Member | None,
    service_id: int | None,
) -> tuple[InformedService, ...]:  # fmt: skip
    out = []
    for item in rule["inform"] or []:
        level = item.get("level")
        named = item.get("authority_id")
        authority_id = {
            "commune": commune["authority_id"],
            "intercommunalite": ic.authority_id if ic else None,
            "departement": rs.departements.get(commune["departement"]),
            "authority": int(named) if named is not None else None,
        }.get(level)
        if authority_id is None or authority_id not in rs.authorities:
            continue
        found = rs.services.get((authority_id, item.get("service") or rule["category_code"]))
        if found is None or found[0] == service_id:
            continue
        out.append(
            InformedService(
                found[0], found[1], authority_id, rs.authorities[authority_id], rule.get("note")
            )
        )
    return dedupe_informed(out)


def candidates_for(
    rs: RuleSet, commune: dict[str, Any], category: str, at: datetime, *, roads: bool = True
) -> list[Candidate]:
    """The rules in force `at` at a commune (insee, departement, authority_id) for a
    category, in precedence order, each with the authority and service it designates,
    up to the first one valid on every road (`decision.choose` never looks further).
    `roads=False` (no road class can be known: no street extract, none given) passes
    road-class rules over, as `choose` would: a report off any RD pays nothing for them."""
    members = rs.members.get(commune["insee"], [])
    sirens, kinds = {m.siren for m in members}, {m.kind for m in members}
    rules = sorted(
        (
            r
            for r in rs.in_force_at(category, at, commune, sirens)
            if (roads or r["road_class"] is None) and _rule_applies(r, commune, sirens, kinds)
        ),  # fmt: skip
        key=lambda r: rs.precedence[r["id"]],
    )
    out = []
    for rule in rules:
        ic = _designated(rule, members)
        level = rule["level"]
        if level == "commune":
            authority_id = commune["authority_id"]
        elif level == "intercommunalite":
            authority_id = ic.authority_id if ic else None
        elif level == "departement":
            authority_id = rs.departements.get(commune["departement"])
        elif level == "authority":
            authority_id = rule["authority_id"]
        elif level == "etat":
            authority_id = rs.platform
        else:
            raise KeyError(level)  # as the table lookup did: a level the code does not know
        name = rs.authorities.get(authority_id) if authority_id is not None else None
        national = rule["source"] == "national"
        if national and rule["level"] in ("departement", "etat") and name is None:
            continue  # départements not imported (no platform): the next default applies
        service = rs.services.get((authority_id, rule["service_slug"])) if name else None
        via_contact = service is None and bool(name) and national
        if via_contact:  # defaults reach the authority's front desk
            service = rs.services.get((authority_id, CONTACT_SLUG))
        out.append(
            assemble(
                Candidate,
                rule_id=rule["id"], level=rule["level"], road_class=rule["road_class"],
                valid_from=rule["valid_from"],
                interco_siren=ic.siren if ic else None, interco_nom=ic.nom if ic else None,
                authority_id=authority_id if name else None, authority_name=name,
                service_id=service[0] if service else None,
                service_name=service[1] if service else None,
                service_slug=rule["service_slug"],
                service_email=service[2] if service else None,
                informed=_informed(rs, rule, commune, ic, service[0] if service else None),
                national=national, legal_basis=rule["legal_basis"],
                via_contact=via_contact and service is not None,
                caveat=_caveat(rule, ic),
            )
        )  # fmt: skip
        if rule["road_class"] is None:
            break  # it applies on every road: no later candidate can ever be chosen
    return out


def candidates_cached(
    rs: RuleSet, commune: dict[str, Any], category: str, at: datetime, *, roads: bool = True
) -> list[Candidate]:
    """`candidates_for`, computed once per commune, category and period of the rule set:
    a report pays one dictionary lookup instead of choosing and sorting the rules and
    building their candidates. The list is shared: never mutate it."""
    if at.tzinfo is None:  # not comparable with the rules' dates: as uncached
        return candidates_for(rs, commune, category, at, roads=roads)
    key = (commune["insee"], commune["departement"], commune["authority_id"], category, roads,
           rs.period(category, at))  # fmt: skip
    found = rs.memo.get(key)
    if found is None:
        found = candidates_for(rs, commune, category, at, roads=roads)
        if len(rs.memo) >= MEMO_SIZE:
            rs.memo.clear()
        rs.memo[key] = found
    return found
