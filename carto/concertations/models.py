"""Concertations and what they are made of: themes, phases, organisers, reference layers.

The participation side (contributions, votes, comments, moderation, answers) is in
`participation_models.py`. No personal data here: e-mails stay in `app_user`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import (
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from carto.db import Base

CONCERTATION_KINDS = ("plu", "plantation", "autre")
PHASES = ("information", "contribution", "analyse", "restitution")
GEOMETRY_TYPES = ("Point", "LineString", "Polygon")
CONTRIBUTION_KINDS = ("proposition", "constat", "question")
LAYER_ROLES = ("reference", "constraint")
CONSTRAINT_RULES = ("no_overlap", "min_distance", "inside")
CONSTRAINT_ACTIONS = ("reject", "flag")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Concertation(Base):
    """A consultation on a perimeter, open between two dates, then closed, then archived.

    Status is derived from the dates and `archived_at`, never stored, so it cannot drift.
    """

    __tablename__ = "concertation"
    __table_args__ = (
        CheckConstraint(_in("kind", CONCERTATION_KINDS), name="kind_known"),
        CheckConstraint("closes_at > opens_at", name="dates_ordered"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(20), default="autre")
    perimeter: Mapped[WKBElement] = mapped_column(
        Geometry("MULTIPOLYGON", srid=4326, spatial_index=True)
    )
    opens_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    closes_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    archived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    allowed_geometry_types: Mapped[list[str]] = mapped_column(
        ARRAY(String(20)), default=lambda: ["Point"]
    )
    allowed_kinds: Mapped[list[str]] = mapped_column(
        ARRAY(String(20)), default=lambda: list(CONTRIBUTION_KINDS)
    )
    is_demo: Mapped[bool] = mapped_column(default=False, doc="seeded demonstration data")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )

    themes: Mapped[list[Theme]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="Theme.sort_order"
    )
    phases: Mapped[list[Phase]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="Phase.starts_at"
    )
    organisers: Mapped[list[ConcertationAuthority]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )


class Theme(Base):
    """A theme contributions are filed under, with its map colour and icon."""

    __tablename__ = "concertation_theme"
    __table_args__ = (
        UniqueConstraint("concertation_id", "slug"),
        CheckConstraint("color ~ '^#[0-9a-fA-F]{6}$'", name="color_hex"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    concertation_id: Mapped[int] = mapped_column(
        ForeignKey("concertation.id", ondelete="CASCADE"), index=True
    )
    slug: Mapped[str] = mapped_column(String(80))
    label: Mapped[str] = mapped_column(String(120))
    color: Mapped[str] = mapped_column(String(7), default="#3388ff")
    icon: Mapped[str] = mapped_column(String(40), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    sort_order: Mapped[int] = mapped_column(Integer, default=0)


class Phase(Base):
    """One step of the timeline (information, contribution, analyse, restitution)."""

    __tablename__ = "concertation_phase"
    __table_args__ = (
        UniqueConstraint("concertation_id", "phase"),
        CheckConstraint(_in("phase", PHASES), name="phase_known"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    concertation_id: Mapped[int] = mapped_column(
        ForeignKey("concertation.id", ondelete="CASCADE"), index=True
    )
    phase: Mapped[str] = mapped_column(String(20))
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    description: Mapped[str] = mapped_column(Text, default="")


class ConcertationAuthority(Base):
    """An authority that runs the concertation: its administrators answer contributions."""

    __tablename__ = "concertation_authority"

    concertation_id: Mapped[int] = mapped_column(
        ForeignKey("concertation.id", ondelete="CASCADE"), primary_key=True
    )
    authority_id: Mapped[int] = mapped_column(
        ForeignKey("authority.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class ReferenceLayer(Base):
    """A layer shown on the concertation map; a constraint layer also checks contributions.

    Rules: `no_overlap` (the contribution may not touch a feature, e.g. a building),
    `min_distance` (at least `distance_m` true metres from every feature, e.g. a tree),
    `inside` (within one of the features, e.g. a plantable zone).
    """

    __tablename__ = "reference_layer"
    __table_args__ = (
        UniqueConstraint("concertation_id", "slug"),
        CheckConstraint(_in("role", LAYER_ROLES), name="role_known"),
        CheckConstraint(f"rule IS NULL OR {_in('rule', CONSTRAINT_RULES)}", name="rule_known"),
        CheckConstraint(_in("action", CONSTRAINT_ACTIONS), name="action_known"),
        CheckConstraint("role <> 'constraint' OR rule IS NOT NULL", name="constraint_has_rule"),
        CheckConstraint(
            "rule IS DISTINCT FROM 'min_distance' OR distance_m > 0", name="distance_set"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    concertation_id: Mapped[int] = mapped_column(
        ForeignKey("concertation.id", ondelete="CASCADE"), index=True
    )
    slug: Mapped[str] = mapped_column(String(80))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    role: Mapped[str] = mapped_column(String(20), default="reference")
    rule: Mapped[str | None] = mapped_column(String(20))
    distance_m: Mapped[float | None] = mapped_column(Float)
    action: Mapped[str] = mapped_column(String(10), default="reject")
    message: Mapped[str] = mapped_column(Text, default="", doc="the reason shown to the user")
    color: Mapped[str] = mapped_column(String(7), default="#666666")
    source: Mapped[str] = mapped_column(String(300), default="", doc="file name or origin")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ReferenceFeature(Base):
    """One feature of a reference layer, any geometry type, in EPSG:4326."""

    __tablename__ = "reference_feature"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    layer_id: Mapped[int] = mapped_column(
        ForeignKey("reference_layer.id", ondelete="CASCADE"), index=True
    )
    properties: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    geom: Mapped[WKBElement] = mapped_column(Geometry("GEOMETRY", srid=4326, spatial_index=True))
