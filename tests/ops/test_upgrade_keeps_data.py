"""Upgrades keep data: a database populated at the head before the database roles
(7ac8bc4: no roles, no idempotency keys, no masked descriptions, tile SQL before the
squash) is upgraded by today's migrations; every row stays, every public output answers
as the roles; then each revision added since goes down one step and up again."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from alembic import command
from alembic.script import ScriptDirectory

from carto.app import create_app
from carto.db import make_sync_engine
from carto.ops.inventory import EXCLUDED_DATA, RESET_AT_RESTORE, table_sums
from carto.runtime import alembic_config, upgrade
from carto.settings import Settings
from carto.tiles.grid import mercator_tms
from tests.conftest import serve_in_thread
from tests.media.test_photos import jpeg_with_metadata
from tests.tiles.test_tile_sql import PREVIOUS_HEAD, create_database, drop_database, seed_at

DERIVED = set(EXCLUDED_DATA) | set(RESET_AT_RESTORE) | {"public.alembic_version"}
PHOTO = "0123456789abcdef0123456789abcdef"


def seed_photo(url: str) -> bytes:
    """A photo attached to the first report, as the intake stores it (rows, not files)."""
    data = jpeg_with_metadata()
    with psycopg.connect(url) as conn:
        conn.execute(
            "INSERT INTO media_photo (id, content_type, width, height, data, thumb, thumb_width,"
            " thumb_height, etag) VALUES (%s, 'image/jpeg', 300, 200, %s, %s, 30, 20, 'e')",
            (PHOTO, data, data[:100]),
        )
        conn.execute(
            "INSERT INTO signalement_photo (signalement_id, photo_id, authority_id, position) "
            "SELECT id, %s, authority_id, 0 FROM signalement ORDER BY id LIMIT 1",
            (PHOTO,),
        )
    return data


def counts(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        return {t: v["rows"] for t, v in table_sums(conn).items() if t not in DERIVED}


def public_outputs(url: str, tmp: Path) -> dict[str, Any]:
    settings = Settings(data_dir=tmp, secret_key="u" * 40, rate_limits="off",
                        notifications_worker=False, public_url="http://test")  # fmt: skip
    out: dict[str, Any] = {}
    with (
        serve_in_thread(create_app(settings, db_url=url)) as base,
        httpx.Client(base_url=base, timeout=30) as http,
    ):
        assert http.get("/healthz").json()["status"] == "ok"
        for layer in ("signalements", "contributions", "communes"):
            items = http.get(f"/ogc/collections/{layer}/items", params={"limit": 1000})
            assert items.status_code == 200, items.text
            out[layer] = sorted(str(f["id"]) for f in items.json()["features"])
            assert out[layer], layer
        lon, lat = http.get("/ogc/collections/signalements/items?limit=1").json()["features"][0][
            "geometry"]["coordinates"]  # fmt: skip
        tile = mercator_tms().tile(lon, lat, 12)
        assert http.get(f"/tiles/signalements/12/{tile.x}/{tile.y}.mvt").status_code == 200
        heat = http.get(f"/tiles/heatmap/signalements/10/{tile.x >> 2}/{tile.y >> 2}.png")
        assert heat.status_code in (200, 204), heat.text
        open311 = http.get("/open311/v2/requests.json", params={"status": "open,closed"})
        assert open311.status_code == 200
        out["open311"] = sorted(r["service_request_id"] for r in open311.json())
        photo = http.get(f"/media/{PHOTO}.jpg")
        assert photo.status_code == 200
        out["photo"] = hashlib.sha256(photo.content).hexdigest()
    return out


@pytest.fixture
def old_db(server_url: str) -> Iterator[str]:
    url = create_database(server_url, "carto_upkeep")
    try:
        yield url
    finally:
        drop_database(server_url, url)


@pytest.mark.slow
def test_upgrade_from_before_the_roles_keeps_every_row(old_db: str, tmp_path: Path) -> None:
    # reports, supports, contributions, votes, comments, rules: as that version loaded them
    old = seed_at(PREVIOUS_HEAD, old_db, tmp_path / "old")
    photo = seed_photo(old_db)
    before = counts(old_db)
    for table in (
        "signalement",
        "contribution",
        "contribution_vote",
        "competence_rule",
        "media_photo",
    ):
        assert before.get(f"public.{table}", 0) > 0, table
    with psycopg.connect(old_db) as conn:
        ids = sorted(str(r[0]) for r in conn.execute("SELECT id FROM signalement"))

    upgrade(old_db)
    after = counts(old_db)
    # Nothing lost; the one row a migration adds is y001's platform authority.
    # tiles.heat_delta is a queue the worker folds: v017's uncounted own votes add to it.
    expected = {**before, "public.authority": before["public.authority"] + 1}
    expected.pop("tiles.heat_delta", None)
    assert {t: n for t, n in after.items() if t in expected} == expected
    with psycopg.connect(old_db) as conn:
        added = conn.execute("SELECT slug FROM authority WHERE kind = 'plateforme'").fetchall()
    assert added == [("plateforme",)]
    outputs = public_outputs(old_db, tmp_path)
    assert set(outputs["open311"]) <= set(ids) and outputs["open311"]
    assert outputs["photo"] == hashlib.sha256(photo).hexdigest()

    # Each revision added since that head goes down one step and up again: what it does
    # not drop keeps every row, what it drops comes back, the outputs still answer.
    old_ids = {p.read_text().split('revision: str = "')[1][:4] for p in
               (old / "carto" / "migrations" / "versions").glob("*.py")}  # fmt: skip
    new_heads = sorted(set(ScriptDirectory.from_config(alembic_config()).get_heads()) - old_ids)
    assert len(new_heads) >= 5, new_heads
    engine = make_sync_engine(old_db)
    try:
        for head in new_heads:
            with engine.begin() as conn:
                command.downgrade(alembic_config(connection=conn), f"{head}@-1")
            kept = counts(old_db)
            upgrade(old_db)
            again = counts(old_db)
            assert set(again) == set(after), head
            # Rows a downgrade removed are the ones its migration seeds (y001's platform
            # authority): the upgrade brings them back exactly; every other count is kept.
            # The worker's queue (tiles.heat_delta) grows with the rows a step rewrites.
            expected = {t: max(n, after.get(t, n)) for t, n in kept.items()}
            expected.pop("tiles.heat_delta", None)
            assert {t: again[t] for t in expected} == expected, head
    finally:
        engine.dispose()
    assert public_outputs(old_db, tmp_path) == outputs
