"""Territories as PostGIS rows: every commune and intercommunality is also an authority.

Geometries are `MultiPolygon` in EPSG:4326 (lon/lat) with a GiST index; the
routing query reads them with `ST_Covers`. Arrondissements (Paris, Lyon,
Marseille) are kept apart from communes: they overlap their parent commune and
are recorded on tickets, but commune competences go to the parent.
"""

from __future__ import annotations

from datetime import datetime

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import DateTime, ForeignKey, Integer, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from carto.db import Base

AUTHORITY_KINDS = ("commune", "intercommunalite", "departement", "region", "autre")


class Authority(Base):
    """A public body that can be competent for a category and own services."""

    __tablename__ = "authority"
    __table_args__ = (UniqueConstraint("kind", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    code: Mapped[str] = mapped_column(String(20), doc="INSEE code or SIREN")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Commune(Base):
    __tablename__ = "commune"

    insee: Mapped[str] = mapped_column(String(5), primary_key=True)
    nom: Mapped[str] = mapped_column(String(200))
    population: Mapped[int | None] = mapped_column(Integer)
    departement: Mapped[str | None] = mapped_column(String(3))
    epci_siren: Mapped[str | None] = mapped_column(String(9), doc="EPCI as given by the source")
    authority_id: Mapped[int] = mapped_column(ForeignKey("authority.id"), index=True)
    geom: Mapped[WKBElement] = mapped_column(
        Geometry("MULTIPOLYGON", srid=4326, spatial_index=True)
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class Arrondissement(Base):
    """Municipal arrondissement: recorded on tickets, never competent itself."""

    __tablename__ = "arrondissement"

    insee: Mapped[str] = mapped_column(String(5), primary_key=True)
    nom: Mapped[str] = mapped_column(String(200))
    population: Mapped[int | None] = mapped_column(Integer)
    commune_insee: Mapped[str] = mapped_column(ForeignKey("commune.insee"), index=True)
    geom: Mapped[WKBElement] = mapped_column(
        Geometry("MULTIPOLYGON", srid=4326, spatial_index=True)
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class Intercommunalite(Base):
    """EPCI (CC, CA, CU, ME), EPT or any grouping of communes, with its member list."""

    __tablename__ = "intercommunalite"

    siren: Mapped[str] = mapped_column(String(9), primary_key=True)
    nom: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(10), doc="ME, CU, CA, CC, EPT, MET ...")
    authority_id: Mapped[int] = mapped_column(ForeignKey("authority.id"), index=True)
    geom: Mapped[WKBElement | None] = mapped_column(
        Geometry("MULTIPOLYGON", srid=4326, spatial_index=True), nullable=True
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class IntercommunaliteMember(Base):
    """Membership of a commune in an intercommunality (a commune may be in several levels)."""

    __tablename__ = "intercommunalite_member"

    siren: Mapped[str] = mapped_column(
        ForeignKey("intercommunalite.siren", ondelete="CASCADE"), primary_key=True
    )
    insee: Mapped[str] = mapped_column(
        ForeignKey("commune.insee", ondelete="CASCADE"), primary_key=True, index=True
    )
