"""Départements and régions: authorities with an area, derived from their communes.

Each has the SIREN of the body that holds it; several may share one authority (the
Collectivité européenne d'Alsace, the Collectivité de Corse, the Ville de Paris)."""

from __future__ import annotations

from datetime import datetime

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import ColumnElement, DateTime, ForeignKey, String, exists, func, or_
from sqlalchemy.orm import Mapped, mapped_column

from carto.db import Base
from carto.territories.models import Authority


class Region(Base):
    __tablename__ = "region"

    code: Mapped[str] = mapped_column(String(3), primary_key=True)
    nom: Mapped[str] = mapped_column(String(200))
    siren: Mapped[str | None] = mapped_column(String(9), doc="the body holding it (SIRENE)")
    authority_id: Mapped[int] = mapped_column(ForeignKey("authority.id"))
    geom: Mapped[WKBElement | None] = mapped_column(
        Geometry("MULTIPOLYGON", srid=4326, spatial_index=True)
    )
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Departement(Base):
    __tablename__ = "departement"

    code: Mapped[str] = mapped_column(String(3), primary_key=True)
    nom: Mapped[str] = mapped_column(String(200))
    region_code: Mapped[str | None] = mapped_column(String(3), index=True)
    siren: Mapped[str | None] = mapped_column(String(9), doc="the body holding it (SIRENE)")
    authority_id: Mapped[int] = mapped_column(ForeignKey("authority.id"))
    geom: Mapped[WKBElement | None] = mapped_column(
        Geometry("MULTIPOLYGON", srid=4326, spatial_index=True)
    )
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


def holds_ground() -> ColumnElement[bool]:
    """Whether an authority still holds ground: always, except a département's or a
    région's that no area points at any more (a former département after a merger, kept by
    a re-import because tickets may name it). Those are no jurisdiction and no target."""
    return or_(
        Authority.kind.not_in(("departement", "region")),
        exists().where(Departement.authority_id == Authority.id),
        exists().where(Region.authority_id == Authority.id),
    )
