"""Bulk-load mode for the national import: secondary indexes built once, tile copies
rebuilt set-based, instead of both being maintained row by row during the load.

Measured on the 34,912 communes of France: the upsert takes ~15 s with its two GIN
indexes (trigram, words) and the tile triggers, ~1 s without them and the GiST one;
building the GIN indexes afterwards takes under 1 s, and `tiles.refresh_polygons(layer, NULL)` (the
very function the statement triggers call, for every id) rebuilds the simplified
copies. That rebuild runs in the database on a thread while the process computes the
unions (GEOS releases the GIL), so the two cores work at once.

The GIN indexes are dropped and built again; the unique and GiST ones stay (the upsert
and the membership join need them). Both are DDL inside the import's transaction
(`DROP INDEX`, `DISABLE TRIGGER`): the tables are locked (ACCESS EXCLUSIVE) until it
commits, and a failed import rolls back to the indexes and triggers it started with.
Needs the owner role, as the import does. Only the tile triggers (`tiles_<table>_*`)
are disabled; others (routing version) fire.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg


class BulkLoad:
    """The tables in bulk mode: their dropped index definitions and tile layers."""

    def __init__(self, conn: psycopg.Connection, tables: tuple[str, ...]) -> None:
        self.conn = conn
        self.tables = tables
        self.indexes: dict[str, list[tuple[str, str]]] = {}
        self.layers: dict[str, list[str]] = {}
        self.triggers: dict[str, list[str]] = {}
        self.refreshed: set[str] = set()
        self.seconds: dict[str, float] = {}  # tile copies' time per table (profiling)
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def start(self) -> None:
        for table in self.tables:
            # GIN only: the upsert needs the unique ones (ON CONFLICT), the membership
            # join the GiST ones, and GIN is the costly one to maintain row by row.
            self.indexes[table] = self.conn.execute(
                """SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i
                   JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam
                   WHERE i.indrelid = %s::regclass AND NOT i.indisunique
                     AND am.amname = 'gin' ORDER BY c.relname""",
                (table,),
            ).fetchall()
            triggers = self.conn.execute(
                """SELECT tgname, tgargs FROM pg_trigger WHERE tgrelid = %s::regclass
                   AND NOT tgisinternal AND tgname LIKE 'tiles\\_%%' ORDER BY tgname""",
                (table,),
            ).fetchall()
            self.layers[table] = sorted({bytes(args).split(b"\0")[0].decode()
                                         for _, args in triggers})  # fmt: skip
            for name, _ in self.indexes[table]:
                self.conn.execute(f'DROP INDEX "{name}"')
            self.triggers[table] = [name for name, _ in triggers]
            for name in self.triggers[table]:
                self.conn.execute(f'ALTER TABLE {table} DISABLE TRIGGER "{name}"')

    def build_indexes(self, table: str) -> None:
        """The table's dropped indexes, built again from their saved definitions."""
        for _, definition in self.indexes.pop(table, []):
            self.conn.execute(definition)

    def refresh_tiles(self, table: str, *, background: bool = False) -> None:
        """The table's tile copies rebuilt set-based (all its ids), its cached tiles
        dropped: what the statement trigger does for a load of more than 200 boxes.
        `background`: on a thread, until the next `wait` (use no other statement then)."""
        self.build_indexes(table)
        self.refreshed.add(table)
        if not background:
            self._refresh(table)
            return
        self.wait()
        self._thread = threading.Thread(target=self._run, args=(table,), daemon=True)
        self._thread.start()

    def _run(self, table: str) -> None:
        try:
            self._refresh(table)
        except BaseException as exc:  # re-raised by wait(), in the caller's thread
            self._error = exc

    def _refresh(self, table: str) -> None:
        started = time.perf_counter()
        for layer in self.layers.get(table, []):
            self.conn.execute("SELECT tiles.touch_layer(%s)", (layer,))
            self.conn.execute("SELECT tiles.refresh_polygons(%s, NULL)", (layer,))
            self.conn.execute("DELETE FROM tiles.tile_cache WHERE layer = %s", (layer,))
        self.seconds[f"tuiles {table}"] = time.perf_counter() - started

    def wait(self) -> None:
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def finish(self) -> None:
        self.wait()
        for table in self.tables:
            if table not in self.refreshed:
                self.refresh_tiles(table)
            for name in self.triggers[table]:
                self.conn.execute(f'ALTER TABLE {table} ENABLE TRIGGER "{name}"')


@contextmanager
def bulk_load(conn: psycopg.Connection, *tables: str) -> Iterator[BulkLoad]:
    """Bulk mode on `tables` for the body (inside a transaction); on success the indexes
    are built again, the tile copies rebuilt and the triggers enabled."""
    bulk = BulkLoad(conn, tables)
    bulk.start()
    try:
        yield bulk
    except BaseException:
        if bulk._thread is not None:  # the transaction rolls back once the thread is done
            bulk._thread.join()
        raise
    bulk.finish()
