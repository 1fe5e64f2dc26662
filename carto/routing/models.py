"""Services, categories and the competence table: routing is data, not code.

One row per service, per category, and per competence rule. A rule says which
level (the commune, its intercommunality, or a named authority) is competent
for a category over a scope (everywhere, an intercommunality, a commune or a
département), optionally on one road class only, during a validity period.
Editing a rule closes it and opens a new version, so a ticket keeps pointing at
the rule that was in force when it was routed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from carto.db import Base

LEVELS = ("commune", "intercommunalite", "departement", "authority", "etat")
AUTHORED_LEVELS = LEVELS[:4]  # what deployment files and administrators may name
SCOPE_KINDS = ("everywhere", "intercommunalite", "commune", "departement")
# French labels (the web app reads them from the vocabulary, carto/vocabulary/terms.py).
# `etat` is for the national defaults only (routes nationales, autoroutes): the État has
# no account, so such reports wait in the platform's « à orienter » queue.
LEVEL_LABELS = {
    "commune": "La commune du lieu",
    "intercommunalite": "L'intercommunalité du lieu",
    "departement": "Le département du lieu",
    "authority": "Une collectivité désignée",
    "etat": "L'État (file « à orienter »)",
}
SCOPE_LABELS = {
    "everywhere": "Partout",
    "intercommunalite": "Intercommunalité (SIREN)",
    "commune": "Commune (INSEE)",
    "departement": "Département",
}
RULE_SOURCES = ("deployment", "admin", "national")


class Service(Base):
    """A technical service of an authority, the recipient of routed tickets."""

    __tablename__ = "service"
    __table_args__ = (UniqueConstraint("authority_id", "slug"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    authority_id: Mapped[int] = mapped_column(ForeignKey("authority.id"), index=True)
    slug: Mapped[str] = mapped_column(String(80))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    webhook_url: Mapped[str | None] = mapped_column(String(500))
    webhook_secret: Mapped[str | None] = mapped_column(String(200))


class Category(Base):
    """A kind of problem a citizen can report (Open311 `service_code`)."""

    __tablename__ = "category"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    label: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    icon: Mapped[str] = mapped_column(String(40), default="")
    group: Mapped[str] = mapped_column(String(80), default="")
    keywords: Mapped[str] = mapped_column(String(400), default="")
    due_days: Mapped[int] = mapped_column(Integer, default=15, doc="service level, in days")
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    domain: Mapped[str | None] = mapped_column(
        String(200), doc="noun phrase with its article for explanations: 'la voirie'"
    )


class CompetenceRule(Base):
    """Who is competent for a category over a scope, during [valid_from, valid_to)."""

    __tablename__ = "competence_rule"
    __table_args__ = (
        CheckConstraint(
            "level IN ('commune', 'intercommunalite', 'departement', 'authority', 'etat')",
            name="level_known",
        ),
        CheckConstraint(
            "scope_kind IN ('everywhere', 'intercommunalite', 'commune', 'departement')",
            name="scope_known",
        ),
        CheckConstraint(
            "(scope_kind = 'everywhere') = (scope_code IS NULL)", name="scope_code_present"
        ),
        CheckConstraint(
            "(level = 'authority') = (authority_id IS NOT NULL)", name="authority_iff_named"
        ),
        CheckConstraint(
            "valid_to IS NULL OR valid_from IS NULL OR valid_from < valid_to", name="period"
        ),
        CheckConstraint("source IN ('deployment', 'admin', 'national')", name="source_known"),
        Index("ix_competence_rule_lookup", "category_code", "scope_kind", "scope_code"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    category_code: Mapped[str] = mapped_column(ForeignKey("category.code", ondelete="CASCADE"))
    level: Mapped[str] = mapped_column(String(20))
    authority_id: Mapped[int | None] = mapped_column(
        ForeignKey("authority.id", ondelete="CASCADE"), index=True, doc="level 'authority' only"
    )
    scope_kind: Mapped[str] = mapped_column(String(20))
    scope_code: Mapped[str | None] = mapped_column(
        String(20), doc="SIREN, INSEE code or département code; NULL everywhere"
    )
    road_class: Mapped[str | None] = mapped_column(
        String(40), doc="only for reports next to a road of this class (street context)"
    )
    service_slug: Mapped[str | None] = mapped_column(
        String(80), doc="the competent authority's service; NULL: the category code"
    )
    inform: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, default=list, server_default="[]", doc="[{level, service, authority_id}]"
    )
    valid_from: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    valid_to: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    source: Mapped[str] = mapped_column(String(20), default="deployment")
    replaces_id: Mapped[int | None] = mapped_column(
        ForeignKey("competence_rule.id", ondelete="SET NULL"), doc="the version it superseded"
    )
    note: Mapped[str | None] = mapped_column(Text, doc="why (a council vote, a transfer...)")
    epci_kind: Mapped[str | None] = mapped_column(
        String(10), doc="national defaults: applies where the commune belongs to this kind"
    )
    legal_basis: Mapped[str | None] = mapped_column(Text, doc="e.g. 'CGCT L5216-5'")
    caveat: Mapped[str | None] = mapped_column(Text, doc="shown to the citizen: variation, doubt")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
