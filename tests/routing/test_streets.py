"""Street context: a real OSM extract (Helsinki, pbf) and a French fixture (XML, refs)."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from carto.errors import ImportFailed
from carto.routing.streets import has_streets, load_streets, nearest_street, road_class

HELSINKI = Path(__file__).resolve().parents[1] / "data" / "helsinki.osm.pbf"

ROUBAIX_OSM = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6" generator="carto-tests">
  <node id="1" lat="50.6900" lon="3.1700"/>
  <node id="2" lat="50.6900" lon="3.1800"/>
  <node id="3" lat="50.6930" lon="3.1700"/>
  <node id="4" lat="50.6930" lon="3.1800"/>
  <node id="5" lat="50.6926" lon="3.1750"/>
  <node id="6" lat="50.6929" lon="3.1750"/>
  <way id="10"><nd ref="1"/><nd ref="2"/>
    <tag k="highway" v="primary"/><tag k="name" v="Boulevard de Test"/>
    <tag k="ref" v="D 700"/></way>
  <way id="11"><nd ref="3"/><nd ref="4"/>
    <tag k="highway" v="residential"/><tag k="name" v="Rue de l'Essai"/></way>
  <way id="12"><nd ref="5"/><nd ref="6"/><tag k="highway" v="footway"/></way>
  <way id="13"><nd ref="1"/><nd ref="3"/><tag k="waterway" v="canal"/></way>
</osm>
"""


@pytest.fixture
def committed_streets(demo_db):
    """Streets are read by the async app path, so this fixture commits and cleans up."""
    loaded: list[Path] = []

    def load(path: Path) -> int:
        with psycopg.connect(demo_db) as conn:
            count = load_streets(conn, path)
            conn.commit()
        loaded.append(path)
        return count

    yield load
    with psycopg.connect(demo_db) as conn:
        conn.execute("TRUNCATE street_segment, street_import")


def test_road_class_from_ref_then_highway():
    assert road_class("primary", "D 700") == "departementale"
    assert road_class("primary", "RD700") == "departementale"
    assert road_class("trunk", "N 41") == "nationale"
    assert road_class("motorway", "A 1;E 17") == "autoroute"
    assert road_class("primary", "M6") == "metropolitaine"
    assert road_class("primary", None) == "principale"
    assert road_class("residential", None) == "locale"
    assert road_class("footway", "E 17") == "chemin"


async def test_real_osm_pbf_gives_named_nearest_street(committed_streets, session):
    count = committed_streets(HELSINKI)
    assert count > 1500  # highway ways of the extract
    assert committed_streets(HELSINKI) == 0  # same file: loaded once
    assert await has_streets(session=session)
    # Mannerheimintie (a primary road) near Kaivopiha, central Helsinki.
    street = await nearest_street(session=session, lon=24.9394, lat=60.1699, max_distance_m=200)
    assert street is not None and street.name
    assert 0 <= street.distance_m <= 200
    # Out at sea: nothing within 50 m.
    assert await nearest_street(session=session, lon=24.90, lat=60.10) is None


async def test_french_refs_and_roads_before_footways(committed_streets, session, tmp_path):
    path = tmp_path / "roubaix.osm"
    path.write_text(ROUBAIX_OSM)
    assert committed_streets(path) == 3  # the canal is not a street
    # About 5 m from the D 700, next to a footway: the road wins.
    near_d = await nearest_street(session=session, lon=3.1750, lat=50.69005)
    assert near_d is not None
    assert (near_d.name, near_d.ref, near_d.road_class) == (
        "Boulevard de Test",
        "D 700",
        "departementale",
    )
    assert near_d.distance_m == pytest.approx(5.6, abs=0.5)
    # On the footway itself, 22 m from the rue: roads are preferred over paths.
    near_rue = await nearest_street(session=session, lon=3.1750, lat=50.6928)
    assert near_rue is not None and near_rue.name == "Rue de l'Essai"
    assert near_rue.distance_m == pytest.approx(22.2, abs=1)
    assert near_rue.road_class == "locale"


def test_unreadable_osm_refused(sync_conn, tmp_path):
    bad = tmp_path / "bad.osm.pbf"
    bad.write_bytes(b"not a pbf at all")
    with pytest.raises(ImportFailed):
        load_streets(sync_conn, bad)
    with pytest.raises(ImportFailed, match="introuvable"):
        load_streets(sync_conn, tmp_path / "missing.osm")
