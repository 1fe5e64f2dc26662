"""The `georeport` client from PyPI (an Open311 client nobody here wrote) against the served
app, in JSON and in XML: list services, read a definition, read requests with filters."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import psycopg
import pytest
from georeport import GeoReport

from carto.app import create_app
from carto.settings import Settings
from tests.conftest import serve_in_thread


@pytest.fixture(scope="module")
def endpoint(demo_db: str, settings: Settings) -> Iterator[str]:
    with serve_in_thread(create_app(settings, db_url=demo_db)) as base:
        yield f"{base}/open311/v2"


@pytest.fixture(scope="module")
def newest(demo_db: str) -> tuple[str, str, datetime]:
    """The newest demo report: its id, category and creation time (from the database)."""
    with psycopg.connect(demo_db) as conn:
        row = conn.execute(
            "SELECT id, category_code, created_at FROM signalement ORDER BY created_at DESC LIMIT 1"
        ).fetchone()
    assert row is not None
    return str(row[0]), row[1], row[2]


def as_list(value: object) -> list:
    """xmltodict gives one repeated element as a dict, several as a list."""
    return value if isinstance(value, list) else [value]


@pytest.mark.parametrize("output", ["json", "xml"])
def test_georeport_client_reads_everything(endpoint, newest, output):
    client = GeoReport(endpoint, output_format=output)
    services = as_list(client.get_service_list())
    codes = [s["service_code"] for s in services]
    assert {"voirie", "proprete", "eclairage"} <= set(codes)
    voirie = next(s for s in services if s["service_code"] == "voirie")
    assert voirie["metadata"] in (False, "false") and voirie["type"] == "realtime"
    definition = client.get_service_definition("voirie")
    assert definition["service_code"] == "voirie"

    rid, code, created = newest
    one = client.get_service_request(rid)
    assert one["service_request_id"] == rid and one["service_code"] == code
    assert float(one["lat"]) and float(one["long"])
    day = created.date()
    found = as_list(
        client.get_service_requests(
            service_code=code, start_date=day.isoformat(),
            end_date=(day + timedelta(days=2)).isoformat(), status="open,closed",
        )
    )  # fmt: skip
    assert rid in {r["service_request_id"] for r in found}
    assert {r["service_code"] for r in found} == {code}
    both = as_list(client.get_service_requests(service_request_id=rid))
    assert [r["service_request_id"] for r in both] == [rid]


def test_georeport_client_sees_a_jurisdiction(endpoint, newest):
    lyon = GeoReport(endpoint, jurisdiction="lyon", output_format="xml")
    rows = as_list(lyon.get_service_requests(status="open,closed"))
    assert rows and all("Lyon" in r["agency_responsible"] for r in rows)
