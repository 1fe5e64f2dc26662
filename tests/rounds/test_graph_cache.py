"""The street graph is built once per import, kept on disk, and rebuilt after a new
`carto import streets` (the stale file removed)."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from carto.rounds import graph as graph_module
from carto.rounds.graph import GraphStore, StreetsMissing, prepare_graph
from carto.routing.streets import load_streets
from tests.rounds.helsinki import HELSINKI_PBF

LONE = """<?xml version='1.0' encoding='UTF-8'?><osm version='0.6'>
<node id='1' lat='60.1700' lon='24.9394'/><node id='2' lat='60.1700' lon='24.9400'/>
<node id='3' lat='60.1705' lon='24.9400'/>
<way id='9'><nd ref='1'/><nd ref='2'/><nd ref='3'/><tag k='highway' v='residential'/></way>
</osm>"""


def load(demo_db: str, path, force: bool = False) -> None:  # type: ignore[no-untyped-def]
    with psycopg.connect(demo_db) as conn:
        load_streets(conn, path, force=force)
        conn.commit()


async def current(store: GraphStore, async_engine):  # type: ignore[no-untyped-def]
    """The store's graph read in a short transaction of its own, like a request."""
    async with AsyncSession(async_engine) as session:
        return await store.current(session=session)


async def test_new_import_rebuilds_the_graph(async_engine, demo_db, tmp_path, monkeypatch):
    store = GraphStore(tmp_path)
    try:
        with psycopg.connect(demo_db) as conn:
            conn.execute("TRUNCATE street_segment, street_import")
            conn.commit()
        with pytest.raises(StreetsMissing, match="carto import streets"):
            await current(store, async_engine)
        load(demo_db, HELSINKI_PBF, force=True)
        first = await current(store, async_engine)
        assert first.graph.number_of_nodes() > 5000
        files = list((tmp_path / "street_graph").glob("*.pickle"))
        assert [f.stem for f in files] == [first.key]
        assert await current(store, async_engine) is first  # same import: kept in memory

        lone = tmp_path / "lone.osm"
        lone.write_text(LONE)
        load(demo_db, lone)
        second = await current(store, async_engine)
        assert second.key != first.key
        assert sorted(second.graph.nodes) == [1, 2, 3]
        assert second.graph.has_edge(1, 2) and second.graph.has_edge(2, 1)
        assert not second.graph.has_edge(1, 3)
        files = list((tmp_path / "street_graph").glob("*.pickle"))
        assert [f.stem for f in files] == [second.key]  # the stale graph is gone

        # The same file imported again (--force) is a new import, hence a new graph; the
        # CLI builds it right after the import, and a server then only reads the file.
        load(demo_db, lone, force=True)
        with psycopg.connect(demo_db) as conn:
            built = prepare_graph(conn, tmp_path)
        assert built.key != second.key

        def no_rebuild(rows):  # type: ignore[no-untyped-def]
            raise AssertionError("the cached graph should have been read")

        monkeypatch.setattr(graph_module, "build_graph", no_rebuild)
        fresh = GraphStore(tmp_path)
        read = await current(fresh, async_engine)
        assert read.key == built.key and sorted(read.graph.nodes) == [1, 2, 3]
    finally:
        with psycopg.connect(demo_db) as conn:
            conn.execute("TRUNCATE street_segment, street_import")
            conn.commit()


def test_cli_import_builds_the_graph(demo_db, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from carto.cli import app
    from carto.settings import get_settings

    monkeypatch.setenv("CARTO_DATABASE_URL", demo_db)
    get_settings.cache_clear()
    lone = tmp_path / "lone.osm"
    lone.write_text(LONE)
    try:
        result = CliRunner().invoke(
            app, ["import", "streets", str(lone), "--data-dir", str(tmp_path), "--force"]
        )
        assert result.exit_code == 0, result.output
        assert "1 tronçons de voirie chargés." in result.output
        assert "Réseau des tournées : 3 nœuds." in result.output
        assert len(list((tmp_path / "street_graph").glob("*.pickle"))) == 1
    finally:
        get_settings.cache_clear()
        with psycopg.connect(demo_db) as conn:
            conn.execute("TRUNCATE street_segment, street_import")
            conn.commit()
