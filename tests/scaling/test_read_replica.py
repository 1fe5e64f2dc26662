"""A real streaming replica of the test cluster serving the app's public reads.

`pg_basebackup -R` of the run's cluster, started on another loopback port; the app
gets it as `CARTO_READ_DATABASE_URL`. Pausing WAL replay on the replica shows where
each read came from: the public page lags, the author's does not.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator

import httpx
import morecantile
import psycopg
import pytest

from carto.app import create_app
from carto.db import with_driver
from carto.embedded import EmbeddedCluster
from carto.runtime import upgrade
from carto.settings import Settings
from tests.conftest import make_tempdir, serve_in_thread

LILLE = (3.0635, 50.6365)
TILE = morecantile.tms.get("WebMercatorQuad").tile(*LILLE, 15)
REPORT = {"lon": LILLE[0], "lat": LILLE[1], "service_code": "voirie", "description": "Trou"}


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


@pytest.fixture(scope="module")
def primary(
    test_cluster: EmbeddedCluster | None, demo_db: str
) -> Iterator[tuple[EmbeddedCluster, str]]:
    """The run's cluster and database; with an external test server, a private cluster."""
    if test_cluster is not None:
        yield test_cluster, demo_db
        return
    from carto.demo.loader import load_demo

    root = make_tempdir("carto-primary-")
    cluster = EmbeddedCluster(root, fast=True)
    cluster.ensure_started()
    try:
        upgrade(cluster.url())
        load_demo(cluster.url())
        yield cluster, cluster.url()
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def replica_url(primary: tuple[EmbeddedCluster, str]) -> Iterator[str]:
    cluster, url = primary
    root = make_tempdir("carto-replica-")
    replica = cluster.create_replica(root / "replica")
    state = replica.read_state()
    assert state is not None
    try:
        yield (
            with_driver(url, "psycopg")
            .set(drivername="postgresql", port=state.port)
            .render_as_string(hide_password=False)
        )
    finally:
        replica.stop()
        shutil.rmtree(root, ignore_errors=True)


def caught_up(primary_url: str, replica_url: str) -> bool:
    with psycopg.connect(primary_url, autocommit=True) as conn:
        lsn = conn.execute("SELECT pg_current_wal_insert_lsn()::text").fetchone()[0]  # type: ignore[index]
    with psycopg.connect(replica_url, autocommit=True) as conn:
        return bool(
            conn.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (lsn,)).fetchone()[0]  # type: ignore[index]
        )


@pytest.fixture(scope="module")
def app_on_replica(settings: Settings, primary: tuple[EmbeddedCluster, str], replica_url: str):  # type: ignore[no-untyped-def]
    _, url = primary
    app = create_app(
        settings.model_copy(
            update={"read_database_url": replica_url, "read_max_lag_s": 30.0,
                    "read_check_s": 0.1, "tile_cache_min_ms": 0.0}
        ),
        db_url=url,
    )  # fmt: skip
    created: list[int] = []
    with serve_in_thread(app) as base:
        wait_for(lambda: app.state.replica.usable, "the replica in use")
        yield app, base, created
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DELETE FROM signalement WHERE id = ANY(%s)", (created,))


@pytest.fixture
def clients(app_on_replica) -> Iterator[tuple[httpx.Client, httpx.Client]]:  # type: ignore[no-untyped-def]
    """A public reader (never writes, so never gets the cookie) and an anonymous author."""
    base = app_on_replica[1]
    with httpx.Client(base_url=base) as public, httpx.Client(base_url=base) as author:
        yield public, author


def test_public_reads_lag_on_the_replica_while_the_author_reads_their_own_write(
    app_on_replica, clients, primary: tuple[EmbeddedCluster, str], replica_url: str
) -> None:
    app, _, created = app_on_replica
    public, author = clients
    _, primary_url = primary
    monitor = app.state.replica
    with psycopg.connect(primary_url, autocommit=True) as conn:
        conn.execute("SELECT pg_current_xact_id()")  # a fresh commit: the lag clock restarts
    wait_for(lambda: caught_up(primary_url, replica_url), "the replica to catch up")
    with psycopg.connect(replica_url, autocommit=True) as replica:
        replica.execute("SELECT pg_wal_replay_pause()")
        try:
            answer = author.post("/api/v1/signalements", json=REPORT)
            assert answer.status_code == 201, answer.text
            sid = answer.json()["id"]
            created.append(sid)
            page, item = f"/api/v1/signalements/{sid}", f"/ogc/collections/signalements/items/{sid}"
            assert "carto_primary" in author.cookies  # the read-your-writes window
            assert author.get(page).json()["state"]  # at once, from the primary
            assert monitor.usable
            assert public.get(page).status_code == 404  # from the paused replica
            assert public.get(item).status_code == 404
            monitor.max_lag_s = 0.3  # too far behind now: everything reads the primary
            wait_for(lambda: not monitor.usable, "the lag to exceed 0.3 s")
            assert public.get(page).status_code == 200
            assert public.get(item).status_code == 200
        finally:
            monitor.max_lag_s = 30.0
            replica.execute("SELECT pg_wal_replay_resume()")
    wait_for(lambda: caught_up(primary_url, replica_url), "the replica to catch up")
    wait_for(lambda: monitor.usable, "the replica in use again")
    assert public.get(page).json()["id"] == sid  # replayed: the replica has it


def test_tiles_read_the_replica_and_fill_the_cache_on_the_primary(
    app_on_replica, primary: tuple[EmbeddedCluster, str], replica_url: str
) -> None:
    _, base, created = app_on_replica
    _, primary_url = primary
    url = f"{base}/tiles/signalements/{TILE.z}/{TILE.x}/{TILE.y}.mvt"
    key = ("signalements", TILE.z, TILE.x, TILE.y)
    cached_sql = "SELECT count(*) FROM tiles.tile_cache WHERE (layer, z, x, y) = (%s, %s, %s, %s)"
    with psycopg.connect(primary_url, autocommit=True) as conn:
        conn.execute("DELETE FROM tiles.tile_cache WHERE (layer, z, x, y) = (%s, %s, %s, %s)", key)
    wait_for(lambda: caught_up(primary_url, replica_url), "the replica to catch up")
    first = httpx.get(url)
    assert first.headers["X-Tile-Source"] != "cache"
    with psycopg.connect(primary_url, autocommit=True) as conn:
        assert conn.execute(cached_sql, key).fetchone()[0] == 1  # type: ignore[index]
    wait_for(lambda: caught_up(primary_url, replica_url), "the cached tile on the replica")
    again = httpx.get(url)
    assert again.headers["X-Tile-Source"] == "cache" and again.content == first.content
    answer = httpx.post(f"{base}/api/v1/signalements", json=REPORT)
    assert answer.status_code == 201
    created.append(answer.json()["id"])
    with psycopg.connect(primary_url, autocommit=True) as conn:
        assert conn.execute(cached_sql, key).fetchone()[0] == 0  # type: ignore[index]
    wait_for(lambda: caught_up(primary_url, replica_url), "the invalidation on the replica")
    after = httpx.get(url)
    assert after.headers["X-Tile-Source"] != "cache" and after.content != first.content
