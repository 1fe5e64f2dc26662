"""The routing decision and its explanation: pure code, shared by the single and bulk paths.

Both paths gather the same facts (where the point falls, the candidate rules in
precedence order, each with its competent authority and service already
resolved) and hand them to `decide`, so they cannot disagree on the choice or
on the wording.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, TypeVar
from zoneinfo import ZoneInfo

from carto.errors import InvalidInput

PARIS = ZoneInfo("Europe/Paris")
COMPETENCE_WORDS = {
    "commune": "communale",
    "intercommunalite": "intercommunale",
    "departement": "départementale",
}  # `etat` and `authority` are worded apart (explain)
DEFAULT = "règle par défaut"
CONFIRMED = "règle confirmée par la collectivité"
FEMININE_BODIES = ("Métropole", "Communauté", "Eurométropole", "Collectivité", "Région", "Ville de")
MASCULINE_BODIES = ("Département",)


T = TypeVar("T")
Delivery = Literal["service", "email", "queue"]


def assemble(cls: type[T], **fields: Any) -> T:
    """A frozen dataclass from ALL its fields, without `__init__`'s `object.__setattr__`
    per field (a decision's 28 were half of its Python time): the same object (fields,
    equality, hash, repr), still read-only. A forgotten field fails the tests'
    comparisons (tests/routing/test_resolve.py)."""
    obj = object.__new__(cls)
    obj.__dict__.update(fields)
    return obj


class UnknownCategory(InvalidInput):
    code = "unknown_category"


class NoCompetence(InvalidInput):
    """The point is served, but no rule or no service handles this category there."""

    code = "no_competence"


@dataclass(frozen=True)
class Place:
    """The commune (and arrondissement) a point falls in."""

    commune_insee: str
    commune_nom: str
    arrondissement_insee: str | None = None
    arrondissement_nom: str | None = None
    # The place's postcode when it has only one (never the INSEE code, which reads as
    # a wrong postcode: Lille is 59350 for INSEE, 59000, 59160... for La Poste).
    postcode: str | None = None

    def label(self) -> str:
        """'Roubaix (59100)', 'Lyon, Lyon 2e Arrondissement (69002)', or 'Lille'."""
        name = self.commune_nom
        if self.arrondissement_nom:
            name += f", {self.arrondissement_nom}"
        return f"{name} ({self.postcode})" if self.postcode else name


@dataclass(frozen=True)
class CategoryInfo:
    code: str
    label: str
    domain: str | None = None
    due_days: int = 15


@dataclass(frozen=True)
class InformedService:
    """A service told of a ticket it does not handle (e.g. the mayor's)."""

    service_id: int
    service_name: str
    authority_id: int
    authority_name: str
    reason: str | None = None  # the rule's note: why it is told ("pouvoirs de police du maire")

    def label(self) -> str:
        """'Mobilier urbain, Boulogne-Billancourt, motif : pouvoirs de police du maire'."""
        text = f"{self.service_name}, {self.authority_name}"
        return f"{text}, motif : {lower_first(self.reason)}" if self.reason else text


def lower_first(text: str) -> str:
    """'Pouvoirs de police du maire' -> 'pouvoirs de police du maire' (inside a sentence)."""
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


@dataclass(frozen=True)
class Candidate:
    """A rule in force at the point, with what it designates there."""

    rule_id: int
    level: str
    road_class: str | None
    valid_from: datetime | None
    interco_siren: str | None
    interco_nom: str | None
    authority_id: int | None
    authority_name: str | None
    service_id: int | None
    service_name: str | None
    service_slug: str | None
    informed: tuple[InformedService, ...] = ()
    service_email: str | None = None
    national: bool = False  # a legal default (defaults.yaml), not the authority's own rule
    via_contact: bool = False  # the authority has no service of its own: its front desk
    legal_basis: str | None = None
    caveat: str | None = None


@dataclass(frozen=True)
class RoutingDecision:
    """Who handles a report at a point, who is told, and why, in plain French."""

    lon: float
    lat: float
    at: datetime
    category_code: str
    category_label: str
    commune_insee: str
    commune_nom: str
    arrondissement_insee: str | None
    arrondissement_nom: str | None
    intercommunalite_siren: str | None
    intercommunalite_nom: str | None
    rule_id: int
    level: str
    road_class: str | None
    street_name: str | None
    street_road_class: str | None
    authority_id: int
    authority_name: str
    service_id: int
    service_name: str
    service_slug: str
    informed: tuple[InformedService, ...]
    explanation: str
    due_days: int = 15
    service_email: str | None = None
    rule_status: str = CONFIRMED
    legal_basis: str | None = None
    via_contact: bool = False  # the authority's front desk, by e-mail (no Carto account)

    @property
    def rule_kind(self) -> str:
        """`default` (a legal default) or `confirmed`: the metrics' label, in English."""
        return "default" if self.rule_status == DEFAULT else "confirmed"

    @property
    def delivery(self) -> Delivery:
        """How the report reaches its recipient: `service` (a service in Carto), `email`
        (the front desk of an authority without Carto), or `queue` (nobody can receive it
        yet: no known address, or the État's roads; it waits in the « à orienter » queue)."""
        if self.level == "etat" or (self.via_contact and not self.service_email):
            return "queue"
        return "email" if self.via_contact else "service"


VOWELS = frozenset("AEIOUYÀÂÄÉÈÊËÎÏÔÖÙÛÜaeiouyàâäéèêëîïôöùûü")  # h: aspirated or not, unknown


def with_article(name: str) -> str:
    """'Métropole de Lyon' -> 'la Métropole de Lyon', 'Eurométropole de Strasbourg' ->
    "l'Eurométropole de Strasbourg"; proper names stay bare."""
    if name.startswith(MASCULINE_BODIES):
        return f"le {name}"
    if name.startswith(FEMININE_BODIES):
        return f"l'{name}" if name[:1] in VOWELS else f"la {name}"
    return name


def of(name: str) -> str:
    """« de » before a name, as French writes it: 'de Toulouse', "d'Ajaccio",
    "de l'Eurométropole de Strasbourg", 'du Département du Cantal', 'du Havre'
    (Le Havre), 'des Abymes' (Les Abymes)."""
    named = with_article(name)
    for article, contracted in (("le ", "du "), ("Le ", "du "), ("les ", "des "), ("Les ", "des ")):
        if named.startswith(article):
            return contracted + named[len(article) :]
    return f"d'{named}" if named[:1] in VOWELS else f"de {named}"


def _domain_clause(category: CategoryInfo) -> tuple[str, str]:
    domain = category.domain or f"la catégorie « {category.label} »"
    return domain, ("y sont" if domain.startswith("les ") else "y est")


def explain(
    *,
    place: Place,
    category: CategoryInfo,
    chosen: Candidate,
    street: tuple[str | None, str] | None = None,
) -> str:
    """The decision as one French sentence, shown to the citizen and the agent."""
    where = f"Point dans la commune {of(place.label())}"
    if street and street[0]:
        where += f", près de « {street[0]} »"
    if chosen.interco_nom:
        where += f", membre {of(chosen.interco_nom)}"
    domain, verb = _domain_clause(category)
    if chosen.level == "authority":
        competence = f"de la compétence {of(str(chosen.authority_name))}"
    elif chosen.level == "etat":
        competence = "de la compétence de l'État"
    else:
        competence = f"de compétence {COMPETENCE_WORDS[chosen.level]}"
    if chosen.road_class:
        domain = f"sur une voie de classe « {chosen.road_class} », {domain}"
    text = f"{where} ; {domain} {verb} {competence}"
    if chosen.valid_from is not None:
        text += f" (règle en vigueur depuis le {chosen.valid_from.astimezone(PARIS):%d/%m/%Y})"
    if chosen.national:
        text += f", {DEFAULT} ({chosen.legal_basis})"
        if chosen.caveat:
            text += f" ; {chosen.caveat}"
    text += f" → {chosen.service_name}, {chosen.authority_name}"
    if chosen.informed:
        told = " ; ".join(i.label() for i in chosen.informed)
        text += f" ; pour information : {told}"
    if chosen.via_contact:
        text += f". {recipient_notice(chosen)}"
    return text


STATE_NOTICE = (
    "L'État n'utilise pas Carto et Carto ne connaît pas l'adresse du gestionnaire de cette "
    "route : votre signalement n'est transmis automatiquement à personne ; il attend dans "
    "la file « à orienter », où les administrateurs de la plateforme le dirigeront vers "
    "le gestionnaire de la route."
)


def recipient_notice(chosen: Candidate) -> str:
    """What the citizen is told when the authority does not use Carto (yet)."""
    if chosen.level == "etat":
        return STATE_NOTICE
    named = with_article(str(chosen.authority_name))
    who = (
        f"La commune {of(str(chosen.authority_name))}"
        if chosen.level == "commune"
        else named[:1].upper() + named[1:]
    )
    if chosen.service_email:
        return f"{who} n'utilise pas encore Carto : votre signalement lui est transmis par e-mail."
    return (
        f"{who} n'utilise pas encore Carto et aucune adresse de contact n'est connue : "
        "votre signalement est enregistré mais ne lui est pas encore transmis ; il attend "
        "dans la file « à orienter », où les administrateurs de la plateforme le lui feront "
        "parvenir."
    )


def routed_note(decision: RoutingDecision) -> str:
    """The public note of a ticket's `routed` event (its history, Open311 `status_notes`):
    where it went, honestly: nowhere yet when nobody can be reached (the État's roads, a
    front desk without an address), only the « à orienter » queue."""
    to = f"{decision.service_name}, {decision.authority_name}"
    if decision.delivery == "service":
        return f"Transmis à : {to}."
    if decision.delivery == "email":
        return f"Transmis par e-mail à : {to}."
    if decision.level == "etat":
        return (
            "Pas encore transmis : en attente dans la file « à orienter », où les "
            "administrateurs de la plateforme le dirigeront vers le gestionnaire de la route."
        )
    return (
        f"Pas encore transmis : aucune adresse de contact n'est connue pour {to} ; "
        "en attente dans la file « à orienter » des administrateurs de la plateforme."
    )


def choose(candidates: list[Candidate], road_class: str | None) -> Candidate | None:
    """The first candidate (already in precedence order) that applies on this road."""
    for cand in candidates:
        if cand.road_class is None or cand.road_class == road_class:
            return cand
    return None


def decide(
    *,
    lon: float,
    lat: float,
    at: datetime,
    place: Place,
    category: CategoryInfo,
    candidates: list[Candidate],
    street: tuple[str | None, str] | None = None,
) -> RoutingDecision:
    """The decision, or NoCompetence with what is missing (a rule, or a service)."""
    chosen = choose(candidates, street[1] if street else None)
    if chosen is None:
        raise NoCompetence(
            "Aucune règle de compétence ne désigne qui traite "
            f"« {category.label} » à {place.label()}. "
            f"Adressez-vous directement à la mairie {of(place.commune_nom)}."
        )
    if chosen.authority_id is None or chosen.service_id is None:
        who = chosen.authority_name or (
            "l'intercommunalité" if chosen.level == "intercommunalite" else "la collectivité"
        )
        raise NoCompetence(
            f"À {place.label()}, « {category.label} » relève de {who}, mais aucun service "
            f"« {chosen.service_slug} » n'y est configuré pour recevoir les signalements. "
            f"Adressez-vous directement à {with_article(who) if chosen.authority_name else who} "
            f"ou à la mairie {of(place.commune_nom)}.",
            detail=f"rule {chosen.rule_id}: no service",
        )
    assert chosen.authority_name is not None and chosen.service_name is not None
    return assemble(
        RoutingDecision,
        lon=lon,
        lat=lat,
        at=at,
        category_code=category.code,
        category_label=category.label,
        commune_insee=place.commune_insee,
        commune_nom=place.commune_nom,
        arrondissement_insee=place.arrondissement_insee,
        arrondissement_nom=place.arrondissement_nom,
        intercommunalite_siren=chosen.interco_siren,
        intercommunalite_nom=chosen.interco_nom,
        rule_id=chosen.rule_id,
        level=chosen.level,
        road_class=chosen.road_class,
        street_name=(street[0] or None) if street else None,
        street_road_class=street[1] if street else None,
        authority_id=chosen.authority_id,
        authority_name=chosen.authority_name,
        service_id=chosen.service_id,
        service_name=chosen.service_name,
        service_slug=chosen.service_slug or category.code,
        informed=chosen.informed,
        explanation=explain(place=place, category=category, chosen=chosen, street=street),
        due_days=category.due_days,
        service_email=chosen.service_email,
        rule_status=DEFAULT if chosen.national else CONFIRMED,
        legal_basis=chosen.legal_basis,
        via_contact=chosen.via_contact,
    )


def dedupe_informed(items: list[InformedService]) -> tuple[InformedService, ...]:
    """Each informed service once, in the rule's order."""
    seen: set[int] = set()
    out = []
    for item in items:
        if item.service_id not in seen:
            seen.add(item.service_id)
            out.append(item)
    return tuple(out)
