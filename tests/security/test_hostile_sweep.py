"""A hostile sweep of what the schemathesis run (tests/test_fuzz_api.py, /openapi.json)
does not cover: tipg's `/ogc` from its own OpenAPI document, and `/open311/v2`, `/tiles`,
`/exports`, `/media` with hostile path and query values. No 500, no answer slower than
2 s. Bounded and derandomized (a fixed seed): the same requests on every run, < 60 s."""

from __future__ import annotations

import time
from urllib.parse import quote

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error

SLOW_S = 2.0
OGC_EXAMPLES = 15  # per operation of /ogc/api (8 operations)
PATH_EXAMPLES = 25  # per URL template below

HOSTILE = [
    "", "0", "-1", "1e400", "nan", "inf", "-inf", "99999999999999999999", "²", "٣", "१",
    "\x00", "a\x00b", "'", "''", '"', "' OR 1=1 --", "1;select pg_sleep(3)", "pg_sleep(3)",
    "../../etc/passwd", "..%2f..%2fetc%2fpasswd", "%00", "%ff", "\ud7ff", "é", "🙂", "\u202e",
    "a" * 300, "1,2", "nan,nan,nan,nan", "1,2,3,4", "-180,-90,180,90", "0,0,0,0", "true",
    "null", "[]", "{}", "<script>", "=HYPERLINK(1)", "2024-02-30", "../..", "\r\nX-Evil: 1",
]  # fmt: skip
LAYERS = ["signalements", "contributions", "communes", "heat", "x"]
VALUE = st.sampled_from(HOSTILE) | st.text(max_size=12)
LAYER = st.sampled_from(LAYERS) | VALUE

TEMPLATES = [
    "/open311/v2/requests/{a}.json",
    "/open311/v2/requests.json?service_request_id={a}&status={b}",
    "/open311/v2/requests.json?start_date={a}&end_date={b}&service_code={c}",
    "/open311/v2/services/{a}.json",
    "/open311/v2/discovery.json?{a}={b}",
    "/tiles/{layer}/{a}/{b}/{c}.mvt",
    "/tiles/{layer}/12/2101/1461.mvt?state={a}&from={b}&to={c}",
    "/tiles/{layer}.json?{a}={b}",
    "/tiles/heatmap/{layer}/{a}/{b}/{c}.png?weight={a}",
    "/tiles/hexagons/{layer}.geojson?bbox={a}&resolution={b}",
    "/exports/{layer}.{a}",
    "/exports/{layer}.csv?bbox={a}&datetime={b}",
    "/exports/{layer}.geojson?{a}={b}",
    "/exports/concertations/{a}.qgs",
    "/exports/concertations/{a}.gpkg",
    "/media/{a}.{b}",
    "/media/{a}/thumb.{b}",
    "/ogc/collections/{layer}/items?bbox={a}&datetime={b}&sortby={c}",
    "/ogc/collections/{layer}/items/{a}",
    "/ogc/collections/{layer}/items?filter={a}&filter-lang={b}&properties={c}",
    "/ogc/collections/{layer}/items?limit={a}&offset={b}&ids={c}",
]


def _check(resp: httpx.Response, took: float, url: str) -> None:
    assert resp.status_code < 500, f"{url}: {resp.status_code} {resp.text[:300]}"
    assert took < SLOW_S, f"{url}: {took:.2f} s"


@pytest.mark.parametrize("template", TEMPLATES)
def test_hostile_paths_and_queries(http: httpx.Client, template: str) -> None:
    @settings(
        max_examples=PATH_EXAMPLES, deadline=None, derandomize=True, database=None,
        suppress_health_check=list(HealthCheck),
    )  # fmt: skip
    @given(layer=LAYER, a=VALUE, b=VALUE, c=VALUE)
    def run(layer: str, a: str, b: str, c: str) -> None:
        parts = {k: quote(v, safe="%") for k, v in (("layer", layer), ("a", a), ("b", b), ("c", c))}
        url = template.format(**parts)
        started = time.monotonic()
        resp = http.get(url)
        _check(resp, time.monotonic() - started, url)

    run()


def test_ogc_api_from_its_own_openapi(served: str) -> None:
    schema = schemathesis.openapi.from_url(f"{served}/ogc/api")
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @settings(
            max_examples=OGC_EXAMPLES, deadline=None, derandomize=True, database=None,
            suppress_health_check=list(HealthCheck),
        )  # fmt: skip
        @given(operation.as_strategy())
        def run(case):  # type: ignore[no-untyped-def]
            started = time.monotonic()
            response = case.call(base_url=f"{served}/ogc", timeout=30)
            took = time.monotonic() - started
            case.validate_response(response, checks=[not_a_server_error])
            assert took < SLOW_S, f"{case.path}: {took:.2f} s"

        try:
            run()
        except Exception as exc:  # noqa: BLE001 - collect every operation's failure
            failures.append(f"{operation.label}: {str(exc)[:600]}")
    assert operations >= 6
    assert not failures, "\n\n".join(failures)
