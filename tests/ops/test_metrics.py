"""/metrics: off without a token, hidden without it, and moving with the service."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from carto.app import create_app
from carto.embedded import free_port
from carto.routing.decision import DEFAULT
from carto.settings import Settings
from carto.worker import make_worker
from tests.conftest import serve_in_thread
from tests.notifications.test_outbox import queue_email

TOKEN = "jeton-de-test-metriques"
TILE = "/tiles/signalements/12/2101/1460.mvt"  # Lyon


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def value(found: dict, name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture(scope="module")
def served(demo_db: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("carto-metrics"), secret_key="m" * 40,
        rate_limits="off", notifications_worker=False, public_url="http://test",
        metrics_token=TOKEN,
    )  # fmt: skip
    with serve_in_thread(create_app(settings, db_url=demo_db)) as base:
        yield base


def scrape(base: str) -> dict:
    resp = httpx.get(f"{base}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert resp.status_code == 200, resp.text
    return samples(resp.text)


async def test_no_metrics_without_a_token_setting(client: httpx.AsyncClient) -> None:
    resp = await client.get("/metrics", headers={"Authorization": "Bearer "})
    assert resp.status_code == 404 and "carto_http" not in resp.text


@pytest.mark.parametrize("auth", [None, "Bearer faux", f"Basic {TOKEN}", f"Bearer {TOKEN}x"])
def test_metrics_answer_only_the_token(served: str, auth: str | None) -> None:
    headers = {"Authorization": auth} if auth else {}
    resp = httpx.get(f"{served}/metrics", headers=headers)
    assert resp.status_code == 404 and "carto_http" not in resp.text
    assert resp.json()["error"] == "not_found"


def test_a_request_moves_its_route_histogram(served: str) -> None:
    route = {"method": "GET", "route": "/tiles/{layer}/{z}/{x}/{y}.mvt"}
    before = scrape(served)
    name = "carto_http_request_duration_seconds"

    def count(found: dict) -> float:
        return sum(v for (n, labels), v in found.items()
                   if n == f"{name}_count" and dict(labels).items() >= route.items())  # fmt: skip

    for _ in range(2):
        assert httpx.get(f"{served}{TILE}").status_code in (200, 204)
    assert httpx.get(f"{served}/ogc/collections/signalements/items?limit=1").status_code == 200
    after = scrape(served)
    assert count(after) - count(before) == 2
    routes = {dict(labels).get("route") for (n, labels) in after if n == f"{name}_count"}
    assert "/ogc/collections/{collectionId}/items" in routes, routes  # tipg's, mounted
    ok = {**route, "status": "200"}
    assert value(after, f"{name}_count", **ok) >= 1
    assert value(after, f"{name}_bucket", **ok, le="+Inf") == value(after, f"{name}_count", **ok)
    tiles = sum(v for (n, _), v in after.items() if n == "carto_tile_cache_requests_total")
    tiles_before = sum(v for (n, _), v in before.items() if n == "carto_tile_cache_requests_total")
    assert tiles - tiles_before == 2
    assert value(after, "carto_db_pool_size", pool="engine") >= 1
    assert value(after, "carto_replica_lag_seconds") == -1  # no replica configured


async def test_outbox_gauges_rise_when_smtp_is_down(
    served: str, committing_session: AsyncSession, outbox: AsyncEngine, settings: Settings
) -> None:
    before = scrape(served)
    assert value(before, "carto_outbox_pending") == 0
    await queue_email(committing_session, "metrics:smtp-down")
    await committing_session.commit()
    down = settings.model_copy(
        update={"smtp_host": "127.0.0.1", "smtp_port": free_port(), "smtp_starttls": False,
                "smtp_from": "Carto <ne-pas-repondre@carto.example>"}
    )  # fmt: skip
    assert await make_worker(outbox, down).drain() == 1  # one attempt, refused
    after = scrape(served)
    assert value(after, "carto_outbox_pending") == 1
    assert value(after, "carto_outbox_messages", channel="email", status="failed") == 1
    assert value(after, "carto_outbox_oldest_pending_seconds") >= 0


def test_routing_decisions_and_refusals_are_counted(served: str) -> None:
    before = scrape(served)
    preview = f"{served}/api/v1/routing/preview"
    ok = httpx.get(preview, params={"lon": 4.8357, "lat": 45.764, "service_code": "proprete"})
    assert ok.status_code == 200, ok.text
    outside = httpx.get(preview, params={"lon": -30.0, "lat": 40.0, "service_code": "proprete"})
    assert outside.status_code == 422
    after = scrape(served)

    def total(name: str, found: dict) -> float:
        return sum(v for (n, _), v in found.items() if n == name)

    decided = "carto_routing_decisions_total"
    assert total(decided, after) - total(decided, before) == 1
    answer = ok.json()
    kind = "default" if answer["rule_status"] == DEFAULT else "confirmed"
    labels = {"level": answer["level"], "kind": kind}
    assert value(after, decided, **labels) - value(before, decided, **labels) == 1
    failed = ("carto_routing_failures_total", (("error", "OutsideTerritory"),))
    assert after.get(failed, 0) - before.get(failed, 0) == 1


def test_the_grafana_dashboard_reads_only_metrics_that_exist(served: str) -> None:
    dashboard = json.loads((Path(__file__).parents[2] / "docs" / "grafana-carto.json").read_text())
    used = {
        name
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"carto_[a-z_]+", target["expr"])
    }
    httpx.get(f"{served}/api/v1/routing/preview", params={"lon": 0, "lat": 0, "service_code": "x"})
    scraped = httpx.get(f"{served}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).text
    types = re.findall(r"^# TYPE (carto_[a-z_]+) ([a-z]+)", scraped, re.M)
    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum")}
    declared = {n + s for n, kind in types for s in ("", *suffixes.get(kind, ()))}
    series = set(re.findall(r"^(carto_[a-z_]+)", scraped, re.M))
    assert len(used) >= 14
    assert used <= declared | series, used - declared - series
