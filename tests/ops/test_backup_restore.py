"""Backup -> restore round trip: the demo database, with a photo, into a fresh cluster."""

from __future__ import annotations

import json
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import mapbox_vector_tile
import psycopg
import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner

from carto.app import create_app
from carto.cli import app
from carto.embedded import EmbeddedCluster
from carto.errors import CartoError
from carto.media.service import store_photo
from carto.ops.backup import MANIFEST, backup
from carto.ops.inventory import table_sums
from carto.ops.restore import restore, secret_key_of
from carto.settings import Settings, get_settings
from carto.tiles.grid import mercator_tms
from tests.conftest import serve_in_thread, started_cluster
from tests.media.test_photos import jpeg_with_metadata

PHOTO_ROWS = "SELECT id, md5(data), md5(thumb), etag FROM media_photo ORDER BY id"


@pytest.fixture(scope="module")
async def photo_id(async_engine: Any, demo_db: str) -> Any:
    """A photo committed in the demo database for this module (the demo has none)."""
    async with AsyncSession(async_engine) as session:
        ref = await store_photo(session=session, data=jpeg_with_metadata(), filename="a.jpg")
        await session.commit()
    yield ref.id
    with psycopg.connect(demo_db) as conn:
        conn.execute("DELETE FROM media_photo WHERE id = %s", (ref.id,))


@pytest.fixture(scope="module")
def archive(demo_db: str, photo_id: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("backup") / "carto.backup"
    backup(demo_db, path)
    return path


@pytest.fixture(scope="module")
def fresh() -> Iterator[EmbeddedCluster]:
    """A new embedded cluster, as `carto db restore --data-dir` makes on a new machine."""
    with started_cluster("carto-restore-test-") as cluster:
        yield cluster


@pytest.fixture(scope="module")
def restored(fresh: EmbeddedCluster, archive: Path) -> dict[str, Any]:
    return restore(fresh.url(), archive)


def test_manifest_describes_the_archive(archive: Path, demo_db: str, photo_id: str) -> None:
    with tarfile.open(archive) as tar:
        manifest = json.loads(tar.extractfile(MANIFEST).read())  # type: ignore[union-attr]
        assert {"manifest.json", "carto.dump"} <= set(tar.getnames())
    with psycopg.connect(demo_db) as conn:
        heads = sorted(r[0] for r in conn.execute("SELECT version_num FROM alembic_version"))
        reports = conn.execute("SELECT count(*) FROM signalement").fetchone()[0]
    assert manifest["migration_heads"] == heads
    assert manifest["tables"]["public.signalement"]["rows"] == reports > 0
    assert manifest["photos"] >= 1
    assert manifest["tables"]["tiles.heat_cell_default"]["rows"] >= 0


def test_every_table_and_photo_is_equal_after_restore(
    restored: dict[str, Any], fresh: EmbeddedCluster, demo_db: str
) -> None:
    with psycopg.connect(demo_db) as src, psycopg.connect(fresh.url()) as dst:
        before, after = table_sums(src), table_sums(dst)
        assert src.execute(PHOTO_ROWS).fetchall() == dst.execute(PHOTO_ROWS).fetchall()
        assert dst.execute("SELECT count(*) FROM media_original").fetchone()[0] >= 1
    skipped = {"tiles.tile_cache", "tiles.write_log", "tiles.log_horizon"}
    assert set(before) == set(after)
    for table in sorted(set(before) - skipped):
        assert after[table] == before[table], table
    assert after["public.signalement"]["rows"] > 0


def _settings(tmp: Path) -> Settings:
    return Settings(
        data_dir=tmp, secret_key="restore-test-" + "r" * 32, rate_limits="off",
        notifications_worker=False, public_url="http://test",
    )  # fmt: skip


def _features(tile: bytes) -> list[str]:
    """A tile's features, order aside (the encoder follows the heap's row order)."""
    layers = mapbox_vector_tile.decode(tile)
    return sorted(
        json.dumps([name, f["geometry"], f["properties"]], sort_keys=True)
        for name, layer in layers.items()
        for f in layer["features"]
    )


def _public_outputs(base: str) -> dict[str, Any]:
    with httpx.Client(base_url=base, timeout=30) as http:
        items = http.get("/ogc/collections/signalements/items", params={"limit": 50})
        assert items.status_code == 200, items.text
        lon, lat = items.json()["features"][0]["geometry"]["coordinates"]
        tile = mercator_tms().tile(lon, lat, 13)
        mvt = http.get(f"/tiles/signalements/13/{tile.x}/{tile.y}.mvt")
        assert mvt.status_code == 200 and mvt.content
        open311 = http.get("/open311/v2/requests.json")
        assert open311.status_code == 200
        return {
            "items": [(f["id"], f["geometry"], f["properties"]) for f in items.json()["features"]],
            "tile": _features(mvt.content),
            "open311": sorted(r["service_request_id"] for r in open311.json()),
        }


def test_restored_app_serves_the_same_outputs_as_the_roles(
    restored: dict[str, Any], fresh: EmbeddedCluster, demo_db: str, tmp_path: Path
) -> None:
    with serve_in_thread(create_app(_settings(tmp_path), db_url=demo_db)) as base:
        original = _public_outputs(base)
    with serve_in_thread(create_app(_settings(tmp_path), db_url=fresh.url())) as base:
        again = _public_outputs(base)
        with httpx.Client(base_url=base, timeout=30) as http:  # a write, as the app role
            created = http.post(
                "/open311/v2/requests.json",
                data={"lat": 50.6365, "long": 3.0635, "service_code": "voirie",
                      "description": "Après restauration"},
            )  # fmt: skip
            assert created.status_code in (200, 201), created.text
        with psycopg.connect(fresh.url()) as conn:
            seen = conn.execute(
                "SELECT DISTINCT usename::text FROM pg_stat_activity "
                "WHERE application_name LIKE 'carto%%' AND datname = current_database()"
            ).fetchall()
            # the tile cache stores again: the old cluster's transaction ids were reset
            cached = conn.execute("SELECT count(*) FROM tiles.tile_cache").fetchone()[0]
    assert again == original and original["open311"]
    assert cached >= 1
    assert {r[0] for r in seen} == {"carto_app_login", "carto_reader_login"}


def test_restore_refuses_a_database_that_holds_tables(
    restored: dict[str, Any], fresh: EmbeddedCluster, archive: Path
) -> None:
    with pytest.raises(CartoError, match="--force"):
        restore(fresh.url(), archive)


def test_restore_refuses_a_corrupt_archive(fresh: EmbeddedCluster, tmp_path: Path) -> None:
    bad = tmp_path / "bad.backup"
    bad.write_bytes(b"not a tar")
    with pytest.raises(CartoError, match="pas une sauvegarde Carto"):
        restore(fresh.url(), bad)


def test_cli_backs_up_and_refuses_to_restore_over_data(
    demo_db: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CARTO_DATABASE_URL", demo_db)
    monkeypatch.delenv("CARTO_SECRET_KEY", raising=False)
    get_settings.cache_clear()
    (tmp_path / "secret_key").write_text("la-clé-du-dossier")
    file = tmp_path / "nuit.backup"
    try:
        runner = CliRunner()
        made = runner.invoke(app, ["db", "backup", str(file), "--data-dir", str(tmp_path)])
        assert made.exit_code == 0, made.output
        assert "photo(s)" in made.output and file.is_file()
        assert secret_key_of(file) == "la-clé-du-dossier".encode()
        again = runner.invoke(app, ["db", "restore", str(file), "--data-dir", str(tmp_path)])
        assert again.exit_code == 2
        assert "contient déjà des tables" in " ".join(again.output.split())
    finally:
        get_settings.cache_clear()


def test_force_replaces_a_database_that_holds_tables(
    restored: dict[str, Any], fresh: EmbeddedCluster, archive: Path
) -> None:
    with psycopg.connect(fresh.url()) as conn:
        conn.execute("DELETE FROM media_photo")
        conn.execute("CREATE TABLE public.stray (x int)")
    again = restore(fresh.url(), archive, force=True)
    with psycopg.connect(fresh.url()) as conn:
        assert conn.execute("SELECT to_regclass('public.stray')").fetchone() == (None,)
        photos = conn.execute("SELECT count(*) FROM media_photo").fetchone()
    assert photos == (again["photos"],) and again["photos"] >= 1


def test_restore_ends_with_a_vacuum(fresh: EmbeddedCluster, archive: Path) -> None:
    """Restored pages are all-visible (dense tiles index-only) and statistics built.

    Autovacuum is off for this restore, so that the pages are the restore's own work."""
    with psycopg.connect(fresh.url(), autocommit=True) as conn:
        conn.execute("ALTER SYSTEM SET autovacuum = off")
        conn.execute("SELECT pg_reload_conf()")
    try:
        restored = restore(fresh.url(), archive, force=True)
    finally:
        with psycopg.connect(fresh.url(), autocommit=True) as conn:
            conn.execute("ALTER SYSTEM RESET autovacuum")
            conn.execute("SELECT pg_reload_conf()")
    with psycopg.connect(fresh.url(), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_visibility")
        pages, visible, counted, analyzed = conn.execute(
            "SELECT pg_relation_size('tiles.heat_point') / current_setting('block_size')::int,"
            " (pg_visibility_map_summary('tiles.heat_point')).all_visible,"
            " (SELECT relallvisible FROM pg_class WHERE oid = 'tiles.heat_point'::regclass),"
            " (SELECT count(*) FROM pg_statistic WHERE starelid = 'tiles.heat_point'::regclass)"
        ).fetchone()  # type: ignore[misc]
    assert pages > 0 and visible == pages and counted == pages, (pages, visible, counted)
    assert analyzed > 0  # ANALYZE wrote the column statistics
    assert restored["vacuum_seconds"] >= 0
