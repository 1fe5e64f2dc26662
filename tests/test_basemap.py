"""`CARTO_BASEMAP`: parsing (a bad value stops the start with a clear message), what the
web map's config says, the CSP allowing exactly the chosen third party, and the
street-name glyphs served for the offline base."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import ValidationError

from carto.basemap import OSM_TILES, PLAN_IGN_STYLE, parse_basemap
from carto.security_headers import web_app_policy
from carto.settings import Settings
from carto.tiles.glyphs import FONTSTACK, build_range, router
from carto.web import basemap_of


def directives(policy: str) -> dict[str, list[str]]:
    return {d.split()[0]: d.split()[1:] for d in (p.strip() for p in policy.split(";")) if d}


def test_auto_is_the_default_plan_ign_with_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CARTO_BASEMAP", raising=False)
    base = basemap_of(Settings())
    assert base is not None
    assert (base.kind, base.url, base.fallback) == ("style", PLAN_IGN_STYLE, True)


@pytest.mark.parametrize(
    ("value", "kind", "url", "fallback"),
    [
        ("plan-ign", "style", PLAN_IGN_STYLE, False),
        ("OSM", "raster", OSM_TILES, False),
        (
            "https://tiles.example.fr/style.json",
            "style",
            "https://tiles.example.fr/style.json",
            False,
        ),
        (
            "https://t.example.fr/{z}/{x}/{y}.png",
            "raster",
            "https://t.example.fr/{z}/{x}/{y}.png",
            False,
        ),
    ],
)
def test_keywords_and_urls(value: str, kind: str, url: str, fallback: bool) -> None:
    base = basemap_of(Settings(basemap=value))
    assert base is not None and (base.kind, base.url, base.fallback) == (kind, url, fallback)


def test_none_draws_the_own_base_only() -> None:
    assert basemap_of(Settings(basemap="none")) is None
    assert parse_basemap("none").url is None


@pytest.mark.parametrize(
    "value", ["ign", "plan_ign", "ftp://x.example/style.json", "javascript:alert(1)",
              "https://", "https://t.example.fr/{z}/tile.png", "/local/style.json"],
)  # fmt: skip
def test_a_bad_value_is_a_clear_error_at_start(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CARTO_BASEMAP", value)
    with pytest.raises(ValidationError) as err:
        Settings()
    assert "CARTO_BASEMAP=" in str(err.value)


def test_the_older_basemap_url_still_works_unless_basemap_is_chosen() -> None:
    legacy = Settings(basemap_url="https://tiles.example.fr/style.json")
    assert legacy.basemap_choice.url == "https://tiles.example.fr/style.json"
    assert (
        Settings(basemap_url="https://x.example/s.json", basemap="none").basemap_choice.url is None
    )


@pytest.mark.parametrize(
    ("value", "third_party"),
    [
        ("auto", ["https://data.geopf.fr"]),
        ("plan-ign", ["https://data.geopf.fr"]),
        ("osm", ["https://tile.openstreetmap.org"]),
        ("none", []),
    ],
)
def test_the_csp_allows_exactly_the_chosen_third_party(value: str, third_party: list[str]) -> None:
    policy = directives(web_app_policy(Settings(basemap=value)))
    assert policy["connect-src"] == ["'self'", *third_party]
    assert policy["img-src"] == ["'self'", "data:", "blob:", *third_party]
    assert policy["script-src"] == ["'self'"]


def test_the_register_names_the_third_parties() -> None:
    from carto.accounts.privacy import processing_register

    line = next(p for p in processing_register() if "CARTO_BASEMAP" in p.name)
    assert "data.geopf.fr" in line.recipients and "tile.openstreetmap.org" in line.recipients


def test_glyph_ranges_are_served_and_decode() -> None:
    app = FastAPI()
    app.include_router(router)
    with TestClient(app) as tc:
        built = tc.get(f"/tiles/glyphs/{FONTSTACK}/0-255.pbf")
        other = tc.get(f"/tiles/glyphs/{FONTSTACK}/19968-20223.pbf")  # CJK: empty, no error
        wrong = tc.get("/tiles/glyphs/Comic Sans/0-255.pbf")
        misaligned = tc.get(f"/tiles/glyphs/{FONTSTACK}/10-265.pbf")
    assert built.status_code == 200 and built.headers["content-type"] == "application/x-protobuf"
    assert built.content == build_range(0), "tiles/glyphs not built by `make install`"
    assert other.status_code == 200 and FONTSTACK.encode() in other.content
    assert (wrong.status_code, misaligned.status_code) == (404, 404)


def test_a_glyph_range_holds_the_letters_of_french_street_names() -> None:
    """Decode the PBF by hand: `é` (233) and `É` (201) have a distance field of the size
    their metrics say (buffer 3), and a control character is absent."""
    data = build_range(0)
    glyphs = _glyphs(data)
    assert {ord("R"), ord("é"), ord("É"), ord(" ")} <= glyphs.keys() and 10 not in glyphs
    e = glyphs[ord("é")]
    assert len(e[2]) == (e[3] + 6) * (e[4] + 6) and max(e[2]) > 191 and min(e[2]) == 0
    assert glyphs[ord(" ")][7] > 0 and 2 not in glyphs[ord(" ")]  # an advance, no bitmap


def _varint(buf: bytes, i: int) -> tuple[int, int]:
    shift = value = 0
    while True:
        b = buf[i]
        value |= (b & 0x7F) << shift
        i, shift = i + 1, shift + 7
        if not b & 0x80:
            return value, i


def _fields(buf: bytes) -> list[tuple[int, int | bytes]]:
    out: list[tuple[int, int | bytes]] = []
    i = 0
    while i < len(buf):
        key, i = _varint(buf, i)
        if key & 7 == 2:
            n, i = _varint(buf, i)
            out.append((key >> 3, buf[i : i + n]))
            i += n
        else:
            v, i = _varint(buf, i)
            out.append((key >> 3, v))
    return out


def _glyphs(data: bytes) -> dict[int, dict[int, int | bytes]]:
    (_, stack), *_ = _fields(data)
    assert isinstance(stack, bytes)
    found = {}
    for number, value in _fields(stack):
        if number == 3 and isinstance(value, bytes):
            glyph = dict(_fields(value))
            found[int(glyph[1])] = glyph  # type: ignore[arg-type]
    return found


def test_carto_serve_refuses_a_bad_value_in_one_french_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from typer.testing import CliRunner

    from carto.cli import app
    from carto.settings import get_settings

    monkeypatch.setenv("CARTO_BASEMAP", "plan_ign")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["serve", "--port", "1"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2
    assert "Configuration" in result.output and "CARTO_BASEMAP='plan_ign'" in result.output
    assert "Traceback" not in result.output
