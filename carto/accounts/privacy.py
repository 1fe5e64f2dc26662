"""What each feature keeps about a person, for export, erasure and the processing register.

Lower packages cannot import the feature packages, so the wiring (carto.wiring) registers
each feature's provider here: a provider exports and anonymises its own rows for a user
id, and declares its processing activities (what, why, how long) for the RGPD register.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from carto.registry import Registry

Exporter = Callable[[AsyncSession, int], Awaitable[Any]]
Anonymizer = Callable[[AsyncSession, int], Awaitable[None]]
# Retention: (session, settings) -> rows cleared; run hourly by the worker.
Retention = Callable[[AsyncSession, Any], Awaitable[int]]


@dataclass(frozen=True)
class Processing:
    """One line of the register of processing activities (RGPD article 30)."""

    name: str
    data: str
    purpose: str
    legal_basis: str
    retention: str
    recipients: str


@dataclass(frozen=True)
class PersonalDataProvider:
    name: str
    export: Exporter
    anonymize: Anonymizer
    processing: tuple[Processing, ...] = ()
    retention: Retention | None = None


PROVIDERS: Registry[PersonalDataProvider] = Registry("fournisseur de données personnelles")

BASE_PROCESSING = (
    Processing(
        name="Comptes des participants",
        data="Adresse e-mail, pseudonyme, mot de passe (empreinte argon2), dates de connexion",
        purpose="Permettre de contribuer, voter, suivre ses signalements",
        legal_basis=(
            "Mission d'intérêt public (participation citoyenne), consentement à l'inscription"
        ),
        retention="Jusqu'à la suppression du compte par la personne",
        recipients="Administrateurs de la plateforme ; jamais publiés",
    ),
    Processing(
        name="Comptes des agents et administrateurs",
        data="Adresse e-mail professionnelle, service, rôles",
        purpose="Traiter les signalements, modérer, administrer",
        legal_basis="Mission d'intérêt public",
        retention="Durée des fonctions",
        recipients="Administrateurs de la collectivité",
    ),
    Processing(
        name="Fond de carte d'un tiers (CARTO_BASEMAP)",
        data=(
            "Adresse IP et navigateur du visiteur, zone de la carte consultée (tuiles "
            "demandées) : envoyées par le navigateur au tiers, jamais par Carto"
        ),
        purpose="Afficher le fond de carte (rues, noms, bâtiments)",
        legal_basis="Mission d'intérêt public",
        retention="Selon le tiers ; Carto ne conserve rien",
        recipients=(
            "IGN, Géoplateforme (data.geopf.fr) avec CARTO_BASEMAP=auto (par défaut) ou "
            "plan-ign ; OpenStreetMap Foundation (tile.openstreetmap.org) avec osm ; le "
            "serveur de l'URL configurée sinon ; aucun avec none ou quand le fond propre "
            "de Carto est affiché (hors ligne)"
        ),
    ),
)


def processing_register() -> list[Processing]:
    return [*BASE_PROCESSING, *(p for prov in PROVIDERS.values() for p in prov.processing)]
