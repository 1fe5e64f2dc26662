"""`carto import addresses`: the BAN CSV (plain or gzip), idempotent, bad rows and files."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from typer.testing import CliRunner

from carto.errors import ImportFailed
from carto.geocoding.importer import BAN_COLUMNS, import_addresses

from .conftest import FIXTURE

HEADER = ";".join(BAN_COLUMNS)


def _row(ban_id: str, numero: str, street: str, lon: str, lat: str) -> str:
    return (
        f"{ban_id};;{numero};;{street};59100;59512;Roubaix;;;;;{lon};{lat};"
        "entrée;;;ROUBAIX;;commune;commune;1;"
    )


def test_fixture_counts_and_second_import_changes_nothing(sync_conn, ban_loaded):
    rows = FIXTURE.read_text().count("\n") - 1
    assert (ban_loaded.rows, ban_loaded.skipped, ban_loaded.addresses) == (rows, 0, rows)
    assert ban_loaded.streets == 36
    again = import_addresses(sync_conn, FIXTURE)
    assert (again.rows, again.streets, again.addresses) == (rows, 0, 0)
    count = sync_conn.execute("SELECT count(*) FROM geocode_address").fetchone()
    assert count == (rows,)


def test_gzip_update_and_bad_rows(sync_conn, ban_loaded, tmp_path: Path):
    path = tmp_path / "adresses-59.csv.gz"
    lines = [
        HEADER,
        _row("59512_9999_00001", "1", "Rue des Tests", "3.1700", "50.6900"),
        _row("59512_9999_00002", "2", "Rue des Tests", "3.1702", "50.6901"),
        _row("59512_9999_00003", "x", "Rue des Tests", "3.1702", "50.6901"),  # no number
        _row("59512_9999_00004", "4", "Rue des Tests", "", "50.6901"),  # no longitude
        _row("", "5", "Rue des Tests", "3.1702", "50.6901"),  # no id
    ]
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    report = import_addresses(sync_conn, path)
    assert (report.rows, report.skipped, report.streets, report.addresses) == (5, 3, 1, 2)
    lines[1] = _row("59512_9999_00001", "1", "Rue des Tests", "3.1710", "50.6900")  # moved
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    assert import_addresses(sync_conn, path).addresses == 1
    moved = sync_conn.execute(
        "SELECT ST_X(geom) FROM geocode_address WHERE ban_id = '59512_9999_00001'"
    ).fetchone()
    assert moved == (pytest.approx(3.171),)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("nom;lon;lat\nLille;3;50\n", "Base Adresse Nationale"),
        (HEADER + "\n" + '"unterminated;1\n', "ligne CSV invalide"),
    ],
)
def test_wrong_files_are_refused_and_store_nothing(
    sync_conn, ban_loaded, tmp_path, content, message
):
    before = sync_conn.execute("SELECT count(*) FROM geocode_address").fetchone()
    path = tmp_path / "adresses-xx.csv"
    path.write_text(content)
    with pytest.raises(ImportFailed, match=message):
        import_addresses(sync_conn, path)
    with pytest.raises(ImportFailed, match="introuvable"):
        import_addresses(sync_conn, tmp_path / "absent.csv")
    assert sync_conn.execute("SELECT count(*) FROM geocode_address").fetchone() == before


def test_cli_command(demo_db, ban_loaded, monkeypatch):
    from carto.cli import app

    monkeypatch.setenv("CARTO_DATABASE_URL", demo_db)
    from carto.settings import get_settings

    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["import", "addresses", str(FIXTURE)])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "920 lignes lues, 0 ignorées, 0 voies et 0 adresses" in " ".join(result.output.split())
    bad = CliRunner().invoke(app, ["import", "addresses", "/nonexistent/adresses-59.csv"])
    assert bad.exit_code == 2 and "introuvable" in bad.output
