"""Photo tables: the public re-encoded image, and the private original kept for a while.

Both are bytea in PostGIS (one engine, one backup). The original lives in its own table
so the retention rule ("delete originals after N days") is one DELETE and no public
query can reach it by accident.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, LargeBinary, String, func
from sqlalchemy.orm import Mapped, mapped_column

from carto.db import Base


class Photo(Base):
    """A published photo: re-encoded, without any metadata, plus its thumbnail."""

    __tablename__ = "media_photo"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, doc="uuid4 hex")
    content_type: Mapped[str] = mapped_column(String(40))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    thumb: Mapped[bytes] = mapped_column(LargeBinary)
    thumb_width: Mapped[int] = mapped_column(Integer)
    thumb_height: Mapped[int] = mapped_column(Integer)
    etag: Mapped[str] = mapped_column(String(64), doc="hash of the public bytes")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class PhotoOriginal(Base):
    """The uploaded bytes as received (EXIF, GPS...): private, deleted after N days."""

    __tablename__ = "media_original"

    photo_id: Mapped[str] = mapped_column(
        ForeignKey("media_photo.id", ondelete="CASCADE"), primary_key=True
    )
    content_type: Mapped[str] = mapped_column(String(40), doc="detected, not declared")
    filename: Mapped[str | None] = mapped_column(String(200), doc="sanitised base name")
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), index=True
    )
