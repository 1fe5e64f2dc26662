"""GeoReport v2 conformance: every endpoint in XML and JSON, with good and bad input.

XML answers are held to the structure of the specification's examples
(wiki.open311.org/GeoReport_v2): root element, repeated child, and each child's
elements in the specification's order."""

from __future__ import annotations

import io
from datetime import datetime
from xml.etree import ElementTree

import pytest
from PIL import Image
from sqlalchemy import text

from carto.signalements.open311_input import parse_when
from tests.signalements.conftest import count

BASE = "/open311/v2"
SERVICE = ["service_code", "service_name", "description", "metadata", "type", "keywords", "group"]
REQUEST = [
    "service_request_id", "status", "status_notes", "service_name", "service_code",
    "description", "agency_responsible", "service_notice", "requested_datetime",
    "updated_datetime", "expected_datetime", "address", "address_id", "zipcode", "lat", "long",
    "media_url",
]  # fmt: skip
CREATED = ["service_request_id", "service_notice", "account_id"]
ENDPOINT = ["specification", "url", "changeset", "type", "formats"]
ROUBAIX = {"lat": "50.6916", "long": "3.1779", "service_code": "proprete"}
LYON = {"lat": "45.7640", "long": "4.8357", "service_code": "espaces-verts"}


def xml(resp, root: str) -> ElementTree.Element:
    assert resp.headers["content-type"] == "text/xml; charset=utf-8", resp.headers
    assert resp.content.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    doc = ElementTree.fromstring(resp.content)  # noqa: S314 (our own answer)
    assert doc.tag == root
    return doc


def items(doc: ElementTree.Element, child: str, fields: list[str]) -> list[dict]:
    """The repeated children, each holding exactly the specification's elements in order."""
    assert all(el.tag == child for el in doc)
    for el in doc:
        assert [f.tag for f in el] == fields
    return [{f.tag: f.text for f in el} for el in doc]


def xml_error(resp, status: int, *words: str) -> None:
    assert resp.status_code == status, resp.text
    (err,) = items(xml(resp, "errors"), "error", ["code", "description"])
    assert err["code"] == str(status)
    for word in words:
        assert word in err["description"]


def json_error(resp, status: int, *words: str) -> None:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"] == "application/json"
    (err,) = resp.json()
    assert set(err) == {"code", "description"} and err["code"] == status
    for word in words:
        assert word in err["description"]


async def test_reads_in_both_formats_say_the_same(client):
    doc = xml(await client.get(f"{BASE}/discovery.xml"), "discovery")
    assert [e.tag for e in doc] == ["changeset", "contact", "key_service", "endpoints",
                                    "jurisdictions"]  # fmt: skip
    (endpoint,) = items(doc.find("endpoints"), "endpoint", ENDPOINT)  # type: ignore[arg-type]
    formats = [f.text for f in doc.findall("endpoints/endpoint/formats/format")]
    assert formats == ["text/xml", "application/json"] and endpoint["url"].endswith(BASE)
    slugs = {j.findtext("jurisdiction_id") for j in doc.findall("jurisdictions/jurisdiction")}
    assert {"lyon", "roubaix", "lyon-metropole"} <= slugs

    as_json = (await client.get(f"{BASE}/services.json")).json()
    services = items(xml(await client.get(f"{BASE}/services.xml"), "services"), "service", SERVICE)
    assert [s["service_code"] for s in services] == [s["service_code"] for s in as_json]
    assert {s["metadata"] for s in services} == {"false"}

    definition = xml(await client.get(f"{BASE}/services/voirie.xml"), "service_definition")
    assert [e.tag for e in definition] == ["service_code", "attributes"]
    assert (
        definition.findtext("service_code") == "voirie" and len(definition.find("attributes")) == 0
    )  # type: ignore[arg-type]

    made = await client.post(f"{BASE}/requests.json", data={**ROUBAIX, "description": "Tag <b>&"})
    rid = made.json()[0]["service_request_id"]
    one_json = (await client.get(f"{BASE}/requests/{rid}.json")).json()
    (one,) = items(xml(await client.get(f"{BASE}/requests/{rid}.xml"), "service_requests"),
                   "request", REQUEST)  # fmt: skip
    assert one["description"] == "Tag <b>&" == one_json[0]["description"]
    # zipcode: the nearest imported address's, else the commune's (Roubaix: 59100)
    assert one["zipcode"] == "59100" == one_json[0]["zipcode"] and one["address_id"] is None
    assert float(one["lat"]) == one_json[0]["lat"]
    resp = await client.get(f"{BASE}/requests.xml", params={"service_code": "proprete"})
    listed = items(xml(resp, "service_requests"), "request", REQUEST)
    assert rid in {r["service_request_id"] for r in listed}


async def test_post_in_xml_without_description_keeps_account_id(client, session):
    resp = await client.post(
        f"{BASE}/requests.xml",
        data={**ROUBAIX, "media_url": "https://example.org/p.jpg", "account_id": "acc-42"},
    )
    assert resp.status_code == 201, resp.text
    (created,) = items(xml(resp, "service_requests"), "request", CREATED)
    assert created["account_id"] == "acc-42" and "Roubaix" in created["service_notice"]
    row = (await session.execute(text(
        "SELECT s.description, r.account_id FROM signalement s"
        " JOIN signalement_reporter r ON r.signalement_id = s.id WHERE s.id = :i"
    ), {"i": int(created["service_request_id"])})).one()  # fmt: skip
    assert tuple(row) == ("Sans description (photo jointe).", "acc-42")


def jpeg_with_exif() -> bytes:
    img = Image.new("RGB", (64, 48), (200, 30, 30))
    exif = Image.Exif()
    exif[0x8825] = {2: (48.0, 51.0, 0.0)}  # GPS latitude: must not survive
    exif[0x010F] = "Appareil-Secret"
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif)
    return out.getvalue()


async def test_multipart_media_is_stored_like_a_web_photo(client, session):
    photo = jpeg_with_exif()
    assert b"Appareil-Secret" in photo
    resp = await client.post(f"{BASE}/requests.json", data=ROUBAIX,
                             files={"media": ("trou.jpg", photo, "image/jpeg")})  # fmt: skip
    assert resp.status_code == 201, resp.text
    rid = resp.json()[0]["service_request_id"]
    (item,) = (await client.get(f"{BASE}/requests/{rid}.json")).json()
    assert item["media_url"].startswith("http://test/media/") and item["description"]
    served = await client.get(item["media_url"].removeprefix("http://test"))
    assert served.status_code == 200 and b"Appareil-Secret" not in served.content
    assert Image.open(io.BytesIO(served.content)).getexif().get(0x8825) is None

    before = await count(session), await count(session, "media_photo")
    bad = await client.post(f"{BASE}/requests.xml", data=ROUBAIX,
                            files={"media": ("x.jpg", b"not an image", "image/jpeg")})  # fmt: skip
    xml_error(bad, 400)
    brussels = {**ROUBAIX, "lat": "50.8467", "long": "4.3525"}  # outside every territory
    lost = await client.post(f"{BASE}/requests.json", data=brussels,
                             files={"media": ("trou.jpg", photo, "image/jpeg")})  # fmt: skip
    json_error(lost, 400, "en dehors des territoires")
    assert (await count(session), await count(session, "media_photo")) == before


@pytest.mark.parametrize(
    ("method", "path", "status", "word"),
    [
        ("GET", "/nothing.xml", 404, "Ressource inconnue"),
        ("GET", "/services.csv", 404, "Format inconnu"),
        ("DELETE", "/requests.xml", 405, "Méthode non permise"),
        ("PUT", "/services/voirie.json", 405, "Méthode non permise"),
        ("GET", "/services/piscine.xml", 404, "piscine"),
        ("GET", "/services.xml?jurisdiction_id=atlantis", 404, "atlantis"),
        ("GET", "/requests.json?jurisdiction_id=atlantis", 404, "atlantis"),
        ("GET", "/requests.xml?start_date=hier", 400, "start_date"),
        ("GET", "/requests.xml?start_date=2026-01-01&end_date=2026-06-01", 400, "90 jours"),
        ("GET", "/requests.json?end_date=2026-01-01&start_date=2026-02-01", 400, "suivre"),
        ("GET", "/requests/abc.xml", 404, "abc"),
        ("POST", "/requests.xml", 400, "lat et long"),
    ],
)
async def test_errors_follow_the_requested_format(client, method, path, status, word):
    resp = await client.request(method, BASE + path)
    if path.split("?")[0].endswith(".xml"):
        xml_error(resp, status, word)
    else:
        json_error(resp, status, word)


async def test_errors_outside_v2_and_http_errors_keep_the_shape(client, settings):
    big = b"x" * (settings.max_body_bytes + 1)
    xml_error(await client.post(f"{BASE}/requests.xml", content=big), 413, "trop volumineux")
    json_error(await client.post(f"{BASE}/requests.json", content=big), 413, "trop volumineux")
    wrong = await client.delete(f"{BASE}/requests.json")
    assert wrong.headers["allow"] == "GET, POST"
    json_error(await client.get("/open311/v3/services.json"), 404, "Ressource inconnue")
    xml_error(await client.get("/open311/discovery.xml"), 404)


async def test_date_only_dates_are_paris_midnight(client):
    assert parse_when("2026-11-05") == datetime.fromisoformat("2026-11-05T00:00:00+01:00")
    assert parse_when("2026-07-05").utcoffset().total_seconds() == 7200  # type: ignore[union-attr]
    made = await client.post(f"{BASE}/requests.json", data={**ROUBAIX, "description": "x"})
    rid = made.json()[0]["service_request_id"]
    today = datetime.now().date().isoformat()
    found = (await client.get(f"{BASE}/requests.json", params={"start_date": today})).json()
    assert rid in {r["service_request_id"] for r in found}
    later = (await client.get(f"{BASE}/requests.json", params={"end_date": today})).json()
    assert rid not in {r["service_request_id"] for r in later}


async def test_jurisdiction_narrows_reads_and_checks_posts(client, session):
    lyon = (await client.post(f"{BASE}/requests.json", data={**LYON, "description": "x"})).json()
    rbx = (await client.post(f"{BASE}/requests.json", data={**ROUBAIX, "description": "x"})).json()
    lyon_id, rbx_id = lyon[0]["service_request_id"], rbx[0]["service_request_id"]
    for ident in ("lyon", "69123", "lyon-metropole", "200046977"):
        got = (await client.get(f"{BASE}/requests.json", params={"jurisdiction_id": ident})).json()
        ids = {r["service_request_id"] for r in got}
        assert lyon_id in ids and rbx_id not in ids, ident
    by_id = await client.get(f"{BASE}/requests/{rbx_id}.json", params={"jurisdiction_id": "lyon"})
    json_error(by_id, 404)
    before = await count(session)
    outside = {**ROUBAIX, "description": "x", "jurisdiction_id": "lyon"}
    wrong = await client.post(f"{BASE}/requests.xml", data=outside)
    xml_error(wrong, 400, "juridiction")
    assert await count(session) == before
    inside = {**LYON, "description": "x", "jurisdiction_id": "lyon"}
    ok = await client.post(f"{BASE}/requests.json", data=inside)
    assert ok.status_code == 201, ok.text


async def test_address_alone_uses_the_geocoder_hook(client, session):
    """`address_string` without lat/long is placed by the wiring's geocoder (the built-in
    one: communes, postcodes, addresses once imported); unknown is the spec's 400, and
    without a geocoder the 400 says lat/long are needed."""
    from carto.signalements.open311_input import Located

    body = {"service_code": "proprete", "description": "x", "address_string": "Roubaix"}
    made = await client.post(f"{BASE}/requests.json", data=body)
    assert made.status_code == 201, made.text
    (item,) = (
        await client.get(f"{BASE}/requests/{made.json()[0]['service_request_id']}.json")
    ).json()
    assert item["address"] == "Roubaix" and item["agency_responsible"].startswith("Roubaix")
    nowhere = {**body, "address_string": "Zzyzx Qwertyville"}
    json_error(await client.post(f"{BASE}/requests.json", data=nowhere), 400, "introuvable")
    app = client._transport.app  # the ASGI app under test

    async def geocoder(address: str, _session) -> Located | None:  # noqa: ANN001
        return Located(lon=3.1779, lat=50.6916, postcode="59100") if "Roubaix" in address else None

    app.state.open311_geocoder = geocoder
    hooked = await client.post(
        f"{BASE}/requests.json", data={**body, "address_string": "1 rue X, Roubaix"}
    )
    assert hooked.status_code == 201, hooked.text
    app.state.open311_geocoder = None
    json_error(await client.post(f"{BASE}/requests.json", data=body), 400, "lat et long")


async def test_an_ambiguous_address_names_the_places_apart():
    """Two communes of the same name (Montreuil, Seine-Saint-Denis and Vendée): the 400
    tells them apart by postcode, not « Montreuil » ou « Montreuil »."""
    from carto.errors import InvalidInput
    from carto.geocoding.provider import Place
    from carto.signalements.open311_input import address_geocoder

    def town(code: str, postcode: str, lon: float, score: float) -> Place:
        return Place(type="municipality", name="Montreuil", citycode=code, city="Montreuil",
                     lon=lon, lat=47.0, score=score, postcode=postcode)  # fmt: skip

    class Twins:
        async def search(self, query, *, session):  # noqa: ANN001, ANN202
            return [town("93048", "93100", 2.44, 0.88), town("85148", "85200", -0.8, 0.85)]

    with pytest.raises(InvalidInput) as refused:
        await address_geocoder(Twins())("Montreuil", None)  # type: ignore[arg-type]
    assert "« Montreuil (93100) » ou « Montreuil (85200) »" in refused.value.message
