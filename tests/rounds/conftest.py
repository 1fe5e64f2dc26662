"""Round fixtures: the Helsinki extract loaded (committed, once per module) and the
test territory (inside the test's rolled-back session)."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from carto.routing.streets import load_streets
from tests.conftest import login
from tests.rounds.helsinki import HELSINKI_PBF, PASSWORD, Territory, add_territory


@pytest.fixture(scope="module")
def helsinki_streets(demo_db: str) -> Iterator[None]:
    """The extract's streets, committed: the app reads them through its own session."""
    with psycopg.connect(demo_db) as conn:
        load_streets(conn, HELSINKI_PBF, force=True)
        conn.commit()
    yield
    with psycopg.connect(demo_db) as conn:
        conn.execute("TRUNCATE street_segment, street_import")
        conn.commit()


@pytest.fixture
async def territory(session) -> Territory:  # type: ignore[no-untyped-def]
    return await session.run_sync(lambda s: add_territory(s.connection()))


async def staff(client, email: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return await login(client, email, PASSWORD)


async def file_tickets(client, points, code: str = "voirie") -> list[int]:  # type: ignore[no-untyped-def]
    """File one report per point through the public intake API; their ids."""
    ids = []
    for n, (lon, lat) in enumerate(points):
        body = {"lon": lon, "lat": lat, "service_code": code, "description": f"Nid-de-poule {n}"}
        resp = await client.post("/api/v1/signalements", json=body)
        assert resp.status_code == 201, resp.text
        ids.append(resp.json()["id"])
    return ids
