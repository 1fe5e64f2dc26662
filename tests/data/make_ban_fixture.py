"""Writes tests/data/adresses-fixture.csv: synthetic but plausible BAN rows in the demo communes.

Real CSV layout of adresse.data.gouv.fr (`adresses-<département>.csv`); streets are short
straight lines inside each commune's real contour, numbers along them (odd and even
sides, a few `bis`/`ter`). Deterministic: run it again and the file is the same.
`python tests/data/make_ban_fixture.py`
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import shapely
from pyproj import Transformer
from shapely.geometry import Point, shape

from carto.geocoding.importer import BAN_COLUMNS

HERE = Path(__file__).resolve().parent
COMMUNES = HERE.parents[1] / "carto" / "demo" / "data"

# insee, postcode, commune name as the BAN writes it, streets; a street may be pinned to
# a start point (lon, lat) and a bearing (degrees), else it is placed at random inside.
PLAN: list[tuple[str, str, str, list[str | tuple[str, float, float, float]]]] = [
    ("59350", "59000", "Lille", [
        ("Rue Nationale", 3.0560, 50.6355, 70.0), "Boulevard de la Liberté", "Rue Esquermoise",
        "Place du Général de Gaulle", "Rue de Béthune", "Avenue du Peuple Belge",
        "Rue Léon Gambetta", "Rue de Roubaix", "Rue Saint-Sauveur", "Boulevard Vauban",
    ]),
    ("59512", "59100", "Roubaix", [
        "Grande Rue", "Boulevard du Général Leclerc", "Rue de l'Épeule", "Avenue Jean Lebas",
        "Rue Saint-Georges", "Rue de Lille",
    ]),
    ("59599", "59200", "Tourcoing", ["Rue Nationale", "Boulevard Gambetta", "Rue Saint-Jacques"]),
    ("69381", "69001", "Lyon 1er Arrondissement", [
        "Rue de la République", "Rue Sainte-Catherine", "Place des Terreaux",
    ]),
    ("69383", "69003", "Lyon 3e Arrondissement", [
        "Cours Lafayette", "Rue Paul Bert", "Avenue Félix Faure", "Rue Saint-Maximin",
    ]),
    ("69387", "69007", "Lyon 7e Arrondissement", ["Avenue Jean Jaurès", "Rue de Marseille"]),
    ("69266", "69100", "Villeurbanne", ["Cours Émile Zola", "Avenue Henri Barbusse"]),
    ("92012", "92100", "Boulogne-Billancourt", [
        "Boulevard Jean Jaurès", "Avenue Édouard Vaillant", "Rue de Silly", "Route de la Reine",
    ]),
    ("92040", "92130", "Issy-les-Moulineaux", ["Avenue Victor Cresson", "Rue Ernest Renan"]),
]  # fmt: skip


def _polygons() -> dict[str, shapely.Geometry]:
    data = json.loads((COMMUNES / "communes-demo.geojson").read_text())
    return {f["properties"]["insee"]: shape(f["geometry"]) for f in data["features"]}


def _rows() -> list[list[str]]:
    rng = random.Random(18)
    polygons = _polygons()
    to_l93 = Transformer.from_crs(4326, 2154, always_xy=True)
    rows: list[list[str]] = []
    for insee, postcode, city, streets in PLAN:
        poly = polygons[insee]
        west, south, east, north = poly.bounds
        for code, street in enumerate(streets, start=1):
            if isinstance(street, tuple):
                name, lon0, lat0, bearing = street
            else:
                name, bearing = street, rng.uniform(0, 360)
                while not poly.contains(Point(lon0 := rng.uniform(west, east),
                                              lat0 := rng.uniform(south, north))):  # fmt: skip
                    pass
            fantoir = f"{insee}_{code * 37:04d}"
            for numero in range(1, 25):
                along = (numero // 2) * 12.0  # metres; odd and even sides face each other
                side = 8.0 if numero % 2 else -8.0
                rad = math.radians(bearing)
                dx = along * math.sin(rad) + side * math.cos(rad)
                dy = along * math.cos(rad) - side * math.sin(rad)
                lon = lon0 + dx / (111_320 * math.cos(math.radians(lat0)))
                lat = lat0 + dy / 110_540
                if not poly.contains(Point(lon, lat)):
                    continue
                reps = (
                    [""] + (["bis"] if numero in (3, 12) else []) + (["ter"] if numero == 3 else [])
                )
                for rep in reps:
                    x, y = to_l93.transform(lon, lat)
                    suffix = f"_{rep}" if rep else ""
                    rows.append([
                        f"{fantoir}_{numero:05d}{suffix}", fantoir, str(numero), rep, name,
                        postcode, insee, city, "", "", f"{x:.2f}", f"{y:.2f}", f"{lon:.6f}",
                        f"{lat:.6f}", "entrée", "", "", city.upper(), name.upper(),
                        "commune", "commune", "1", "",
                    ])  # fmt: skip
    return rows


def main() -> None:
    out = HERE / "adresses-fixture.csv"
    with out.open("w", encoding="utf-8", newline="\n") as fh:
        fh.write(";".join(BAN_COLUMNS) + "\n")
        for row in _rows():
            fh.write(";".join(row) + "\n")
    print(f"{out}: {sum(1 for _ in out.open()) - 1} rows")


if __name__ == "__main__":
    main()
