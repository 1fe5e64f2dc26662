"""The tiles schema's SQL has one home, carto/tiles/sql (applied by carto/tiles/schema.py).

A database upgraded from the previous head (the g001-g008 history that the g008
baseline squashes) and one built from empty hold the same tile functions, views and
triggers as before, `pg_get_functiondef` for `pg_get_functiondef`, but for the two dead
functions dropped; the upgraded one serves the same tiles; the tiles branch goes down
and up again; the files and the layer rows are what the live database holds.
"""

from __future__ import annotations

import importlib.util
import os
import secrets
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path

import psycopg
import pytest
from alembic import command
from sqlalchemy.ext.asyncio import AsyncSession

from carto.db import make_async_engine, make_sync_engine, with_driver
from carto.runtime import alembic_config, upgrade
from carto.tiles.db import SessionTileDB
from carto.tiles.filters import TileFilters
from carto.tiles.grid import (
    HEAT_MAX_LEVEL,
    HEAT_MIN_LEVEL,
    WORLD_SIZE,
    ZOOM_BANDS,
    TileRequest,
    mercator_tms,
)
from carto.tiles.layers import get_layer
from carto.tiles.schema import apply_tile_sql, point_layer_rows, polygon_layer_rows
from carto.tiles.service import render_tile

REPO = Path(__file__).resolve().parents[2]
PREVIOUS_HEAD = "7ac8bc4"  # the last commit with the tile migrations g001-g008
DROPPED = {"function tiles.on_point_row()", "function tiles.point_changed(text,text)"}
# Rewritten on purpose since that head (z001: the set-based heat-grid rebuild; ii01: the
# polygon refresh computing each geometry once, same rows).
REWRITTEN = {"function tiles.rebuild_heat(text)", "function tiles.refresh_polygons(text,text[])"}
# Added since (k002: the incremental rebuild).
ADDED = {"function tiles.heat_agrees(text)", "function tiles.rebuild_heat(text,boolean)"}
# A layer's own heat partition exists once the layer was rebuilt (a data step, not DDL).
PARTITION = r"^heat_cell_[0-9a-f]{12}$"

CATALOGUE = f"""
SELECT 'function ' || p.oid::regprocedure, pg_get_functiondef(p.oid)
FROM pg_proc p WHERE p.pronamespace = to_regnamespace('tiles')
UNION ALL
SELECT 'view ' || c.oid::regclass, pg_get_viewdef(c.oid)
FROM pg_class c WHERE c.relnamespace = to_regnamespace('tiles') AND c.relkind = 'v'
UNION ALL
SELECT 'trigger ' || t.tgrelid::regclass || ' ' || t.tgname, pg_get_triggerdef(t.oid)
FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
WHERE p.pronamespace = to_regnamespace('tiles')
UNION ALL
SELECT 'table ' || c.oid::regclass, c.relkind::text || ' ' || string_agg(
    format('%s %s %s %s %s', a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
           a.attcollation::regcollation, pg_get_expr(d.adbin, d.adrelid)), ', '
    ORDER BY a.attnum)
FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0
LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
WHERE c.relnamespace = to_regnamespace('tiles') AND c.relkind IN ('r', 'p')
  AND c.relname !~ '{PARTITION}'
GROUP BY c.oid, c.relkind
UNION ALL
SELECT 'index ' || i.indexrelid::regclass, pg_get_indexdef(i.indexrelid)
FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
WHERE c.relnamespace = to_regnamespace('tiles') AND c.relname !~ '{PARTITION}'
"""

FINGERPRINT = """
SELECT 'points ' || layer, count(*)::text || ' ' || md5(string_agg(
    concat_ws(' ', id, x, y, bxmin, bymin, bxmax, bymax, dim_a, dim_b, w, rec), ','
    ORDER BY id))
FROM tiles.heat_point GROUP BY layer
UNION ALL
SELECT 'cells ' || layer, md5(string_agg(concat_ws(' ', dim_a, level, cy, cx, dim_b, n, w), ','
    ORDER BY dim_a, level, cy, cx, dim_b))
FROM (SELECT layer, dim_a, level, cy, cx, dim_b, sum(n) AS n, sum(w) AS w
      FROM tiles.heat_cells GROUP BY 1, 2, 3, 4, 5, 6) s GROUP BY layer
UNION ALL
SELECT 'polygons ' || layer, count(*)::text || ' ' || md5(string_agg(
    concat_ws(' ', band, id, props, ST_AsEWKB(geom_3857)), ',' ORDER BY band, id))
FROM tiles.polygon_geom GROUP BY layer
"""


def catalogue(url: str) -> dict[str, str]:
    with psycopg.connect(url) as conn:
        return dict(conn.execute(CATALOGUE).fetchall())  # type: ignore[arg-type]


def create_database(server_url: str, prefix: str) -> str:
    name = f"{prefix}_{secrets.token_hex(4)}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return (
        with_driver(server_url, "psycopg")
        .set(database=name, drivername="postgresql")
        .render_as_string(hide_password=False)
    )


def drop_database(server_url: str, url: str) -> None:
    name = url.rsplit("/", 1)[1].split("?")[0]
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def fresh_db(server_url: str) -> Iterator[str]:
    """A database migrated from empty by the current history (no demo, no test layers)."""
    url = create_database(server_url, "carto_tilesql")
    try:
        upgrade(url)
        yield url
    finally:
        drop_database(server_url, url)


def previous_migrations(tmp_path: Path) -> Path:
    """carto/migrations as of PREVIOUS_HEAD, from git (skipped without the history)."""
    return tree_at(PREVIOUS_HEAD, "carto/migrations", tmp_path) / "carto" / "migrations"


def tree_at(commit: str, path: str, tmp_path: Path) -> Path:
    """`path` as of `commit`, extracted from git under `tmp_path` (skipped without the
    history); returns `tmp_path`."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    found = subprocess.run(
        ["git", "-C", str(REPO), "archive", commit, path],
        capture_output=True,
        check=False,
    )
    if found.returncode != 0:
        pytest.skip(f"no git history with {commit}: {found.stderr.decode()[:200]}")
    with tarfile.open(fileobj=BytesIO(found.stdout)) as archive:
        archive.extractall(tmp_path, filter="data")
    return tmp_path


# That version's migrations and demo loader (today's loader writes columns it lacks).
SEED = """import os, sys, carto, carto.runtime, carto.demo.loader
assert carto.__file__.startswith(os.getcwd()), carto.__file__
carto.runtime.upgrade(sys.argv[1]); carto.demo.loader.load_demo(sys.argv[1])"""


def seed_at(commit: str, url: str, tmp_path: Path) -> Path:
    """Migrate `url` and load the demo with the code of `commit`, in its own process;
    returns the extracted tree."""
    old = tree_at(commit, "carto", tmp_path)
    seeded = subprocess.run(
        [sys.executable, "-c", SEED, url], cwd=old, env={**os.environ, "PYTHONPATH": str(old)},
        capture_output=True, text=True, check=False, timeout=600,
    )  # fmt: skip
    assert seeded.returncode == 0, seeded.stderr[-3000:]
    return old


def upgrade_with(url: str, script_location: Path) -> None:
    """`carto.runtime.upgrade`, with another migrations folder."""
    engine = make_sync_engine(url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS postgis")
            cfg = alembic_config(connection=conn)
            cfg.set_main_option("script_location", str(script_location))
            command.upgrade(cfg, "heads")
    finally:
        engine.dispose()


async def served_tiles(url: str) -> dict[str, bytes]:
    """A few tiles of each kind (stored points, view points, clusters, polygons) around
    the first signalement and the first contribution."""
    tms = mercator_tms()
    engine = make_async_engine(url, pool_size=1, max_overflow=0)
    out: dict[str, bytes] = {}
    try:
        async with AsyncSession(engine) as session:
            db = SessionTileDB(session)
            for layer_name, view in (
                ("signalements", "public_layers.signalements"),
                ("contributions", "public_layers.contributions"),
                ("communes", "public_layers.communes"),
            ):
                row = await db.row(
                    f"SELECT ST_X(ST_PointOnSurface(geom)) AS lon,"  # noqa: S608
                    f" ST_Y(ST_PointOnSurface(geom)) AS lat FROM {view} ORDER BY id LIMIT 1",
                    {},
                )
                assert row is not None, f"{view} is empty"
                for z in (8, 11, 14):
                    t = tms.tile(row["lon"], row["lat"], z)
                    layer = get_layer(layer_name)
                    body, _snap, mode = await render_tile(
                        db, layer, TileRequest(z, t.x, t.y), TileFilters()
                    )
                    out[f"{layer_name} {z}/{t.x}/{t.y} {mode}"] = body
    finally:
        await engine.dispose()
    return out


def fingerprint(url: str) -> dict[str, str]:
    with psycopg.connect(url) as conn:
        conn.execute("SELECT tiles.fold_heat(interval '0')")
        conn.commit()
        return dict(conn.execute(FINGERPRINT).fetchall())  # type: ignore[arg-type]


@pytest.mark.slow
async def test_upgrade_from_previous_head(
    server_url: str, fresh_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = previous_migrations(tmp_path)
    # The old revisions import their loader of earlier revisions from carto.migrations.
    spec = importlib.util.spec_from_file_location("old_revisions", old / "revisions.py")
    assert spec is not None and spec.loader is not None
    revisions = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(revisions)
    monkeypatch.setitem(sys.modules, "carto.migrations.revisions", revisions)

    url = create_database(server_url, "carto_prevhead")
    try:
        upgrade_with(url, old)
        before = catalogue(url)
        seed_at(PREVIOUS_HEAD, url, tmp_path / "tree")
        with psycopg.connect(url) as conn:  # v017 stops counting these: tile data would move
            conn.execute(
                "DELETE FROM contribution_vote v USING contribution c "
                "WHERE c.id = v.contribution_id AND c.author_id = v.user_id"
            )
        data_before, tiles_before = fingerprint(url), await served_tiles(url)
        assert any(k.startswith("points signalements") for k in data_before)
        assert any(k.startswith("points contributions") for k in data_before)

        upgrade(url)
        after = catalogue(url)
        assert before.keys() >= DROPPED
        assert before.keys() >= REWRITTEN and after.keys() >= REWRITTEN | ADDED
        assert not before.keys() & ADDED
        kept = {k: v for k, v in before.items() if k not in DROPPED | REWRITTEN}
        assert kept == {k: v for k, v in after.items() if k not in REWRITTEN | ADDED}
        assert after == catalogue(fresh_db)
        assert fingerprint(url) == data_before
        assert await served_tiles(url) == tiles_before

        # The recompiled trigger still keeps the heat points (a support changes the weight).
        with psycopg.connect(url) as conn:
            sid, w = conn.execute(
                "SELECT id::bigint, w FROM tiles.heat_point WHERE layer = 'signalements'"
                " ORDER BY id LIMIT 1"
            ).fetchone()  # type: ignore[misc]
            conn.execute("UPDATE signalement SET supports = supports + 1 WHERE id = %s", (sid,))
            new_w = conn.execute(
                "SELECT w FROM tiles.heat_point WHERE layer = 'signalements' AND id = %s",
                (str(sid),),
            ).fetchone()
            assert new_w == (w + 1,)
            conn.rollback()
    finally:
        drop_database(server_url, url)


def test_tiles_branch_down_and_up(fresh_db: str) -> None:
    before = catalogue(fresh_db)
    assert before and not DROPPED & before.keys()
    engine = make_sync_engine(fresh_db)
    try:
        with engine.begin() as conn:
            command.downgrade(alembic_config(connection=conn), "tiles@base")
    finally:
        engine.dispose()
    assert catalogue(fresh_db) == {}
    with psycopg.connect(fresh_db) as conn:
        assert (
            conn.execute("SELECT tgname FROM pg_trigger WHERE tgname LIKE 'tiles%'").fetchall()
            == []
        )
    upgrade(fresh_db)
    assert catalogue(fresh_db) == before


def test_files_are_the_live_definitions(sync_conn: psycopg.Connection) -> None:
    """Applying the files again changes nothing: no edit waits for its revision."""
    live = dict(sync_conn.execute(CATALOGUE).fetchall())  # type: ignore[arg-type]
    apply_tile_sql(sync_conn.execute)
    assert dict(sync_conn.execute(CATALOGUE).fetchall()) == live  # type: ignore[arg-type]


def test_constants_and_rows_come_from_python(sync_conn: psycopg.Connection) -> None:
    """The grid constants and the layer rows in the database are the Python modules' ones."""
    q = sync_conn.execute
    envelope = q(
        "SELECT ST_XMax(e) - ST_XMin(e), ST_YMax(e) - ST_YMin(e) FROM ST_TileEnvelope(0, 0, 0) e"
    ).fetchone()
    z0 = mercator_tms().xy_bounds(mercator_tms().tile(0, 0, 0))
    assert envelope == (WORLD_SIZE, WORLD_SIZE) and z0.right - z0.left == WORLD_SIZE
    levels = q("SELECT tiles.heat_min_level(), tiles.heat_max_level()").fetchone()
    assert levels == (HEAT_MIN_LEVEL, HEAT_MAX_LEVEL)
    assert q("SELECT * FROM tiles.band ORDER BY band").fetchall() == list(ZOOM_BANDS)
    points = q(
        "SELECT layer, source, id_type, dim_a, dim_b, weight, maxzoom, base_table::text,"
        " id_column, to_regclass('tiles.' || tiles.point_index_name(layer)) IS NOT NULL"
        " FROM tiles.point_layer WHERE base_table IS NOT NULL AND layer NOT LIKE 'test%'"
        " ORDER BY layer"
    ).fetchall()
    expected = sorted(
        (*row[:7], str(row[7]).removeprefix("public."), *row[8:]) for row in point_layer_rows()
    )
    assert points == expected
    polygons = q(
        "SELECT layer, source, props, id_type, maxzoom FROM tiles.polygon_layer ORDER BY layer"
    ).fetchall()
    assert polygons == sorted((r[0], r[1], list(r[2]), *r[3:5]) for r in polygon_layer_rows())  # type: ignore[arg-type]
