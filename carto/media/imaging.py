"""Pure image processing: sniff, decode safely, orient, strip every metadata, re-encode.

No I/O here. The type is decided by the bytes (magic numbers, then a full decode by
Pillow restricted to JPEG/PNG/WebP), never by the file name or the declared type.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from carto.errors import InvalidInput, TooLarge

ALLOWED = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
OUTPUT = {"jpeg": ("JPEG", "image/jpeg", "jpg"), "webp": ("WEBP", "image/webp", "webp")}
MAX_ICC_BYTES = 64 * 1024

NOT_AN_IMAGE = "Ce fichier n'est pas une photo JPEG, PNG ou WebP."
UNREADABLE = "Cette image est illisible ou incomplète : envoyez une autre photo."


@dataclass(frozen=True)
class Rendition:
    data: bytes
    width: int
    height: int


@dataclass(frozen=True)
class Processed:
    """What `process` makes of an upload: the detected input type and two clean images."""

    source_type: str
    content_type: str
    extension: str
    image: Rendition
    thumb: Rendition


def sniff(data: bytes) -> str | None:
    """The Pillow format name from the magic number, or None for anything else."""
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return None


def _open(data: bytes, fmt: str, max_pixels: int, side: int) -> Image.Image:
    """Decode fully, refusing bombs (our pixel cap and Pillow's guard) and truncation."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            img = Image.open(io.BytesIO(data), formats=[fmt])
            width, height = img.size
            if width * height > max_pixels:
                raise TooLarge(
                    f"Image trop grande ({width} × {height} pixels) : "
                    f"au plus {max_pixels // 1_000_000} mégapixels.",
                    detail=f"{width}x{height} over the pixel cap",
                )
            if fmt == "JPEG":
                # Decode big JPEGs at a reduced scale (never below `side`): less memory and
                # time, the same result once resized to `side`.
                img.draft("RGB", (side, side))
            img.load()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise TooLarge(
                "Image trop grande une fois décompressée.", detail=f"decompression bomb: {exc}"
            ) from exc
        except UnidentifiedImageError as exc:
            raise InvalidInput(NOT_AN_IMAGE, detail=str(exc)) from exc
        except (OSError, SyntaxError, ValueError, EOFError, IndexError) as exc:
            raise InvalidInput(UNREADABLE, detail=f"decode failed: {exc}") from exc
    return img


def _flatten(img: Image.Image, fmt: str) -> Image.Image:
    """RGB (or RGBA for WebP), alpha composited on white where the output has none."""
    has_alpha = img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info)
    if has_alpha:
        rgba = img.convert("RGBA")
        if fmt == "WEBP":
            return rgba
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return img.convert("RGB")


def _encode(img: Image.Image, fmt: str, icc: bytes | None, quality: int) -> bytes:
    """Save with nothing but pixels (and an sRGB-or-camera ICC profile when small)."""
    img.info.clear()  # EXIF, XMP, comments, text chunks: nothing is carried over
    options: dict[str, object] = {"quality": quality, "exif": b""}
    if icc and len(icc) <= MAX_ICC_BYTES:
        options["icc_profile"] = icc
    if fmt == "JPEG":
        options.update(optimize=True, progressive=True)
    else:
        options.update(method=4)
    buf = io.BytesIO()
    img.save(buf, fmt, **options)
    return buf.getvalue()


def _resized(img: Image.Image, side: int) -> Image.Image:
    copy = img.copy()
    copy.thumbnail((side, side), Image.Resampling.LANCZOS)
    return copy


def process(
    data: bytes,
    *,
    max_bytes: int,
    max_pixels: int,
    max_side: int = 2048,
    thumb_side: int = 400,
    output: str = "jpeg",
) -> Processed:
    """The public image and thumbnail of an upload; InvalidInput/TooLarge when refused."""
    if len(data) > max_bytes:
        raise TooLarge(f"Photo trop lourde : au plus {max_bytes // (1024 * 1024)} Mo.")
    fmt = sniff(data)
    if fmt is None:
        raise InvalidInput(NOT_AN_IMAGE, detail="unknown magic number")
    out_fmt, content_type, ext = OUTPUT.get(output.lower(), OUTPUT["jpeg"])
    img = _open(data, fmt, max_pixels, max_side)
    icc = img.info.get("icc_profile")
    try:
        oriented = ImageOps.exif_transpose(img)  # orientation first, then strip it
    except (OSError, SyntaxError, ValueError, KeyError, TypeError):
        oriented = img  # an unreadable EXIF block only loses its orientation
    flat = _flatten(oriented, out_fmt)
    main = _resized(flat, max_side)
    thumb = _resized(main, thumb_side)
    return Processed(
        source_type=ALLOWED[fmt],
        content_type=content_type,
        extension=ext,
        image=Rendition(_encode(main, out_fmt, icc, 85), *main.size),
        thumb=Rendition(_encode(thumb, out_fmt, icc, 80), *thumb.size),
    )
