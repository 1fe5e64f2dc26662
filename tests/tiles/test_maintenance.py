"""Tile tables stay index-only readable: e001's autovacuum settings, and bulk loads that
end with VACUUM (ANALYZE) (issue 23)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
import pytest

from carto import cli
from carto.demo.loader import load_demo


def visibility(url: str) -> tuple[int, int]:
    """(pages, all-visible pages) of tiles.heat_point, from its visibility map."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_visibility")
        row = conn.execute(
            "SELECT pg_relation_size('tiles.heat_point') / current_setting('block_size')::int,"
            " (pg_visibility_map_summary('tiles.heat_point')).all_visible"
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def vacuumed_since(url: str, moment: datetime) -> bool:
    """Whether tiles.heat_point was vacuumed and analyzed (by hand) after `moment`.

    VACUUM marks a page all-visible only when no open transaction may still miss a row
    of it (an autoanalyze of another table holds a snapshot): the visibility map is
    checked where the database is quiet, the vacuum itself everywhere."""
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT last_vacuum, last_analyze FROM pg_stat_user_tables"
            " WHERE relid = 'tiles.heat_point'::regclass"
        ).fetchone()
    assert row is not None
    return all(at is not None and at > moment for at in row)


def db_now(url: str) -> datetime:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT now()").fetchone()[0]  # type: ignore[index]


def dirty_heat_point(url: str) -> None:
    """A committed write on a page of tiles.heat_point: that page is no longer all-visible."""
    with psycopg.connect(url) as conn:
        conn.execute(
            "UPDATE tiles.heat_point SET w = w"
            " WHERE (layer, id) IN (SELECT layer, id FROM tiles.heat_point LIMIT 1)"
        )
    pages, visible = visibility(url)
    assert pages > 0 and visible < pages


def test_migration_sets_autovacuum_of_the_tile_tables(db_url: str) -> None:
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            "SELECT relname, reloptions FROM pg_class WHERE oid = ANY(ARRAY["
            "'tiles.heat_point', 'tiles.heat_delta', 'tiles.write_log']::regclass[])"
        ).fetchall()
    options = {name: dict(o.split("=") for o in opts or []) for name, opts in rows}
    assert options["heat_point"]["autovacuum_vacuum_insert_scale_factor"] == "0.001"
    assert options["heat_point"]["autovacuum_vacuum_scale_factor"] == "0.005"
    for queue in ("heat_delta", "write_log"):
        assert options[queue]["autovacuum_vacuum_scale_factor"] == "0"
        assert options[queue]["autovacuum_vacuum_insert_threshold"] == "5000"


def test_demo_load_leaves_heat_point_all_visible(demo_db: str) -> None:
    dirty_heat_point(demo_db)
    before = db_now(demo_db)
    load_demo(demo_db)
    assert vacuumed_since(demo_db, before)


def callback_of(name: str) -> Any:
    """The function `carto import <name>` runs."""
    for command in cli.import_app.registered_commands:
        callback = command.callback
        default = callback.__name__ if callback else None  # typer's name when none is given
        if command.name == name or (command.name is None and default == f"import_{name}"):
            return callback
    raise LookupError(name)


@pytest.mark.parametrize("name", ["contributions", "layer", "territories"])
def test_tile_writing_imports_are_wrapped(name: str) -> None:
    assert callback_of(name).__code__.co_qualname == "_vacuum_after.<locals>.run"


@pytest.mark.parametrize("name", ["addresses", "france"])
def test_imports_without_heat_rows_are_not_wrapped(name: str) -> None:
    """`addresses` writes no tile row, `france` only polygon copies (never read index-only:
    it analyzes them instead): no vacuum of the tile tables after them."""
    assert not hasattr(callback_of(name), "__wrapped__")


def test_the_wrapper_vacuums_after_the_import(
    demo_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran: list[Any] = []
    monkeypatch.setattr("carto.runtime.database_url", lambda settings, start: demo_db)
    dirty_heat_point(demo_db)
    before = db_now(demo_db)
    cli._vacuum_after(lambda **kwargs: ran.append(kwargs))(data_dir=None)
    assert ran == [{"data_dir": None}]
    assert vacuumed_since(demo_db, before)
