"""A real addok (the engine behind the national address API) for the external provider's
tests: its own redis-server and addok HTTP server on free loopback ports, configured as
the BAN configures it (addok-france, addok-fr), loaded with the same BAN fixture and the
demo communes and arrondissements as the built-in geocoder searches."""

from __future__ import annotations

import csv
import gzip
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

import httpx
from shapely.geometry import shape

from carto.embedded import free_port

DEMO = Path(__file__).resolve().parents[2] / "carto" / "demo" / "data" / "communes-demo.geojson"
ADDOK = [sys.executable, "-c", "import sys; from addok.bin import main; sys.exit(main())"]

CONFIG = """
REDIS = {{"host": "127.0.0.1", "port": {port}, "unix_socket_path": None,
          "indexes": {{"db": 0}}, "documents": {{"db": 1}}}}
ID_FIELD = "id"
BATCH_WORKERS = 1
LOG_DIR = {log_dir!r}
ATTRIBUTION = "BAN"
LICENCE = "ETALAB-2.0"
QUERY_PROCESSORS_PYPATHS = [
    "addok.helpers.text.check_query_length",
    "addok_france.extract_address",
    "addok_france.clean_query",
    "addok_france.remove_leading_zeros",
]
SEARCH_RESULT_PROCESSORS_PYPATHS = [
    "addok.helpers.results.match_housenumber",
    "addok_france.make_labels",
    "addok.helpers.results.score_by_importance",
    "addok.helpers.results.score_by_autocomplete_distance",
    "addok.helpers.results.score_by_ngram_distance",
    "addok.helpers.results.score_by_geo_distance",
    "addok.helpers.results.adjust_scores",
]
PROCESSORS_PYPATHS = [
    "addok.helpers.text.tokenize",
    "addok.helpers.text.normalize",
    "addok_france.glue_ordinal",
    "addok_france.fold_ordinal",
    "addok_france.flag_housenumber",
    "addok.helpers.text.synonymize",
    "addok_fr.phonemicize",
]
FIELDS = [
    {{"key": "name", "boost": 4, "null": False}},
    {{"key": "street"}},
    {{"key": "postcode",
      "boost": lambda doc: 1.2 if doc.get("type") == "municipality" else 1}},
    {{"key": "city"}},
    {{"key": "housenumbers"}},
    {{"key": "context"}},
]
FILTERS = ["type", "postcode", "citycode"]
"""


def _postcodes() -> dict[str, list[str]]:
    raw = resources.files("carto.geocoding").joinpath("data/codes_postaux.csv.gz").read_bytes()
    out: dict[str, list[str]] = {}
    for row in csv.DictReader(gzip.decompress(raw).decode().splitlines(), delimiter=";"):
        out.setdefault(row["insee"], []).append(row["code_postal"])
    return out


def documents(ban_csv: Path) -> Iterator[dict[str, object]]:
    """addok documents: one per street (its numbers inside) and per commune/arrondissement."""
    postcodes = _postcodes()
    features = json.loads(DEMO.read_text())["features"]
    for feature in features:
        props = feature["properties"]
        codes = postcodes.get(props["insee"]) or sorted(
            pc for f in features if f["properties"].get("parent_insee") == props["insee"]
            for pc in postcodes.get(f["properties"]["insee"], [])
        )  # fmt: skip
        point = shape(feature["geometry"]).representative_point()
        yield {
            "id": props["insee"], "type": "municipality", "name": props["nom"],
            "city": props["nom"], "citycode": props["insee"], "postcode": min(codes),
            "lon": point.x, "lat": point.y, "context": props["insee"][:2],
            "importance": min(1.0, (props.get("population") or 0) / 1_000_000),
        }  # fmt: skip
    streets: dict[str, dict[str, object]] = {}
    with ban_csv.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh, delimiter=";"):
            key = f"{row['code_insee']}|{row['nom_voie']}"
            street = streets.setdefault(key, {
                "id": row["id_fantoir"], "type": "street", "name": row["nom_voie"],
                "postcode": row["code_postal"], "citycode": row["code_insee"],
                "city": row["nom_commune"], "context": row["code_insee"][:2],
                "lon": float(row["lon"]), "lat": float(row["lat"]), "importance": 0.0,
                "housenumbers": {},
            })  # fmt: skip
            number = f"{row['numero']} {row['rep']}".strip()
            street["housenumbers"][number] = {  # type: ignore[index]
                "id": row["id"],
                "lon": float(row["lon"]),
                "lat": float(row["lat"]),
            }
    yield from streets.values()


def _wait(check, what: str, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return
        except (OSError, httpx.HTTPError):
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start")
        time.sleep(0.1)


@contextmanager
def running_addok(ban_csv: Path, workdir: Path) -> Iterator[str]:
    """Start redis + addok loaded with `ban_csv`; yields the base URL; stops both."""
    redis_bin = shutil.which("redis-server") or "/usr/bin/redis-server"
    redis_port, http_port = free_port(), free_port()
    redis = subprocess.Popen(
        [redis_bin, "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(workdir)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    server = None
    try:
        _wait(lambda: _redis_ping(redis_port), "redis-server")
        config = workdir / "addok_test_config.py"
        config.write_text(CONFIG.format(port=redis_port, log_dir=str(workdir)))
        docs = workdir / "docs.ndjson"
        docs.write_text("\n".join(json.dumps(d) for d in documents(ban_csv)) + "\n")
        env = {**os.environ, "ADDOK_CONFIG_MODULE": str(config)}
        for args in (["batch", str(docs)], ["ngrams"]):
            subprocess.run(ADDOK + args, env=env, check=True, capture_output=True, timeout=300)
        server = subprocess.Popen(
            ADDOK + ["serve", "--host", "127.0.0.1", "--port", str(http_port)], env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        base = f"http://127.0.0.1:{http_port}"
        _wait(lambda: httpx.get(f"{base}/search/", params={"q": "lille"}).status_code == 200,
              "addok serve")  # fmt: skip
        yield base
    finally:
        for proc in (server, redis):
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=30)


def _redis_ping(port: int) -> bool:
    import socket

    with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
        sock.sendall(b"PING\r\n")
        return sock.recv(16).startswith(b"+PONG")
