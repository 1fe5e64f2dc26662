"""Photo service: store an upload (public rendition + private original), read, purge.

Plain functions with a keyword-only `session`; they never commit (the caller's
transaction decides), and raise carto.errors exceptions only.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import uuid
from dataclasses import dataclass
from pathlib import PurePosixPath

from pydantic import BaseModel
from sqlalchemy import delete, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from carto.media.imaging import OUTPUT, process
from carto.media.models import Photo, PhotoOriginal
from carto.settings import Settings, get_settings

_ID = re.compile(r"^[0-9a-f]{32}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class PhotoRef(BaseModel):
    """What callers keep and show: the id and the public URLs (relative to the site root)."""

    id: str
    url: str
    thumbnail_url: str
    width: int
    height: int
    content_type: str


@dataclass(frozen=True)
class StoredImage:
    """Bytes to serve, with what the HTTP layer needs for caching."""

    data: bytes
    content_type: str
    etag: str


def extension_of(content_type: str) -> str:
    return next((ext for _, ctype, ext in OUTPUT.values() if ctype == content_type), "jpg")


def photo_ref(photo: Photo) -> PhotoRef:
    ext = extension_of(photo.content_type)
    return PhotoRef(
        id=photo.id,
        url=f"/media/{photo.id}.{ext}",
        thumbnail_url=f"/media/{photo.id}/thumb.{ext}",
        width=photo.width,
        height=photo.height,
        content_type=photo.content_type,
    )


def safe_filename(filename: str | None) -> str | None:
    """The base name only (no directories, no control characters), for the private record."""
    if not filename:
        return None
    name = _CONTROL.sub("", PurePosixPath(filename.replace("\\", "/")).name).strip().lstrip(".")
    return name[:200] or None


async def store_photo(
    *, session: AsyncSession, data: bytes, filename: str | None, settings: Settings | None = None,
    anonymous: bool = False,
) -> PhotoRef:  # fmt: skip
    """Verify, clean and store a photo in the caller's transaction (no commit).

    Decoding and re-encoding run in a worker thread (Pillow releases the GIL while it
    decodes), so the event loop keeps answering. An upload without an account gets the
    smaller pixel budget (CARTO_MEDIA_MAX_PIXELS_ANONYMOUS), checked from the header
    before any pixel is decoded: a tiny file of huge dimensions costs nothing.
    Raises InvalidInput (not an image, unreadable) or TooLarge (bytes or pixels).
    """
    cfg = settings or get_settings()
    max_pixels = cfg.media_max_pixels
    if anonymous:
        max_pixels = min(max_pixels, cfg.media_max_pixels_anonymous)
    processed = await asyncio.to_thread(
        process,
        data,
        max_bytes=cfg.media_max_bytes,
        max_pixels=max_pixels,
        max_side=cfg.media_max_side,
        thumb_side=cfg.media_thumb_side,
        output=cfg.media_format,
    )
    photo = Photo(
        id=uuid.uuid4().hex,
        content_type=processed.content_type,
        width=processed.image.width,
        height=processed.image.height,
        data=processed.image.data,
        thumb=processed.thumb.data,
        thumb_width=processed.thumb.width,
        thumb_height=processed.thumb.height,
        etag=hashlib.sha256(processed.image.data).hexdigest()[:32],
    )
    session.add(photo)
    await session.flush()
    session.add(
        PhotoOriginal(
            photo_id=photo.id,
            content_type=processed.source_type,
            filename=safe_filename(filename),
            data=data,
        )
    )
    await session.flush()
    return photo_ref(photo)


async def get_photo_ref(*, session: AsyncSession, photo_id: str) -> PhotoRef | None:
    """The reference of a stored photo (to check an id a client sent), or None."""
    if not _ID.match(photo_id):
        return None
    photo = await session.get(Photo, photo_id)
    return photo_ref(photo) if photo else None


async def read_image(
    *, session: AsyncSession, photo_id: str, thumbnail: bool = False
) -> StoredImage | None:
    """The public bytes of a photo (or its thumbnail), never the original."""
    if not _ID.match(photo_id):
        return None
    column = Photo.thumb if thumbnail else Photo.data
    row = (
        await session.execute(
            select(column, Photo.content_type, Photo.etag).where(Photo.id == photo_id)
        )
    ).one_or_none()
    if row is None:
        return None
    etag = f'"{row[2]}{"-t" if thumbnail else ""}"'
    return StoredImage(data=row[0], content_type=row[1], etag=etag)


async def purge_originals(*, session: AsyncSession, older_than_days: int) -> int:
    """Delete originals older than the retention period; the public photo stays."""
    if older_than_days <= 0:
        return 0
    result = await session.execute(
        delete(PhotoOriginal).where(
            PhotoOriginal.created_at
            < text("now() - make_interval(days => :days)").bindparams(days=older_than_days)
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)
