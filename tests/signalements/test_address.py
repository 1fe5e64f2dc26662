"""Every report has an address: reverse-geocoded at intake (built in, or an external
provider with a bounded wait), the citizen's kept, shown on every read, corrected by staff."""

from __future__ import annotations

import asyncio
import time
import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import text

from carto.geocoding.provider import GeocoderUnavailable, Place
from carto.signalements.address import external_lookup
from carto.signalements.schemas import SignalementCreate
from carto.signalements.service import create_report
from tests.conftest import login
from tests.signalements.conftest import LYON_BELLECOUR, ROUBAIX, new_ticket

AGENT = "agent.proprete.roubaix@demo.local"
OTHER_AGENT = "agent.voirie.mel@demo.local"
BASE = "/open311/v2"


async def _no_places(session) -> None:
    """The test's own (rolled-back) view: no BAN address, no named street near anything."""
    await session.execute(text("DELETE FROM geocode_address"))
    await session.execute(text("DELETE FROM geocode_street"))
    await session.execute(text("UPDATE street_segment SET name = NULL WHERE name IS NOT NULL"))


async def _address_at(session, lon: float, lat: float, numero: int, street: str) -> None:
    """One BAN address (and its street) at a point, seen by this test only."""
    await _no_places(session)
    sid = (
        await session.execute(
            text("INSERT INTO geocode_street (street_key, name, postcode, citycode, city, norm,"
                 " city_norm, geom) VALUES ('t', :n, '59100', '59512', 'Roubaix', 't', 'roubaix',"
                 " ST_SetSRID(ST_MakePoint(:x, :y), 4326)) RETURNING id"),
            {"n": street, "x": lon, "y": lat},
        )
    ).scalar_one()  # fmt: skip
    await session.execute(
        text("INSERT INTO geocode_address (ban_id, street_id, numero, postcode, citycode, city,"
             " geom) VALUES ('t_1', :s, :num, '59100', '59512', 'Roubaix',"
             " ST_SetSRID(ST_MakePoint(:x, :y), 4326))"),
        {"s": sid, "num": numero, "x": lon, "y": lat},
    )  # fmt: skip


async def _stored(session, sid: int) -> tuple:
    row = await session.execute(
        text("SELECT address_label, address_type, address_housenumber, address_street,"
             " address_postcode, address_citycode, address_city, address_source,"
             " (SELECT count(*) FROM signalement_event WHERE signalement_id = s.id)"
             " FROM signalement s WHERE id = :i"),
        {"i": sid},
    )  # fmt: skip
    return tuple(row.one())


async def test_nearest_address_within_50_m_on_native_and_open311(client, session):
    # ~20 m north of the report's point
    await _address_at(session, ROUBAIX[0], ROUBAIX[1] + 0.00018, 12, "Rue de l'Épeule")
    body = await new_ticket(client)
    assert body["address"] == {
        "label": "12 Rue de l'Épeule 59100 Roubaix", "type": "housenumber", "housenumber": "12",
        "street": "Rue de l'Épeule", "postcode": "59100", "citycode": "59512", "city": "Roubaix",
        "source": "reverse",
    }  # fmt: skip
    page = (await client.get(f"/api/v1/signalements/{body['id']}")).json()
    assert page["address"]["label"] == "12 Rue de l'Épeule 59100 Roubaix"
    item = (await client.get(f"{BASE}/requests/{body['id']}.json")).json()[0]
    assert (item["address"], item["zipcode"]) == ("12 Rue de l'Épeule 59100 Roubaix", "59100")
    xml = await client.get(f"{BASE}/requests/{body['id']}.xml")
    request = ET.fromstring(xml.text).find("request")  # noqa: S314 (our own answer)
    assert request is not None
    assert request.findtext("address") == "12 Rue de l'Épeule 59100 Roubaix"
    assert request.findtext("zipcode") == "59100"
    layer = await session.execute(
        text("SELECT address, postcode FROM public_layers.signalements WHERE id = :i"),
        {"i": body["id"]},
    )
    assert tuple(layer.one()) == ("12 Rue de l'Épeule 59100 Roubaix", "59100")
    export = await client.get("/exports/signalements.csv")  # the place, never the reporter
    assert export.status_code == 200 and "12 Rue de l'Épeule 59100 Roubaix" in export.text


async def test_no_address_rows_falls_back_to_the_commune_or_arrondissement(client, session):
    await _no_places(session)
    roubaix = await new_ticket(client)
    assert roubaix["address"] == {
        "label": "Roubaix", "type": "municipality", "housenumber": None, "street": None,
        "postcode": "59100", "citycode": "59512", "city": "Roubaix", "source": "reverse",
    }  # fmt: skip
    lyon = await new_ticket(client, *LYON_BELLECOUR, code="espaces-verts")
    assert lyon["address"]["type"] == "municipality"
    assert lyon["address"]["citycode"] == "69382" and lyon["address"]["postcode"] == "69002"
    item = (await client.get(f"{BASE}/requests/{lyon['id']}.json")).json()[0]
    assert (item["address"], item["zipcode"]) == (lyon["address"]["label"], "69002")


async def test_the_citizens_address_is_kept(client, session):
    await _address_at(session, *ROUBAIX, 99, "Rue Voisine")
    web = await new_ticket(client, address="Devant le 3 place de la Liberté")
    assert web["address"]["label"] == "Devant le 3 place de la Liberté"
    assert web["address"]["source"] == "citizen" and web["address"]["street"] is None
    assert web["address"]["postcode"] == "59100"  # the point still gives the postcode
    resp = await client.post(
        f"{BASE}/requests.json",
        data={"lat": ROUBAIX[1], "long": ROUBAIX[0], "service_code": "proprete",
              "description": "x", "address_string": "Angle rue Pierre de Roubaix"},
    )  # fmt: skip
    rid = int(resp.json()[0]["service_request_id"])
    item = (await client.get(f"{BASE}/requests/{rid}.json")).json()[0]
    assert item["address"] == "Angle rue Pierre de Roubaix" and item["zipcode"] == "59100"
    assert (await _stored(session, rid))[7] == "citizen"


async def test_staff_correct_the_address_others_get_403_and_nothing_changes(client, session):
    await _no_places(session)
    sid = (await new_ticket(client))["id"]
    before = await _stored(session, sid)
    other = await login(client, OTHER_AGENT)
    citizen = await login(client, "citoyen@demo.local")
    good = {"label": "12 rue Pierre Motte 59100 Roubaix", "housenumber": "12",
            "street": "Rue Pierre Motte", "postcode": "59100", "citycode": "59512",
            "city": "Roubaix"}  # fmt: skip
    url = f"/api/v1/signalements/{sid}/address"
    for headers in (other, citizen):
        resp = await client.put(url, json=good, headers=headers)
        assert resp.status_code == 403 and "corrigent son adresse" in resp.json()["message"]
    assert (await client.put(url, json=good)).status_code == 401
    agent = await login(client, AGENT)
    for bad in ({"label": " "}, {**good, "postcode": "5910"}, {**good, "label": "a\x00b"},
                {**good, "citycode": "ABCDE"}, {"postcode": "59100"}):  # fmt: skip
        resp = await client.put(url, json=bad, headers=agent)
        assert resp.status_code == 422, bad
    assert await _stored(session, sid) == before
    resp = await client.put(url, json=good, headers=agent)
    assert resp.status_code == 200, resp.text
    page = resp.json()
    assert page["address"] == {**good, "type": "housenumber", "source": "staff"}
    last = page["history"][-1]
    assert last["event"] == "address" and last["note"] == f"Adresse corrigée : {good['label']}"
    assert last["internal_note"] == "Adresse précédente : Roubaix"
    public = (await client.get(f"/api/v1/signalements/{sid}")).json()
    assert public["history"][-1]["label"] == "adresse corrigée"
    assert "internal_note" not in public["history"][-1]
    after = await _stored(session, sid)
    assert after[7] == "staff" and after[8] == before[8] + 1


async def test_the_agent_sees_the_reports_around(client, session):
    await _no_places(session)
    # A spot of Roubaix no other test reports at: the nearest five are these two's.
    spot = (3.1850, 50.6930)
    first = await new_ticket(client, *spot)
    near = await new_ticket(client, spot[0] + 0.0005, spot[1])  # ~35 m east
    agent = await login(client, AGENT)
    resp = await client.get(f"/api/v1/signalements/{first['id']}/around", headers=agent)
    assert resp.status_code == 200
    items = resp.json()
    assert first["id"] not in [i["id"] for i in items]
    mine = next(i for i in items if i["id"] == near["id"])
    assert 30 < mine["distance_m"] < 40 and mine["address"] == "Roubaix"
    assert [i["distance_m"] for i in items] == sorted(i["distance_m"] for i in items)
    other = await login(client, OTHER_AGENT)
    resp = await client.get(f"/api/v1/signalements/{first['id']}/around", headers=other)
    assert resp.status_code == 403


class _Slow:
    name = "slow"

    async def reverse(self, lon, lat, *, session):  # type: ignore[no-untyped-def]
        await asyncio.sleep(5)
        return []


class _Down:
    name = "down"

    async def reverse(self, lon, lat, *, session):  # type: ignore[no-untyped-def]
        raise GeocoderUnavailable("hors service")


class _Fixed:
    name = "fixed"

    async def reverse(self, lon, lat, *, session):  # type: ignore[no-untyped-def]
        return [
            Place(type="street", name="Grande Rue", citycode="59512", city="Roubaix", lon=lon,
                  lat=lat, score=1.0, postcode="59100", street="Grande Rue")
        ]  # fmt: skip


@pytest.mark.parametrize("provider", [_Slow(), _Down()])
async def test_a_slow_or_failing_external_geocoder_falls_back_to_the_builtin(session, provider):
    await _no_places(session)
    data = SignalementCreate(lon=ROUBAIX[0], lat=ROUBAIX[1], service_code="proprete",
                             description="x")  # fmt: skip
    start = time.perf_counter()
    created = await create_report(
        session=session, data=data, commit=False, notify_people=False,
        address_lookup=external_lookup(provider, timeout_s=0.05),
    )  # fmt: skip
    assert time.perf_counter() - start < 1.0
    assert (await _stored(session, created.id))[:2] == ("Roubaix", "municipality")


async def test_an_external_geocoders_answer_is_stored(session):
    await _no_places(session)
    data = SignalementCreate(lon=ROUBAIX[0], lat=ROUBAIX[1], service_code="proprete",
                             description="x")  # fmt: skip
    created = await create_report(
        session=session, data=data, commit=False, notify_people=False,
        address_lookup=external_lookup(_Fixed()),
    )  # fmt: skip
    assert (await _stored(session, created.id))[:8] == (
        "Grande Rue 59100 Roubaix", "street", None, "Grande Rue", "59100", "59512", "Roubaix",
        "reverse",
    )  # fmt: skip


class _Verbose:
    name = "verbose"

    async def reverse(self, lon, lat, *, session):  # type: ignore[no-untyped-def]
        long = "Chemin " + "très " * 80
        return [Place(type="street", name=long, citycode="59512", city="Roubaix", lon=lon,
                      lat=lat, score=1.0, postcode="59100-X", street=long)]  # fmt: skip


async def test_an_oversized_external_answer_is_cut_to_the_columns(session):
    data = SignalementCreate(lon=ROUBAIX[0], lat=ROUBAIX[1], service_code="proprete",
                             description="x")  # fmt: skip
    created = await create_report(
        session=session, data=data, commit=False, notify_people=False,
        address_lookup=external_lookup(_Verbose()),
    )  # fmt: skip
    label, _, _, street, postcode, *_ = await _stored(session, created.id)
    assert len(label) == 300 and len(street) == 300 and postcode == "59100"
