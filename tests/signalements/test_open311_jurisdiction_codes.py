"""Open311 `jurisdiction_id` by SIREN, slug or short code: a short code shared by a
département and a région (« 84 ») is refused with the candidates, never guessed; an
authority of a former département that holds no ground any more is no jurisdiction."""

from __future__ import annotations

from sqlalchemy import text

from tests.conftest import login
from tests.signalements.without_carto import make_testville

SERVICES = "/open311/v2/services.json"
AGENT = "agent.voirie.mel@demo.local"


async def _area(session, table: str, code: str, siren: str, slug: str, name: str,
                kind: str | None = None) -> int:  # fmt: skip
    """An authority (kind and code as `carto import france` writes them) holding an area."""
    authority = (
        await session.execute(
            text("INSERT INTO authority (slug, name, kind, code) VALUES (:s, :n, :k, :c) "
                 "RETURNING id"), {"s": slug, "n": name, "k": kind or table, "c": code},
        )
    ).scalar_one()  # fmt: skip
    await session.execute(
        text(f"INSERT INTO {table} (code, nom, siren, authority_id) VALUES (:c, :n, :s, :a)"),
        {"c": code, "n": name, "s": siren, "a": authority},
    )
    return int(authority)


async def test_a_shared_short_code_is_refused_with_the_candidates(client, session):
    await make_testville(session)
    await _area(session, "departement", "84", "228400016", "departement-de-vaucluse",
                "Département de Vaucluse")  # fmt: skip
    await _area(session, "region", "84", "200053767", "region-auvergne-rhone-alpes",
                "Région Auvergne-Rhône-Alpes")  # fmt: skip
    resp = await client.get(SERVICES, params={"jurisdiction_id": "84"})
    assert resp.status_code == 400, resp.text
    (error,) = resp.json()
    assert error["code"] == 400
    assert error["description"] == (
        "jurisdiction_id « 84 » désigne plusieurs collectivités : "
        "Département de Vaucluse (SIREN 228400016, identifiant « departement-de-vaucluse ») ; "
        "Région Auvergne-Rhône-Alpes (SIREN 200053767, identifiant "
        "« region-auvergne-rhone-alpes »). Indiquez son SIREN ou son identifiant."
    )
    xml = await client.get("/open311/v2/services.xml", params={"jurisdiction_id": "84"})
    assert xml.status_code == 400 and "<errors>" in xml.text and "228400016" in xml.text
    for ident in ("228400016", "departement-de-vaucluse", "200053767",
                  "region-auvergne-rhone-alpes", "15999"):  # fmt: skip
        assert (await client.get(SERVICES, params={"jurisdiction_id": ident})).status_code == 200
    # The same question as a report: refused before anything is stored.
    body = {"long": "2.5005", "lat": "45.0005", "service_code": "proprete",
            "description": "Dépôt sauvage", "jurisdiction_id": "84"}  # fmt: skip
    made = await client.post("/open311/v2/requests.json", data=body)
    assert made.status_code == 400 and "plusieurs collectivités" in made.json()[0]["description"]
    unknown = await client.get(SERVICES, params={"jurisdiction_id": "229999999"})
    assert unknown.status_code == 404


async def test_former_departements_are_no_jurisdiction_their_code_names_the_holder(client, session):
    """After the Bas-Rhin and the Haut-Rhin merged into the Collectivité européenne
    d'Alsace, a re-import points both areas at one authority; the Haut-Rhin's own
    authority stays (tickets may name it) but holds nothing."""
    alsace = await _area(session, "departement", "67", "200094332",
                         "collectivite-europeenne-d-alsace",
                         "Collectivité européenne d'Alsace")  # fmt: skip
    former = (
        await session.execute(
            text("INSERT INTO authority (slug, name, kind, code) VALUES "
                 "('departement-du-haut-rhin', 'Département du Haut-Rhin', 'departement', '68')"
                 " RETURNING id")
        )
    ).scalar_one()  # fmt: skip
    await session.execute(
        text("INSERT INTO departement (code, nom, siren, authority_id) "
             "VALUES ('68', 'Haut-Rhin', '200094332', :a)"), {"a": alsace},
    )  # fmt: skip
    await session.execute(
        text("INSERT INTO service (authority_id, slug, name) VALUES (:a, 'contact', 'Accueil')"),
        {"a": former},
    )
    assert (await client.get(SERVICES, params={"jurisdiction_id": "departement-du-haut-rhin"})
            ).status_code == 404  # fmt: skip
    listed = (await client.get("/open311/v2/discovery.json")).json()["jurisdictions"]
    assert "departement-du-haut-rhin" not in {j["jurisdiction_id"] for j in listed}
    for ident in ("68", "67", "200094332"):  # both areas' codes name their holder
        resp = await client.get(SERVICES, params={"jurisdiction_id": ident})
        assert resp.status_code == 200, ident
    directory = await client.get("/api/v1/services", headers=await login(client, AGENT))
    assert "Département du Haut-Rhin" not in {s["authority"] for s in directory.json()}
    # The holder's ground is every area it holds, not the one its code names: Testville's
    # département (standing for the Haut-Rhin) held by the same body takes its reports.
    await make_testville(session)
    await session.execute(
        text("INSERT INTO departement (code, nom, authority_id) VALUES ('15', 'Cantal', :a)"),
        {"a": alsace},
    )
    body = {"long": "2.5005", "lat": "45.0005", "service_code": "proprete",
            "description": "Dépôt sauvage", "jurisdiction_id": "200094332"}  # fmt: skip
    made = await client.post("/open311/v2/requests.json", data=body)
    assert made.status_code == 201, made.text


async def test_a_jurisdiction_reads_back_the_reports_it_accepted(client, session):
    """A client that names its jurisdiction in every call (as the `georeport` client does)
    finds the report it just sent on a département's ground, though the commune handles
    it: reading uses the ground that writing accepted."""
    await make_testville(session)
    await _area(session, "departement", "15", "221500016", "departement-du-cantal",
                "Département du Cantal")  # fmt: skip
    await _area(session, "departement", "84", "228400016", "departement-de-vaucluse",
                "Département de Vaucluse")  # fmt: skip
    for ident in ("221500016", "departement-du-cantal", "15"):
        body = {"long": "2.5005", "lat": "45.0005", "service_code": "proprete",
                "description": "Dépôt sauvage", "jurisdiction_id": ident}  # fmt: skip
        made = await client.post("/open311/v2/requests.json", data=body)
        assert made.status_code == 201, made.text
        sid = made.json()[0]["service_request_id"]
        one = await client.get(
            f"/open311/v2/requests/{sid}.json", params={"jurisdiction_id": ident}
        )
        assert one.status_code == 200, one.text
        assert one.json()[0]["agency_responsible"].startswith("Testville")
        listed = await client.get("/open311/v2/requests.json", params={"jurisdiction_id": ident})
        assert sid in {r["service_request_id"] for r in listed.json()}
    elsewhere = await client.get(
        f"/open311/v2/requests/{sid}.json", params={"jurisdiction_id": "departement-de-vaucluse"}
    )
    assert elsewhere.status_code == 404, elsewhere.text  # another one still does not see it
    assert "introuvable" in elsewhere.json()[0]["description"]


def _subplans(node: dict) -> list[str]:
    own = [node["Subplan Name"]] if "Subplan Name" in node else []
    return own + [name for child in node.get("Plans", []) for name in _subplans(child)]


async def test_the_jurisdiction_lookup_runs_no_subquery_per_authority(session):
    """With France loaded (36,000 authorities) every call naming a jurisdiction took
    0.4-0.6 s: the view computed each authority's SIREN and areas by correlated
    subqueries before filtering. Only `has_service`, for the rows found, may remain."""
    from carto.signalements.open311_format import JURISDICTION_SQL

    plan = (
        await session.execute(
            text(f"EXPLAIN (FORMAT JSON) {JURISDICTION_SQL.text}"),
            {"slug": "toulouse", "code": "243100518"},
        )
    ).scalar_one()
    assert len(_subplans(plan[0]["Plan"])) <= 1, _subplans(plan[0]["Plan"])
