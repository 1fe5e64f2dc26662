"""Routes nationales and autoroutes belong to the État (code de la voirie routière L121-1):
a `voirie` report on one is not sent to the commune or the métropole as if competent; it
waits in the platform's « à orienter » queue with the legal basis, marked uncertain, the
commune told where the mayor holds the traffic police (RN only)."""

from __future__ import annotations

from carto.routing.bulk import route_many
from carto.routing.decision import STATE_NOTICE, routed_note
from carto.routing.defaults import load_defaults
from carto.routing.resolution import resolve_sync
from carto.routing.streets import load_streets
from carto.territories.france import ensure_contact_services

LILLE = "59350"  # Métropole Européenne de Lille: voirie is the métropole's (demo table)


def _osm(lon: float, lat: float) -> str:
    """A trunk road « N 356 » through (lon, lat), a motorway « A 1 » 90 m north, and a
    residential street 90 m further: classes as `carto import streets` derives them."""
    ways = [("trunk", "N 356", "Voie rapide urbaine"), ("motorway", "A 1", "Autoroute du Nord"),
            ("residential", None, "Rue des Tests")]  # fmt: skip
    nodes, xml = "", ""
    for n, (highway, ref, name) in enumerate(ways):
        y = lat + 0.0008 * n
        nodes += (f'<node id="{2 * n + 1}" lat="{y}" lon="{lon - 0.001}"/>'
                  f'<node id="{2 * n + 2}" lat="{y}" lon="{lon + 0.001}"/>')  # fmt: skip
        tags = f'<tag k="highway" v="{highway}"/><tag k="name" v="{name}"/>'
        tags += f'<tag k="ref" v="{ref}"/>' if ref else ""
        xml += f'<way id="{10 + n}"><nd ref="{2 * n + 1}"/><nd ref="{2 * n + 2}"/>{tags}</way>'
    return f"<?xml version='1.0' encoding='UTF-8'?><osm version='0.6'>{nodes}{xml}</osm>"


def test_state_roads_wait_in_the_queue_with_their_legal_basis(sync_conn, tmp_path):
    ensure_contact_services(sync_conn)  # the communes' front desks (informed of RN reports)
    load_defaults(sync_conn)
    lon, lat = sync_conn.execute(
        "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM commune "
        "WHERE insee = %s) s", (LILLE,),
    ).fetchone()  # fmt: skip
    osm = tmp_path / "lille.osm"
    osm.write_text(_osm(lon, lat), encoding="utf-8")
    assert load_streets(sync_conn, osm) == 3

    rn = resolve_sync(conn=sync_conn, lon=lon, lat=lat, category_code="voirie")
    assert (rn.street_road_class, rn.level, rn.rule_status) == ("nationale", "etat",
                                                                 "règle par défaut")  # fmt: skip
    assert (rn.authority_name, rn.service_name, rn.service_email) == (
        "Plateforme Carto", "File « à orienter »", None)  # fmt: skip
    for words in ("sur une voie de classe « nationale »", "de la compétence de l'État",
                  "L121-1", "direction interdépartementale des routes", "règle incertaine",
                  "loi 3DS"):  # fmt: skip
        assert words in rn.explanation, words
    assert rn.explanation.endswith(STATE_NOTICE)
    (told,) = rn.informed  # the mayor's traffic police in town
    assert (told.authority_name, told.service_name) == ("Lille", "Mairie (accueil)")
    assert "L2213-1" in rn.explanation
    # What puts a ticket in the « à orienter » queue: a national rule, the platform's desk.
    queued = sync_conn.execute(
        "SELECT r.source, s.slug, a.kind FROM competence_rule r, service s "
        "JOIN authority a ON a.id = s.authority_id WHERE r.id = %s AND s.id = %s",
        (rn.rule_id, rn.service_id),
    ).fetchone()
    assert queued == ("national", "contact", "plateforme")
    # Its history says where it waits, not « Transmis à : File « à orienter » … ».
    assert routed_note(rn).startswith("Pas encore transmis : en attente dans la file")

    a1 = resolve_sync(conn=sync_conn, lon=lon, lat=lat + 0.0008, category_code="voirie")
    assert (a1.street_road_class, a1.level, a1.informed) == ("autoroute", "etat", ())
    for words in ("L122-4", "concessionnaire", "règle incertaine", "112"):
        assert words in a1.explanation, words

    street = resolve_sync(conn=sync_conn, lon=lon, lat=lat + 0.0016, category_code="voirie")
    assert street.authority_name == "Métropole Européenne de Lille"  # its confirmed rule
    assert routed_note(street) == f"Transmis à : {street.service_name}, {street.authority_name}."
    lighting = resolve_sync(conn=sync_conn, lon=lon, lat=lat, category_code="eclairage")
    assert lighting.authority_name == "Lille"  # only voirie follows the road's class
    # The bulk path decides the same.
    bulk = route_many(sync_conn, [lon, lon, lon], [lat, lat + 0.0008, lat + 0.0016],
                      ["voirie"] * 3)  # fmt: skip
    assert [(d.rule_id, d.service_id, d.explanation) for d in bulk] == [
        (d.rule_id, d.service_id, d.explanation) for d in (rn, a1, street)]  # fmt: skip

    # An RN transferred to the métropole: its own rule for that road class wins.
    mel = sync_conn.execute(
        "SELECT authority_id FROM intercommunalite WHERE siren = '200093201'"
    ).fetchone()[0]
    sync_conn.execute(
        "INSERT INTO competence_rule (category_code, level, scope_kind, scope_code, road_class,"
        " source, note) VALUES ('voirie', 'intercommunalite', 'intercommunalite', '200093201',"
        " 'nationale', 'admin', 'RN transférée (loi 3DS)')"
    )
    moved = resolve_sync(conn=sync_conn, lon=lon, lat=lat, category_code="voirie")
    assert (moved.authority_id, moved.rule_status) == (mel, "règle confirmée par la collectivité")
    # Loading the same table again changes nothing (inform and note compared too).
    assert load_defaults(sync_conn)["added"] == 0
