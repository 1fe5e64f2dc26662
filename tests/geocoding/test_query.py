"""Query parsing shared by both providers: house numbers, postcodes, refusals (400)."""

from __future__ import annotations

import pytest

from carto.geocoding.provider import BadGeocodeQuery, Place, parse_query


def test_house_number_rep_and_postcode_are_split_off():
    q = parse_query("12 bis, rue Nationale 59000 Lille")
    assert (q.housenumber, q.rep, q.postcode, q.text) == (12, "bis", "59000", "rue Nationale Lille")
    q = parse_query("3ter avenue Jean Lebas")
    assert (q.housenumber, q.rep, q.text) == (3, "ter", "avenue Jean Lebas")
    q = parse_query("1 avenue du Peuple Belge")  # "a" of avenue is not a rep
    assert (q.housenumber, q.rep, q.text) == (1, None, "avenue du Peuple Belge")


def test_a_postcode_alone_is_a_postcode_not_a_number():
    q = parse_query("69003")
    assert (q.housenumber, q.postcode, q.text) == (None, "69003", "")
    assert parse_query("Lyon 3e").housenumber is None


@pytest.mark.parametrize("bad", ["", "   ", "a" * 201, "rue\x00nationale", "\x1b[31m"])
def test_refusals(bad):
    with pytest.raises(BadGeocodeQuery) as err:
        parse_query(bad)
    assert err.value.status_code == 400 and err.value.message


def test_lon_without_lat_is_refused():
    with pytest.raises(BadGeocodeQuery):
        parse_query("Lille", lon=3.0)


def test_label_follows_the_ban():
    p = Place(type="housenumber", name="12 Rue Nationale", citycode="59350", city="Lille",
              lon=3.05, lat=50.63, score=0.9, postcode="59000", housenumber="12")  # fmt: skip
    assert p.feature()["properties"]["label"] == "12 Rue Nationale 59000 Lille"
    m = Place(type="municipality", name="Roubaix", citycode="59512", city="Roubaix",
              lon=3.17, lat=50.69, score=0.9, postcode="59100")  # fmt: skip
    assert m.feature()["properties"]["label"] == "Roubaix"
    assert m.feature()["properties"]["context"] == "59"
