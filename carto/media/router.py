"""`POST /api/v1/media` (upload, anonymous allowed, rate-limited) and `GET /media/...` (files)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Request, Response, UploadFile

from carto.accounts.deps import OptionalPrincipal
from carto.deps import SessionDep
from carto.errors import NotFound
from carto.media import service
from carto.media.service import PhotoRef, extension_of
from carto.media.upload import read_upload
from carto.ratelimit import rate_limited
from carto.settings import Settings

api_router = APIRouter(tags=["photos"])
files_router = APIRouter(tags=["photos"])

# Photos never change under an id: clients and proxies may keep them for a year.
CACHE_CONTROL = "public, max-age=31536000, immutable"
_NOT_FOUND = "Photo introuvable."


@api_router.post(
    "/media",
    status_code=201,
    response_model=PhotoRef,
    dependencies=[Depends(rate_limited("upload"))],
    summary="Envoyer une photo (JPEG, PNG ou WebP)",
)
async def upload_photo(
    request: Request,
    session: SessionDep,
    principal: OptionalPrincipal,
    file: Annotated[UploadFile, File(description="La photo (JPEG, PNG ou WebP)")],
) -> PhotoRef:
    """Store a photo stripped of its metadata; answer its id and public URLs.
    Without an account the pixel budget is smaller (CARTO_MEDIA_MAX_PIXELS_ANONYMOUS)."""
    settings: Settings = request.app.state.settings
    data = await read_upload(file, max_bytes=settings.media_max_bytes)
    ref = await service.store_photo(
        session=session, data=data, filename=file.filename, settings=settings,
        anonymous=principal is None,
    )  # fmt: skip
    await session.commit()
    return ref


async def _serve(
    request: Request, session: SessionDep, photo_id: str, ext: str, *, thumbnail: bool
) -> Response:
    image = await service.read_image(session=session, photo_id=photo_id, thumbnail=thumbnail)
    wanted = "jpg" if ext == "jpeg" else ext
    if image is None or extension_of(image.content_type) != wanted:
        raise NotFound(_NOT_FOUND)
    headers = {"Cache-Control": CACHE_CONTROL, "ETag": image.etag}  # nosniff: on every answer
    if image.etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(image.data, media_type=image.content_type, headers=headers)


@files_router.get("/media/{photo_id}.{ext}", response_class=Response)
async def photo_file(request: Request, session: SessionDep, photo_id: str, ext: str) -> Response:
    """The public photo (re-encoded, without metadata)."""
    return await _serve(request, session, photo_id, ext, thumbnail=False)


@files_router.get("/media/{photo_id}/thumb.{ext}", response_class=Response)
async def photo_thumb(request: Request, session: SessionDep, photo_id: str, ext: str) -> Response:
    """The photo's thumbnail."""
    return await _serve(request, session, photo_id, ext, thumbnail=True)
