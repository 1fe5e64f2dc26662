"""Signalement tables. The reporter's personal data lives in its own table, never in
`signalement`, whose public columns feed `public_layers.signalements`.

Every table carries `authority_id`, the tenant key (the authority in charge), so
that they can later be distributed by it (Citus).
"""

from __future__ import annotations

from datetime import datetime

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Computed,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from carto.db import Base
from carto.signalements.states import CLOSED, STATES

_STATES_SQL = ", ".join(f"'{s}'" for s in STATES)
_CLOSED_SQL = ", ".join(f"'{s}'" for s in sorted(CLOSED))
SOURCES = ("web", "open311", "demo", "import")


class Signalement(Base):
    """A report at a point: its id is the public reference and Open311's service_request_id."""

    __tablename__ = "signalement"
    __table_args__ = (
        CheckConstraint(f"state IN ({_STATES_SQL})", name="state_known"),
        CheckConstraint("source IN ('web', 'open311', 'demo', 'import')", name="source_known"),
        CheckConstraint(
            "address_source IN ('reverse', 'citizen', 'staff')", name="address_source_known"
        ),
        Index("ix_signalement_queue", "service_id", "status", "created_at"),
        Index("ix_signalement_authority_created", "authority_id", "created_at"),
        Index("ix_signalement_geog", text("(geom::geography)"), postgresql_using="gist"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    category_code: Mapped[str] = mapped_column(ForeignKey("category.code"), index=True)
    description: Mapped[str] = mapped_column(Text)
    address_string: Mapped[str | None] = mapped_column(String(300))
    state: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(
        String(6),
        Computed(
            f"CASE WHEN state IN ({_CLOSED_SQL}) THEN 'closed' ELSE 'open' END", persisted=True
        ),
        doc="Open311 status, from the state",
    )
    duplicate_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("signalement.id", ondelete="SET NULL")
    )
    geom: Mapped[WKBElement] = mapped_column(Geometry("POINT", srid=4326, spatial_index=True))
    geom_3857: Mapped[WKBElement] = mapped_column(
        Geometry("POINT", srid=3857, spatial_index=True),
        Computed("ST_Transform(geom, 3857)", persisted=True),
        doc="for tiles, kept by PostgreSQL",
    )
    commune_insee: Mapped[str] = mapped_column(String(5), index=True)
    arrondissement_insee: Mapped[str | None] = mapped_column(String(5))
    intercommunalite_siren: Mapped[str | None] = mapped_column(String(9))
    authority_id: Mapped[int] = mapped_column(ForeignKey("authority.id"), index=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"))
    rule_id: Mapped[int | None] = mapped_column(
        ForeignKey("competence_rule.id", ondelete="SET NULL")
    )
    explanation: Mapped[str] = mapped_column(Text)
    street_name: Mapped[str | None] = mapped_column(String(300))
    road_class: Mapped[str | None] = mapped_column(String(40))
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    supports: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    source: Mapped[str] = mapped_column(String(20), default="web")
    media_url: Mapped[str | None] = mapped_column(String(500), doc="Open311 media_url as given")
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), index=True
    )
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The address of the point, in the fields of a BAN feature (carto.signalements.address).
    address_label: Mapped[str | None] = mapped_column(String(300))
    address_type: Mapped[str | None] = mapped_column(String(20))
    address_housenumber: Mapped[str | None] = mapped_column(String(30))
    address_street: Mapped[str | None] = mapped_column(String(300))
    address_postcode: Mapped[str | None] = mapped_column(String(5))
    address_citycode: Mapped[str | None] = mapped_column(String(5))
    address_city: Mapped[str | None] = mapped_column(String(200))
    address_source: Mapped[str | None] = mapped_column(
        String(10), doc="reverse (geocoded at intake), citizen (typed or picked), staff"
    )


class SignalementReporter(Base):
    """Who reported (personal data): seen by the service's agents, never published."""

    __tablename__ = "signalement_reporter"

    signalement_id: Mapped[int] = mapped_column(
        ForeignKey("signalement.id", ondelete="CASCADE"), primary_key=True
    )
    authority_id: Mapped[int] = mapped_column(ForeignKey("authority.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("app_user.id", ondelete="SET NULL"), index=True
    )
    email: Mapped[str | None] = mapped_column(String(254))
    first_name: Mapped[str | None] = mapped_column(String(100))
    last_name: Mapped[str | None] = mapped_column(String(100))
    ip: Mapped[str | None] = mapped_column(String(45))
    description_original: Mapped[str | None] = mapped_column(
        Text, doc="the description as typed, when contact details were masked in the public one"
    )
    account_id: Mapped[str | None] = mapped_column(
        String(100), doc="the reporter's account in the Open311 client that sent the report"
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class SignalementEvent(Base):
    """One step of a ticket's life: a state change, a transfer, a merge."""

    __tablename__ = "signalement_event"
    __table_args__ = (
        CheckConstraint("kind IN ('state', 'transfer', 'merge', 'address')", name="kind_known"),
        Index("ix_signalement_event_ticket", "signalement_id", "at", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    signalement_id: Mapped[int] = mapped_column(ForeignKey("signalement.id", ondelete="CASCADE"))
    authority_id: Mapped[int] = mapped_column(ForeignKey("authority.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    from_service_id: Mapped[int | None] = mapped_column(ForeignKey("service.id"))
    to_service_id: Mapped[int | None] = mapped_column(ForeignKey("service.id"))
    related_id: Mapped[int | None] = mapped_column(
        ForeignKey("signalement.id", ondelete="SET NULL"), doc="the other ticket of a merge"
    )
    actor_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("app_user.id", ondelete="SET NULL")
    )
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    public_note: Mapped[str | None] = mapped_column(Text)
    internal_note: Mapped[str | None] = mapped_column(Text)


class SignalementSupport(Base):
    """A "+1": somebody else has the same problem. One per supporter and ticket, the
    supporter being an account ("u:<id>") or, without one, a keyed hash of the address."""

    __tablename__ = "signalement_support"

    signalement_id: Mapped[int] = mapped_column(
        ForeignKey("signalement.id", ondelete="CASCADE"), primary_key=True
    )
    supporter: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("app_user.id", ondelete="CASCADE"), index=True
    )
    authority_id: Mapped[int] = mapped_column(ForeignKey("authority.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class SignalementPhoto(Base):
    """A photo (carto.media) attached to a ticket."""

    __tablename__ = "signalement_photo"

    signalement_id: Mapped[int] = mapped_column(
        ForeignKey("signalement.id", ondelete="CASCADE"), primary_key=True
    )
    photo_id: Mapped[str] = mapped_column(
        ForeignKey("media_photo.id", ondelete="CASCADE"), primary_key=True
    )
    authority_id: Mapped[int] = mapped_column(ForeignKey("authority.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
