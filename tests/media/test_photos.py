"""Photos: decoded by content, cleaned of every metadata, oriented, served with caching."""

from __future__ import annotations

import io
import secrets
import struct
import zipfile
import zlib
from collections.abc import AsyncIterator

import pytest
from httpx import ASGITransport, AsyncClient
from PIL import ExifTags, Image
from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from carto.app import create_app
from carto.db import get_session
from carto.errors import InvalidInput, TooLarge
from carto.media import read_upload, store_photo
from carto.media.models import Photo, PhotoOriginal
from carto.media.service import purge_originals, safe_filename
from carto.settings import Settings

GPS_LATITUDE = (50.0, 41.0, 30.5)


def jpeg_with_metadata(size: tuple[int, int] = (300, 200), orientation: int = 6) -> bytes:
    """A camera-like JPEG: GPS position, orientation, maker, XMP and a comment."""
    img = Image.new("RGB", size, (200, 30, 30))
    img.paste((30, 30, 200), (0, 0, size[0] // 2, size[1]))  # left half blue
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif[ExifTags.Base.Orientation] = orientation
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = GPS_LATITUDE
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (3.0, 10.0, 12.0)
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><secret-xmp>Jean Dupont</secret-xmp></x:xmpmeta>'
    buf = io.BytesIO()
    img.save(buf, "JPEG", exif=exif, xmp=xmp, comment=b"secret-comment")
    return buf.getvalue()


def png_bytes(size: tuple[int, int] = (64, 48), mode: str = "RGB") -> bytes:
    buf = io.BytesIO()
    Image.new(mode, size, (10, 200, 10, 128) if mode == "RGBA" else (10, 200, 10)).save(buf, "PNG")
    return buf.getvalue()


def jpeg_segments(data: bytes) -> list[int]:
    """The marker of each JPEG segment before the image data (our own parser, not Pillow)."""
    assert data[:2] == b"\xff\xd8"
    markers, pos = [], 2
    while pos < len(data):
        assert data[pos] == 0xFF
        marker = data[pos + 1]
        markers.append(marker)
        if marker == 0xDA:  # start of scan: entropy-coded data follows
            break
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        pos += 2 + length
    return markers


def png_bomb(width: int, height: int) -> bytes:
    """A tiny PNG declaring a huge grey image (the IDAT holds a few compressed rows)."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * (width + 1) * 4, 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


async def photo_count(session: AsyncSession) -> int:
    return int((await session.execute(select(func.count()).select_from(Photo))).scalar_one())


@pytest.fixture
def media_settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "media_max_bytes": 200_000,
            "max_body_bytes": 300_000,
            "media_max_pixels": 4_000_000,
        }
    )


@pytest.fixture
async def small_client(
    media_settings: Settings, session: AsyncSession
) -> AsyncIterator[AsyncClient]:
    """The app with small upload limits, on the test's rolled-back session."""
    app = create_app(media_settings)

    async def _session() -> AsyncIterator[AsyncSession]:
        yield session

    app.dependency_overrides[get_session] = _session
    app.state.engine = session.bind
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as ac:
        yield ac


async def test_exif_gps_xmp_and_comment_are_gone_and_orientation_applied(session, settings) -> None:
    original = jpeg_with_metadata()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(ExifTags.IFD.GPSInfo)  # sanity
    ref = await store_photo(
        session=session, data=original, filename="IMG_0001.jpg", settings=settings
    )
    photo = await session.get(Photo, ref.id)
    assert photo is not None
    for data in (photo.data, photo.thumb):
        markers = jpeg_segments(data)
        assert 0xE1 not in markers  # APP1: EXIF and XMP
        assert 0xFE not in markers  # COM
        for needle in (b"Exif", b"GPS", b"PhoneMaker", b"Jean Dupont", b"secret-comment", b"xmp"):
            assert needle not in data
        decoded = Image.open(io.BytesIO(data))
        assert not decoded.getexif()
        assert not {"exif", "xmp", "comment"} & set(decoded.info)
    # orientation 6 (rotate 90° clockwise) was applied before stripping: 300x200 -> 200x300
    assert (ref.width, ref.height) == (200, 300)
    assert ref.content_type == "image/jpeg"
    assert ref.url == f"/media/{ref.id}.jpg"
    assert ref.thumbnail_url == f"/media/{ref.id}/thumb.jpg"
    rotated = Image.open(io.BytesIO(photo.data)).convert("RGB")
    # the blue left half of the sensor image is now the top half
    top, bottom = rotated.getpixel((100, 20)), rotated.getpixel((100, 280))
    assert top[2] > 150 and top[0] < 100
    assert bottom[0] > 150 and bottom[2] < 100
    # the private original is kept as received, with its sanitised name
    kept = await session.get(PhotoOriginal, ref.id)
    assert kept is not None and kept.data == original
    assert kept.content_type == "image/jpeg" and kept.filename == "IMG_0001.jpg"


async def test_upload_route_decodes_by_content_not_by_name(client, session) -> None:
    resp = await client.post(
        "/api/v1/media", files={"file": ("photo.jpg", png_bytes(mode="RGBA"), "image/jpeg")}
    )
    assert resp.status_code == 201, resp.text
    ref = resp.json()
    assert set(ref) == {"id", "url", "thumbnail_url", "width", "height", "content_type"}
    assert (ref["width"], ref["height"]) == (64, 48)
    kept = await session.get(PhotoOriginal, ref["id"])
    assert kept is not None and kept.content_type == "image/png"
    image = await client.get(ref["url"])
    assert image.status_code == 200
    assert image.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(image.content)).format == "JPEG"


@pytest.mark.parametrize(
    ("name", "payload"),
    [
        ("photo.jpg", b"Bonjour, je ne suis pas une image.\n"),
        ("photo.jpg", b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>"),
        ("archive.jpg", None),  # zip, built below
        ("gif.png", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"),
        ("empty.jpg", b""),
    ],
)
async def test_non_images_are_refused_and_nothing_is_stored(client, session, name, payload) -> None:
    if payload is None:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr("photo.jpg", jpeg_with_metadata())
        payload = buf.getvalue()
    before = await photo_count(session)
    resp = await client.post("/api/v1/media", files={"file": (name, payload, "image/jpeg")})
    assert resp.status_code == 422
    assert resp.json()["message"] == "Ce fichier n'est pas une photo JPEG, PNG ou WebP."
    assert await photo_count(session) == before


async def test_truncated_image_is_refused(client, session) -> None:
    data = jpeg_with_metadata((800, 600))
    before = await photo_count(session)
    resp = await client.post(
        "/api/v1/media", files={"file": ("cut.jpg", data[: len(data) // 2], "image/jpeg")}
    )
    assert resp.status_code == 422
    assert "illisible" in resp.json()["message"]
    assert await photo_count(session) == before


@pytest.mark.parametrize(("width", "height"), [(3000, 3000), (20000, 20000)])
async def test_decompression_bombs_are_refused(small_client, session, width, height) -> None:
    """Above our pixel cap (9 MP > 4 MP), and above Pillow's own bomb guard (400 MP)."""
    bomb = png_bomb(width, height)
    assert len(bomb) < 100_000
    before = await photo_count(session)
    resp = await small_client.post("/api/v1/media", files={"file": ("b.png", bomb, "image/png")})
    assert resp.status_code == 413
    assert resp.json()["error"] == "too_large"
    assert await photo_count(session) == before


async def test_declared_oversized_body_is_refused_before_reading(small_client) -> None:
    consumed: list[int] = []

    async def body() -> AsyncIterator[bytes]:
        for _ in range(100):
            consumed.append(1)
            yield b"\0" * 10_000

    resp = await small_client.post(
        "/api/v1/media",
        content=body(),
        headers={"content-type": "multipart/form-data; boundary=x", "content-length": "1000000"},
    )
    assert resp.status_code == 413
    assert resp.json() == {
        "error": "too_large",
        "message": "Envoi trop volumineux : au plus 300000 o.",
    }
    assert len(consumed) <= 1  # httpx may prime the stream; the app read nothing


async def test_streamed_oversized_body_is_cut_off_while_reading(small_client, session) -> None:
    consumed: list[int] = []

    async def body() -> AsyncIterator[bytes]:
        yield b'--x\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\n\r\n'
        for _ in range(200):  # 2 MB in total, the limit is 300 kB
            consumed.append(1)
            yield b"\xff" * 10_000

    before = await photo_count(session)
    resp = await small_client.post(
        "/api/v1/media", content=body(), headers={"content-type": "multipart/form-data; boundary=x"}
    )
    assert resp.status_code == 413
    assert len(consumed) < 40
    assert await photo_count(session) == before


async def test_file_over_the_photo_limit_is_refused(small_client, session) -> None:
    """Under the body limit (300 kB) but over the photo limit (200 kB): read_upload stops it."""
    noisy = Image.frombytes("RGB", (300, 300), bytes(range(256)) * 1055)
    buf = io.BytesIO()
    noisy.save(buf, "PNG", compress_level=0)
    assert 200_000 < len(buf.getvalue()) < 290_000
    resp = await small_client.post(
        "/api/v1/media", files={"file": ("big.png", buf.getvalue(), "image/png")}
    )
    assert resp.status_code == 413
    assert "trop volumineux" in resp.json()["message"]


async def test_read_upload_stops_at_the_limit() -> None:
    from fastapi import UploadFile

    upload = UploadFile(io.BytesIO(b"a" * 1000), filename="x")
    assert await read_upload(upload, max_bytes=1000) == b"a" * 1000
    with pytest.raises(TooLarge):
        await read_upload(UploadFile(io.BytesIO(b"a" * 1001), filename="x"), max_bytes=1000)


async def test_store_photo_refusals_raise_carto_errors(session, settings) -> None:
    with pytest.raises(InvalidInput) as not_image:
        await store_photo(session=session, data=b"%PDF-1.7", filename="a.pdf", settings=settings)
    assert "JPEG, PNG ou WebP" in not_image.value.message
    tiny = settings.model_copy(update={"media_max_bytes": 100})
    with pytest.raises(TooLarge) as too_big:
        await store_photo(session=session, data=png_bytes(), filename=None, settings=tiny)
    assert "Mo" in too_big.value.message


async def test_serving_with_cache_headers_etag_and_thumbnail(client) -> None:
    data = jpeg_with_metadata((1200, 900), orientation=1)
    ref = (await client.post("/api/v1/media", files={"file": ("p.jpg", data, "image/jpeg")})).json()
    resp = await client.get(ref["url"])
    assert resp.status_code == 200
    assert "max-age=31536000" in resp.headers["cache-control"]
    assert resp.headers["x-content-type-options"] == "nosniff"
    etag = resp.headers["etag"]
    again = await client.get(ref["url"], headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    thumb = await client.get(ref["thumbnail_url"])
    assert thumb.status_code == 200 and thumb.headers["etag"] != etag
    assert Image.open(io.BytesIO(thumb.content)).size == (400, 300)
    assert resp.content != data


@pytest.mark.parametrize(
    "path",
    [
        "/media/{id}.webp",
        "/media/{id}.png",
        "/media/00000000000000000000000000000000.jpg",
        "/media/..%2F..%2Fetc%2Fpasswd.jpg",
        "/media/{id}/thumb.gif",
    ],
)
async def test_unknown_photos_answer_404(client, path) -> None:
    ref = (
        await client.post("/api/v1/media", files={"file": ("p.png", png_bytes(), "image/png")})
    ).json()
    resp = await client.get(path.format(id=ref["id"]))
    assert resp.status_code == 404
    assert resp.headers["content-type"] == "application/json"
    if "%2F" not in path:  # a decoded "/" matches no route at all
        assert resp.json()["message"] == "Photo introuvable."


async def test_webp_output_when_configured(session, settings) -> None:
    webp = settings.model_copy(update={"media_format": "webp"})
    ref = await store_photo(
        session=session, data=png_bytes(mode="RGBA"), filename=None, settings=webp
    )
    assert ref.content_type == "image/webp" and ref.url.endswith(".webp")
    photo = await session.get(Photo, ref.id)
    assert photo is not None
    decoded = Image.open(io.BytesIO(photo.data))
    assert decoded.format == "WEBP" and decoded.mode == "RGBA"
    assert not decoded.getexif()


async def test_webp_input_is_accepted(session, settings) -> None:
    buf = io.BytesIO()
    Image.new("RGB", (50, 40), (1, 2, 3)).save(buf, "WEBP")
    ref = await store_photo(session=session, data=buf.getvalue(), filename=None, settings=settings)
    assert (ref.width, ref.height) == (50, 40)


async def test_purge_deletes_old_originals_only(session, settings) -> None:
    old = await store_photo(session=session, data=png_bytes(), filename=None, settings=settings)
    new = await store_photo(session=session, data=png_bytes(), filename=None, settings=settings)
    await session.execute(
        update(PhotoOriginal)
        .where(PhotoOriginal.photo_id == old.id)
        .values(created_at=text("now() - interval '31 days'"))
    )
    assert await purge_originals(session=session, older_than_days=30) >= 1
    assert await session.get(PhotoOriginal, old.id, populate_existing=True) is None
    assert await session.get(PhotoOriginal, new.id) is not None
    assert await session.get(Photo, old.id) is not None  # the public photo stays
    assert await purge_originals(session=session, older_than_days=0) == 0


def test_file_names_lose_their_directories() -> None:
    assert safe_filename("../../etc/passwd") == "passwd"
    assert safe_filename("C:\\Users\\jean\\IMG 1.jpg") == "IMG 1.jpg"
    assert safe_filename("a\x00b\nc.jpg") == "abc.jpg"
    assert safe_filename(None) is None and safe_filename("..") is None


async def test_uploads_are_rate_limited(media_settings, session) -> None:
    limited = media_settings.model_copy(
        update={
            "rate_limits": "on",
            "rate_limit_rules": {"upload": "2/60"},
            "secret_key": "media-rl-" + secrets.token_hex(24),
        }
    )
    app = create_app(limited)

    async def _session() -> AsyncIterator[AsyncSession]:
        yield session

    app.dependency_overrides[get_session] = _session
    app.state.engine = session.bind
    files = {"file": ("p.png", png_bytes(), "image/png")}
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as ac:
        statuses = [(await ac.post("/api/v1/media", files=files)).status_code for _ in range(3)]
        refused = await ac.post("/api/v1/media", files=files)
        ref = (await session.execute(select(Photo.id).limit(1))).scalar_one()
        served = await ac.get(f"/media/{ref}.jpg")  # reading is never limited
    assert statuses == [201, 201, 429]
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
    assert served.status_code == 200


async def test_body_limit_overrides_apply_to_their_paths_only() -> None:
    from carto.media.upload import BodySizeLimit

    async def app(scope, receive, send) -> None:  # noqa: ANN001
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": str(len(body)).encode()})

    limited = BodySizeLimit(app, max_bytes=1000, overrides={r"/big/[^/]+": 5000})
    assert limited.limit_for("/big/x") == 5000
    assert limited.limit_for("/big/x/y") == 1000 and limited.limit_for("/other") == 1000
    async with AsyncClient(transport=ASGITransport(app=limited), base_url="http://t") as ac:
        assert (await ac.post("/big/x", content=b"a" * 3000)).text == "3000"
        assert (await ac.post("/other", content=b"a" * 3000)).status_code == 413
        assert (await ac.post("/big/x", content=b"a" * 6000)).status_code == 413


async def test_reference_layer_uploads_may_exceed_the_photo_body_limit(client) -> None:
    """12 MB reaches the layer route (401: no token) but not an ordinary route (413)."""
    files = {"file": ("layer.gpkg", b"\0" * (12 * 1024 * 1024), "application/geopackage+sqlite3")}
    layer = await client.post(
        "/api/v1/concertations/x/reference-layers", files=files, data={"title": "Couche"}
    )
    assert layer.status_code == 401
    photo = await client.post("/api/v1/media", files=files)
    assert photo.status_code == 413
