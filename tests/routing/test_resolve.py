"""Resolution at points computed from the real demo polygons, and the contract's examples."""

from __future__ import annotations

from dataclasses import FrozenInstanceError, fields
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from carto.demo.loader import demo_config
from carto.errors import InvalidInput, OutsideTerritory
from carto.routing.decision import NoCompetence, RoutingDecision, UnknownCategory, of
from carto.routing.resolution import resolve, resolve_sync

MEL, LYON, GPSO = "Métropole Européenne de Lille", "Métropole de Lyon", "Grand Paris Seine Ouest"
SIRENS = {MEL: "200093201", LYON: "200046977", GPSO: "200057974"}
# One commune of each territory, and a Lyon arrondissement (INSEE, commune name, territory).
COMMUNES = [
    ("59512", "Roubaix", MEL),
    ("59350", "Lille", MEL),
    ("69266", "Villeurbanne", LYON),
    ("92012", "Boulogne-Billancourt", GPSO),
    ("92040", "Issy-les-Moulineaux", GPSO),
]
CATEGORIES = ["voirie", "dechets", "proprete", "eclairage", "espaces-verts", "mobilier"]
SERVICE_NAMES = {c["code"]: c["service"] for c in demo_config()["categories"]}
# The contract's table: who is competent, per category and territory.
TABLE = {
    MEL: {"voirie": "i", "dechets": "i", "proprete": "c", "eclairage": "c",
          "espaces-verts": "c", "mobilier": "c"},
    LYON: {"voirie": "i", "dechets": "i", "proprete": "i", "eclairage": "c",
           "espaces-verts": "c", "mobilier": "c"},
    GPSO: {"voirie": "i", "dechets": "i", "proprete": "i", "eclairage": "i",
           "espaces-verts": "c", "mobilier": "c"},
}  # fmt: skip
CONTRACT_POINTS = [
    (50.6916, 3.1779, "proprete", "Roubaix"),
    (50.6365, 3.0635, "voirie", MEL),
    (48.8356, 2.2412, "eclairage", GPSO),
    (45.7640, 4.8357, "espaces-verts", "Lyon"),
    (45.7640, 4.8357, "proprete", LYON),
]


async def point_on(session, table: str, code: str) -> tuple[float, float]:
    """A point inside the polygon of a commune or arrondissement (lon, lat)."""
    row = (
        await session.execute(
            text(
                f"SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) AS p "
                f"FROM {table} WHERE insee = :code) s"
            ),
            {"code": code},
        )
    ).one()
    return float(row[0]), float(row[1])


@pytest.mark.parametrize("category", CATEGORIES)
@pytest.mark.parametrize(("insee", "nom", "territory"), COMMUNES)
async def test_every_demo_category_routes_as_the_contract_says(
    session, insee, nom, territory, category
):
    lon, lat = await point_on(session, "commune", insee)
    d = await resolve(session=session, lon=lon, lat=lat, category_code=category)
    expected = nom if TABLE[territory][category] == "c" else territory
    assert d.authority_name == expected
    assert d.service_name == SERVICE_NAMES[category]
    assert (d.commune_insee, d.commune_nom) == (insee, nom)
    assert d.intercommunalite_siren == SIRENS[territory]
    assert d.arrondissement_insee is None
    assert d.explanation.startswith(f"Point dans la commune {of(nom)}")  # d'Issy-les-…
    assert f"({insee})" not in d.explanation  # an INSEE code reads as a wrong postcode
    assert d.explanation.endswith(f"→ {SERVICE_NAMES[category]}, {expected}") or (
        " ; pour information : " in d.explanation
    )


async def test_explanation_in_plain_french(session):
    lon, lat = await point_on(session, "commune", "59512")
    d = await resolve(session=session, lon=lon, lat=lat, category_code="voirie")
    assert d.explanation == (
        "Point dans la commune de Roubaix (59100), membre de la Métropole Européenne de Lille ; "
        "la voirie y est de compétence intercommunale → Voirie, Métropole Européenne de Lille"
    )
    d = await resolve(session=session, lon=lon, lat=lat, category_code="espaces-verts")
    assert "les espaces verts y sont de compétence communale → Espaces verts, Roubaix" in (
        d.explanation
    )


@pytest.mark.parametrize("arrondissement", ["69381", "69382", "69385", "69389"])
async def test_lyon_arrondissement_routes_to_the_commune_and_is_recorded(session, arrondissement):
    lon, lat = await point_on(session, "arrondissement", arrondissement)
    d = await resolve(session=session, lon=lon, lat=lat, category_code="eclairage")
    assert (d.commune_insee, d.authority_name) == ("69123", "Lyon")
    assert d.arrondissement_insee == arrondissement
    assert f"(6900{arrondissement[-1]})" in d.explanation
    assert f"({arrondissement})" not in d.explanation
    d = await resolve(session=session, lon=lon, lat=lat, category_code="voirie")
    assert d.authority_name == LYON and d.arrondissement_insee == arrondissement


async def test_the_commune_is_told_of_a_depot_sauvage_the_metropole_handles(session):
    lon, lat = await point_on(session, "commune", "69266")
    d = await resolve(session=session, lon=lon, lat=lat, category_code="proprete")
    assert d.authority_name == LYON
    assert [(i.service_name, i.authority_name) for i in d.informed] == [
        ("Mobilier urbain et signalisation", "Villeurbanne")
    ]
    assert d.explanation.endswith(
        "→ Propreté urbaine, Métropole de Lyon ; "
        "pour information : Mobilier urbain et signalisation, Villeurbanne, "
        "motif : pouvoirs de police du maire (dépôts sauvages)"
    )
    assert d.informed[0].reason == "Pouvoirs de police du maire (dépôts sauvages)"
    lon, lat = await point_on(session, "commune", "59512")
    d = await resolve(session=session, lon=lon, lat=lat, category_code="proprete")
    assert d.informed == ()


async def _shared_vertex(session, a: str, b: str) -> tuple[float, float]:
    row = (
        await session.execute(
            text(
                """SELECT ST_X(p.geom), ST_Y(p.geom)
                   FROM commune a, commune b, ST_DumpPoints(a.geom) p
                   WHERE a.insee = :a AND b.insee = :b AND ST_Covers(b.geom, p.geom)
                   LIMIT 1"""
            ),
            {"a": a, "b": b},
        )
    ).one()
    return float(row[0]), float(row[1])


async def _covering(session, lon: float, lat: float) -> list[str]:
    rows = await session.execute(
        text(
            "SELECT insee FROM commune WHERE "
            "ST_Covers(geom, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)) ORDER BY insee"
        ),
        {"lon": lon, "lat": lat},
    )
    return list(rows.scalars())


async def test_points_on_and_near_a_shared_boundary(session):
    # Roubaix (59512) and Tourcoing (59599) share a boundary.
    lon, lat = await _shared_vertex(session, "59599", "59512")
    assert await _covering(session, lon, lat) == ["59512", "59599"]
    for _ in range(3):  # deterministic: the lowest INSEE code, every time
        d = await resolve(session=session, lon=lon, lat=lat, category_code="proprete")
        assert (d.commune_insee, d.authority_name) == ("59512", "Roubaix")
    # 3 m away from the vertex in sixteen directions: each side gets its own commune.
    ring = await session.execute(
        text(
            """SELECT ST_X(q.g), ST_Y(q.g) FROM generate_series(0, 15) k,
               LATERAL (SELECT ST_Project(ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography,
                                          3, radians(k * 22.5))::geometry AS g) q"""
        ),
        {"lon": lon, "lat": lat},
    )
    seen = set()
    for qlon, qlat in ring.all():
        covering = await _covering(session, qlon, qlat)
        if len(covering) != 1:
            continue
        d = await resolve(session=session, lon=qlon, lat=qlat, category_code="proprete")
        assert d.commune_insee == covering[0]
        seen.add(d.authority_name)
    assert seen == {"Roubaix", "Tourcoing"}


@pytest.mark.parametrize(("lat", "lon", "category", "authority"), CONTRACT_POINTS)
async def test_contract_example_points(session, sync_conn, lat, lon, category, authority):
    d = await resolve(session=session, lon=lon, lat=lat, category_code=category)
    assert d.authority_name == authority
    assert resolve_sync(conn=sync_conn, lon=lon, lat=lat, category_code=category, at=d.at) == d


async def test_sync_and_async_paths_agree(session, sync_conn):
    at = datetime.now(UTC)
    for insee, _, _ in COMMUNES:
        lon, lat = await point_on(session, "commune", insee)
        for category in CATEGORIES:
            one = await resolve(session=session, lon=lon, lat=lat, category_code=category, at=at)
            two = resolve_sync(conn=sync_conn, lon=lon, lat=lat, category_code=category, at=at)
            assert one == two


def test_a_decision_is_a_whole_read_only_dataclass(sync_conn):
    """Decisions are assembled without `__init__` (decision.assemble): every field set,
    equal and hashed as the same decision built the ordinary way, still read-only."""
    d = resolve_sync(conn=sync_conn, lon=4.8799, lat=45.7719, category_code="proprete")
    rebuilt = RoutingDecision(**{f.name: getattr(d, f.name) for f in fields(d)})
    assert vars(d) == vars(rebuilt) and hash(d) == hash(rebuilt) and repr(d) == repr(rebuilt)
    with pytest.raises(FrozenInstanceError):
        d.authority_id = 0  # type: ignore[misc]
    assert d.commune_nom == "Villeurbanne" and d.informed  # the mayor's service is told
    with pytest.raises(FrozenInstanceError):
        d.informed[0].service_id = 0  # type: ignore[misc]


async def test_brussels_and_bad_input_are_refused(session):
    with pytest.raises(OutsideTerritory, match="en dehors des territoires couverts"):
        await resolve(session=session, lon=4.3525, lat=50.8467, category_code="voirie")
    with pytest.raises(UnknownCategory, match="Catégorie inconnue"):
        await resolve(session=session, lon=3.1779, lat=50.6916, category_code="piscine")
    for lon, lat in [(181.0, 45.0), (3.0, -91.0), (float("nan"), 45.0)]:
        with pytest.raises(InvalidInput, match="Coordonnées invalides"):
            await resolve(session=session, lon=lon, lat=lat, category_code="voirie")


async def _add_rule(session, **values) -> int:
    values = {"authority_id": None, "road_class": None, "service_slug": None,
              "valid_from": None, "valid_to": None, **values}  # fmt: skip
    return (
        await session.execute(
            text(
                """INSERT INTO competence_rule (category_code, level, authority_id, scope_kind,
                       scope_code, road_class, service_slug, valid_from, valid_to, source)
                   VALUES (:category, :level, :authority_id, :scope_kind, :scope_code,
                       :road_class, :service_slug, :valid_from, :valid_to, 'admin')
                   RETURNING id"""
            ),
            values,
        )
    ).scalar_one()


async def test_a_rule_applies_only_during_its_validity_period(session):
    lon, lat = await point_on(session, "commune", "59512")
    now = datetime.now(UTC)
    transfer = now + timedelta(days=10)
    rule = await _add_rule(
        session, category="voirie", level="commune", scope_kind="commune", scope_code="59512",
        service_slug="mobilier", valid_from=transfer,
    )  # fmt: skip
    before = await resolve(session=session, lon=lon, lat=lat, category_code="voirie", at=now)
    after = await resolve(
        session=session, lon=lon, lat=lat, category_code="voirie", at=transfer + timedelta(days=1)
    )
    assert before.authority_name == MEL and before.rule_id != rule
    assert (after.authority_name, after.rule_id) == ("Roubaix", rule)
    assert after.service_name == "Mobilier urbain et signalisation"
    assert "règle en vigueur depuis le" in after.explanation


async def test_a_missing_service_is_a_clear_refusal(session):
    lon, lat = await point_on(session, "commune", "59512")
    await _add_rule(
        session, category="voirie", level="commune", scope_kind="commune", scope_code="59512"
    )
    with pytest.raises(NoCompetence, match="aucun service « voirie »"):
        await resolve(session=session, lon=lon, lat=lat, category_code="voirie")


async def _departement_du_nord(session) -> int:
    authority = (
        await session.execute(
            text(
                "INSERT INTO authority (slug, name, kind, code) VALUES "
                "('departement-du-nord', 'Département du Nord', 'departement', '59') RETURNING id"
            )
        )
    ).scalar_one()
    await session.execute(
        text("INSERT INTO service (authority_id, slug, name) VALUES (:a, 'voirie', 'Routes')"),
        {"a": authority},
    )
    return int(authority)


async def test_road_class_rule_sends_departmental_roads_to_the_departement(session):
    nord = await _departement_du_nord(session)
    await _add_rule(
        session, category="voirie", level="authority", authority_id=nord,
        scope_kind="departement", scope_code="59", road_class="departementale",
    )  # fmt: skip
    lon, lat = await point_on(session, "commune", "59512")
    d = await resolve(
        session=session, lon=lon, lat=lat, category_code="voirie", road_class="departementale"
    )
    assert (d.authority_name, d.service_name) == ("Département du Nord", "Routes")
    assert "sur une voie de classe « departementale »" in d.explanation
    assert "de la compétence du Département du Nord" in d.explanation
    d = await resolve(
        session=session, lon=lon, lat=lat, category_code="voirie", road_class="locale"
    )
    assert d.authority_name == MEL
    d = await resolve(session=session, lon=lon, lat=lat, category_code="voirie")
    assert d.authority_name == MEL  # no street extract loaded: no road class known


async def test_preview_route(client):
    resp = await client.get(
        "/api/v1/routing/preview",
        params={"lon": 3.1779, "lat": 50.6916, "service_code": "proprete"},
    )
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["authority"]["name"] == "Roubaix"
    assert body["service"]["name"] == "Propreté urbaine"
    assert body["commune"] == {"code": "59512", "nom": "Roubaix"}
    assert body["explanation"].startswith("Point dans la commune de Roubaix (59100)")
    resp = await client.get(
        "/api/v1/routing/preview", params={"lon": 4.3525, "lat": 50.8467, "service_code": "voirie"}
    )
    assert resp.status_code == 422
    assert "en dehors des territoires" in resp.json()["message"]
    resp = await client.get(
        "/api/v1/routing/preview", params={"lon": 400, "lat": 50.8, "service_code": "voirie"}
    )
    assert resp.status_code == 422


def _write_osm(tmp_path):
    from tests.routing.test_streets import ROUBAIX_OSM

    path = tmp_path / "roubaix.osm"
    path.write_text(ROUBAIX_OSM, encoding="utf-8")
    return path


def test_street_context_routes_by_road_class_sync(sync_conn, tmp_path):
    from carto.routing.streets import load_streets

    load_streets(sync_conn, _write_osm(tmp_path))
    nord = sync_conn.execute(
        "INSERT INTO authority (slug, name, kind, code) VALUES "
        "('departement-du-nord', 'Département du Nord', 'departement', '59') RETURNING id"
    ).fetchone()[0]
    sync_conn.execute(
        "INSERT INTO service (authority_id, slug, name) VALUES (%s, 'voirie', 'Routes')", (nord,)
    )
    sync_conn.execute(
        """INSERT INTO competence_rule (category_code, level, authority_id, scope_kind,
               scope_code, road_class, source)
           VALUES ('voirie', 'authority', %s, 'departement', '59', 'departementale', 'admin')""",
        (nord,),
    )
    d = resolve_sync(conn=sync_conn, lon=3.1750, lat=50.6901, category_code="voirie")
    assert (d.authority_name, d.street_name, d.street_road_class) == (
        "Département du Nord", "Boulevard de Test", "departementale",
    )  # fmt: skip
    assert "près de « Boulevard de Test »" in d.explanation
    d = resolve_sync(conn=sync_conn, lon=3.1750, lat=50.6931, category_code="voirie")
    assert (d.authority_name, d.street_name) == (MEL, "Rue de l'Essai")
    d = resolve_sync(conn=sync_conn, lon=3.1750, lat=50.6901, category_code="proprete")
    assert d.authority_name == "Roubaix" and d.street_name == "Boulevard de Test"


@pytest.fixture
def committed_streets(demo_db, tmp_path):
    """The async path reads streets through its own connection: commit, then clean up
    (request it before `session`, so that the session has ended by the clean-up)."""
    import psycopg

    from carto.routing.streets import load_streets

    with psycopg.connect(demo_db) as conn:
        load_streets(conn, _write_osm(tmp_path))
        conn.commit()
    yield
    with psycopg.connect(demo_db) as conn:
        conn.execute("TRUNCATE street_segment, street_import")


async def test_street_context_routes_by_road_class_async(committed_streets, session):
    nord = await _departement_du_nord(session)
    await _add_rule(
        session, category="voirie", level="authority", authority_id=nord,
        scope_kind="departement", scope_code="59", road_class="departementale",
    )  # fmt: skip
    d = await resolve(session=session, lon=3.1750, lat=50.6901, category_code="voirie")
    assert (d.authority_name, d.street_name) == ("Département du Nord", "Boulevard de Test")
    d = await resolve(session=session, lon=3.1750, lat=50.6931, category_code="voirie")
    assert d.authority_name == MEL
