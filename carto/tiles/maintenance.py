"""Vacuum of the tile tables after a bulk load, and their autovacuum settings.

A dense point tile is an index-only scan of `tiles.heat_point`'s SP-GiST index
(carto/tiles/sql/points.sql): it reads no heap page only where the visibility map says
the page is all-visible, which only VACUUM sets. A bulk load leaves every page it wrote
not all-visible, so each dense tile then pays a heap fetch per point (issue 23: 1.5× tipg
instead of 3.8× on 1 M points); every bulk writer therefore ends with
`vacuum_tile_tables`. Between bulk loads, the per-table autovacuum settings of
migration e001 keep the pages of new reports visible after a small share of writes.
"""

from __future__ import annotations

import time

import psycopg

from carto.db_url import libpq_url

# The tables bulk loads write (directly, or through the layers' triggers).
TILE_TABLES = (
    "tiles.heat_point",
    "tiles.heat_cell",
    "tiles.heat_delta",
    "tiles.write_log",
    "tiles.polygon_geom",
)


def vacuum_tile_tables(url: str, *, whole_database: bool = False) -> None:
    """VACUUM (ANALYZE) the tile tables (or the whole database): their pages all-visible,
    their statistics fresh.

    VACUUM cannot run in a transaction, hence a connection of its own in autocommit. A
    VACUUM marks a page all-visible only if no snapshot older than its rows is open; right
    after a bulk load autovacuum's own ANALYZE of a fresh table often holds one, and the
    VACUUM then leaves the pages as they were. So the tile tables are vacuumed again, a
    few times, until `tiles.heat_point` is all-visible (or a live app keeps writing)."""
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)" if whole_database else f"VACUUM (ANALYZE) {TABLES}")
        for _ in range(RETRIES):
            visible, pages = conn.execute(VISIBILITY).fetchone()  # type: ignore[misc]
            if visible >= pages:
                return
            time.sleep(RETRY_PAUSE_S)
            conn.execute(f"VACUUM {TABLES}")


TABLES = ", ".join(TILE_TABLES)
RETRIES = 10
RETRY_PAUSE_S = 0.5
VISIBILITY = "SELECT relallvisible, relpages FROM pg_class WHERE oid = 'tiles.heat_point'::regclass"
