"""Glyph PBFs for the street names of Carto's own base map, built at install time.

MapLibre draws symbol labels from signed-distance-field glyphs fetched as protobuf
ranges (`{fontstack}/{start}-{end}.pbf`, 256 code points each). The usual builder
(`fontnik`) is a native module whose install downloads a prebuilt binary, which an
offline install cannot do; so the ranges are rendered here from Debian's DejaVu Sans
with Pillow (FreeType) and turned into distance fields with SciPy's exact Euclidean
distance transform, with the conventions of MapLibre's own local glyph renderer
(24 px, 3 px buffer, radius 8, cutoff 0.25). `make install` runs
`python -m carto.tiles.glyphs`; the app serves the files and never fetches any.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import numpy as np
from fastapi import APIRouter
from fastapi import Path as PathParam
from PIL import Image, ImageDraw, ImageFont
from scipy.ndimage import distance_transform_edt
from starlette.responses import Response

FONTSTACK = "DejaVu Sans"
FONT_FILE = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
GLYPHS_DIR = Path(__file__).resolve().parents[2] / "tiles" / "glyphs"
# Latin, Latin-1 (« », accents), Latin Extended A/B (œ, Œ), Latin Extended Additional,
# general punctuation (’ – …): what French street names use. Other ranges answer empty.
RANGES = (0, 256, 512, 7680, 8192)
SIZE, BUFFER, RADIUS, CUTOFF = 24, 3, 8.0, 0.25
TOP_ADJUST = 27  # MapLibre's baseline offset for glyphs of a 24 px em


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _field(number: int, value: int | bytes | str, *, signed: bool = False) -> bytes:
    """One protobuf field: varint (zigzag when `signed`) or length-delimited."""
    if isinstance(value, int):
        raw = (value << 1) ^ (value >> 31) if signed else value
        return _varint(number << 3) + _varint(raw & 0xFFFFFFFF)
    data = value.encode() if isinstance(value, str) else value
    return _varint(number << 3 | 2) + _varint(len(data)) + data


def sdf(alpha: np.ndarray) -> np.ndarray:
    """Distance field of a coverage bitmap (0..255): 192 on the outline's edge,
    decreasing outwards by 255/RADIUS per pixel."""
    inside = alpha >= 128
    outside_d = distance_transform_edt(~inside) if inside.any() else np.full(alpha.shape, 99.0)
    inside_d = distance_transform_edt(inside)
    d = np.where(inside, -(inside_d - 0.5), outside_d - 0.5)
    return np.clip(np.round(255 - 255 * (d / RADIUS + CUTOFF)), 0, 255).astype(np.uint8)


def _glyph(font: ImageFont.FreeTypeFont, code: int, notdef: bytes) -> bytes | None:
    char = chr(code)
    if code < 32 or 127 <= code < 160 or 0xD800 <= code < 0xE000:
        return None
    advance = round(font.getlength(char))
    x0, y0, x1, y1 = (int(v) for v in font.getbbox(char, anchor="ls"))
    width, height = max(x1 - x0, 0), max(y1 - y0, 0)
    fields = [_field(1, code)]
    if width and height:
        img = Image.new("L", (width + 2 * BUFFER, height + 2 * BUFFER), 0)
        ImageDraw.Draw(img).text((BUFFER - x0, BUFFER - y0), char, font=font, fill=255, anchor="ls")
        raw = img.tobytes()
        if raw == notdef:
            return None  # the font has no such character: let MapLibre skip it
        fields.append(_field(2, sdf(np.asarray(img)).tobytes()))
    fields += [
        _field(3, width),
        _field(4, height),
        _field(5, x0, signed=True),
        _field(6, -y0 - TOP_ADJUST, signed=True),
        _field(7, advance),
    ]
    return b"".join(fields)


def build_range(start: int, font: ImageFont.FreeTypeFont | None = None) -> bytes:
    """The glyph PBF of code points `start`..`start+255` (a `glyphs` message)."""
    font = font or ImageFont.truetype(str(FONT_FILE), SIZE, layout_engine=ImageFont.Layout.BASIC)
    box = [int(v) for v in font.getbbox("\uffff", anchor="ls")]
    probe = Image.new("L", (box[2] - box[0] + 2 * BUFFER, box[3] - box[1] + 2 * BUFFER), 0)
    ImageDraw.Draw(probe).text(
        (BUFFER - box[0], BUFFER - box[1]), "\uffff", font=font, fill=255, anchor="ls"
    )
    notdef = probe.tobytes()
    glyphs = (_glyph(font, code, notdef) for code in range(start, start + 256))
    body = _field(1, FONTSTACK) + _field(2, f"{start}-{start + 255}")
    body += b"".join(_field(3, g) for g in glyphs if g is not None)
    return _field(1, body)


def empty_range(fontstack: str, start: int) -> bytes:
    """A range with no glyph: MapLibre draws nothing for it and reports no error."""
    return _field(1, _field(1, fontstack) + _field(2, f"{start}-{start + 255}"))


def build_all(target: Path = GLYPHS_DIR) -> list[Path]:
    """Write every range of `RANGES` under `target/FONTSTACK/`."""
    font = ImageFont.truetype(str(FONT_FILE), SIZE, layout_engine=ImageFont.Layout.BASIC)
    out = target / FONTSTACK
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for start in RANGES:
        path = out / f"{start}-{start + 255}.pbf"
        path.write_bytes(build_range(start, font))
        written.append(path)
    return written


router = APIRouter(tags=["tuiles"])


@router.get("/tiles/glyphs/{fontstack}/{start}-{end}.pbf", include_in_schema=False)
async def glyph_range(
    fontstack: Annotated[str, PathParam(max_length=100)],
    start: Annotated[int, PathParam(ge=0, le=65280)],
    end: int,
) -> Response:
    """The built range, or an empty one for a range French names do not need."""
    headers = {"Cache-Control": "public, max-age=86400"}
    if fontstack.split(",")[0].strip() != FONTSTACK or start % 256 or end != start + 255:
        return Response(status_code=404)
    path = GLYPHS_DIR / FONTSTACK / f"{start}-{end}.pbf"
    body = path.read_bytes() if path.is_file() else empty_range(FONTSTACK, start)
    return Response(body, media_type="application/x-protobuf", headers=headers)


if __name__ == "__main__":
    if not FONT_FILE.is_file():
        sys.exit(f"{FONT_FILE} missing: apt-get install fonts-dejavu-core")
    paths = build_all()
    print(f"glyphs: {len(paths)} ranges of {FONTSTACK} in {paths[0].parent}")
