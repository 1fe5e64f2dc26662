"""Territory import: demo file, Lambert-93 input, idempotence, repair, bad files."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import psycopg
import pytest
import shapely
from shapely.geometry import Polygon

from carto.errors import ImportFailed
from carto.territories.importer import import_file
from tests.conftest import DATA


def counts(conn: psycopg.Connection) -> dict[str, int]:
    return {
        t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        for t in ("commune", "arrondissement", "intercommunalite", "intercommunalite_member")
    }


def test_demo_territories_loaded(sync_conn):
    """The demo load (shared fixture) gives the contract's territories and memberships."""
    c = counts(sync_conn)
    assert c["commune"] >= 161 and c["arrondissement"] >= 9 and c["intercommunalite"] >= 3
    members = dict(
        sync_conn.execute(
            "SELECT siren, count(*) FROM intercommunalite_member GROUP BY siren"
        ).fetchall()
    )
    assert members["200093201"] == 95  # MEL
    assert members["200046977"] == 58  # Métropole de Lyon
    assert members["200057974"] == 8  # GPSO: an EPT, found by geometry
    lyon_arm = sync_conn.execute(
        "SELECT count(*) FROM arrondissement WHERE commune_insee = '69123'"
    ).fetchone()[0]
    assert lyon_arm == 9
    roubaix = sync_conn.execute(
        "SELECT a.slug, a.name FROM commune c JOIN authority a ON a.id = c.authority_id "
        "WHERE c.insee = '59512'"
    ).fetchone()
    assert roubaix == ("roubaix", "Roubaix")


def test_reimport_is_idempotent(sync_conn):
    before = counts(sync_conn)
    geom_before = sync_conn.execute(
        "SELECT ST_AsBinary(geom) FROM commune WHERE insee = '59350'"
    ).fetchone()[0]
    report = import_file(sync_conn, DATA / "communes-demo.geojson")
    assert report.read == 170 and report.skipped == 0
    assert report.upserted["authorities"] == 0  # nothing new, no renamed authority
    assert counts(sync_conn) == before
    geom_after = sync_conn.execute(
        "SELECT ST_AsBinary(geom) FROM commune WHERE insee = '59350'"
    ).fetchone()[0]
    assert bytes(geom_after) == bytes(geom_before)


def test_lambert93_file_is_reprojected(sync_conn, tmp_path: Path):
    demo = gpd.read_file(DATA / "communes-demo.geojson")
    subset = demo[demo["insee"].isin(["59512", "69123", "92012"])]
    lambert = subset.to_crs(2154)
    assert lambert.geometry.iloc[0].bounds[0] > 100_000  # really metres
    # Rename to prove the update comes from this file.
    lambert = lambert.assign(nom=lambert["nom"] + " (L93)")
    path = tmp_path / "l93.gpkg"
    lambert.to_file(path, driver="GPKG")
    report = import_file(sync_conn, path)
    assert report.kind == "communes" and report.read == 3
    rows = sync_conn.execute(
        "SELECT insee, nom, ST_XMin(geom), ST_YMin(geom), "
        "ST_Area(geom::geography) FROM commune WHERE insee IN ('59512','69123','92012') ORDER BY 1"
    ).fetchall()
    original = subset.set_index("insee")
    for insee, nom, xmin, ymin, area in rows:
        assert nom.endswith(" (L93)")
        bx = original.loc[insee].geometry.bounds
        assert abs(xmin - bx[0]) < 1e-6 and abs(ymin - bx[1]) < 1e-6
        assert area > 1_000_000  # square metres: at least 1 km², so coordinates are lon/lat
    name = sync_conn.execute("SELECT name FROM authority WHERE kind='commune' AND code='59512'")
    assert name.fetchone()[0] == "Roubaix (L93)"


def test_invalid_polygon_is_repaired(sync_conn, tmp_path: Path):
    bowtie = Polygon([(3.0, 50.0), (3.1, 50.1), (3.1, 50.0), (3.0, 50.1), (3.0, 50.0)])
    assert not bowtie.is_valid
    feature = {
        "type": "Feature",
        "properties": {"insee": "99998", "nom": "Commune Papillon", "population": 12},
        "geometry": shapely.geometry.mapping(bowtie),
    }
    path = tmp_path / "bowtie.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    report = import_file(sync_conn, path)
    assert report.repaired == 1
    valid, kind, area = sync_conn.execute(
        "SELECT ST_IsValid(geom), GeometryType(geom), ST_Area(geom) FROM commune "
        "WHERE insee = '99998'"
    ).fetchone()
    assert valid and kind == "MULTIPOLYGON" and area == pytest.approx(0.005, rel=1e-6)


def test_unknown_columns_refused(sync_conn, tmp_path: Path):
    path = tmp_path / "bad.geojson"
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"foo": 1},
                        "geometry": {"type": "Point", "coordinates": [3, 50]},
                    }
                ],
            }
        )
    )
    with pytest.raises(ImportFailed, match="colonnes non reconnues"):
        import_file(sync_conn, path)


def test_missing_and_unreadable_files_refused(sync_conn, tmp_path: Path):
    with pytest.raises(ImportFailed, match="introuvable"):
        import_file(sync_conn, tmp_path / "nope.geojson")
    garbage = tmp_path / "garbage.geojson"
    garbage.write_text("{not json")
    with pytest.raises(ImportFailed, match="lecture impossible"):
        import_file(sync_conn, garbage)
