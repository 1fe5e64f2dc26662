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

import psycopg

from carto.db import libpq_url

# The tables bulk loads write (directly, or through the layers' triggers).
TILE_TABLES = (
    "tiles.heat_point",
    "tiles.heat_cell",
    "tiles.heat_delta",
    "tiles.write_log",
    "tiles.polygon_geom",
)


def vacuum_tile_tables(url: str) -> None:
    """VACUUM (ANALYZE) the tile tables: their pages all-visible, their statistics fresh.

    VACUUM cannot run in a transaction, hence a connection of its own in autocommit."""
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        conn.execute(f"VACUUM (ANALYZE) {', '.join(TILE_TABLES)}")
