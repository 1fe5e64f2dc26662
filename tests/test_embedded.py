"""The embedded cluster: start, reuse, stop, URL usable by clients, and the lock."""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from carto.embedded import EmbeddedCluster
from tests.conftest import make_tempdir


@pytest.fixture
def cluster_dir():
    path = make_tempdir("carto-embedded-")
    yield path
    EmbeddedCluster(path).stop()
    shutil.rmtree(path, ignore_errors=True)


def test_start_reuse_stop_and_url(cluster_dir):
    cluster = EmbeddedCluster(cluster_dir, fast=True)
    assert cluster.ensure_started() is True
    assert cluster.ensure_started() is False  # reused, not started twice
    url = cluster.url()
    assert url.startswith("postgresql://carto:") and "@127.0.0.1:" in url
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT extname FROM pg_extension WHERE extname='postgis'").fetchone()
        listen = conn.execute("SHOW listen_addresses").fetchone()[0]
        assert listen == "127.0.0.1"
    # password authentication is enforced over TCP
    bad = url.replace(cluster.read_state().password, "wrong")
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(bad)
    assert cluster.stop() is True
    assert not cluster.is_running()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(url, connect_timeout=2)
    assert cluster.stop() is False


def test_concurrent_starts_start_one_server(cluster_dir):
    """Four commands racing on a fresh data dir: one initdb, one server, all succeed."""

    def start() -> bool:
        return EmbeddedCluster(cluster_dir, fast=True).ensure_started()

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: start(), range(4)))
    assert results.count(True) == 1
    cluster = EmbeddedCluster(cluster_dir)
    assert cluster.is_running()
    with psycopg.connect(cluster.url()) as conn:
        backends = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'checkpointer'"
        ).fetchone()[0]
    assert backends == 1


def test_lock_is_held_during_start(cluster_dir):
    cluster = EmbeddedCluster(cluster_dir, fast=True)
    cluster.root.mkdir(parents=True, exist_ok=True)
    other = EmbeddedCluster(cluster_dir, fast=True)
    with cluster.lock:
        other.lock.timeout = 0.5
        with pytest.raises(TimeoutError):
            other.ensure_started()
    assert not cluster.is_running()
