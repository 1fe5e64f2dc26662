"""`carto demo` as a user runs it: serves, is idempotent, and stops its cluster on signals."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time

import httpx
import psycopg
import pytest

from carto.embedded import EmbeddedCluster, free_port
from tests.conftest import make_tempdir


def start_demo(data_dir, port: int) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARTO_")}
    return subprocess.Popen(
        [sys.executable, "-m", "carto", "demo", "--port", str(port), "--data-dir", str(data_dir)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_healthy(proc: subprocess.Popen, port: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"carto demo exited early:\n{proc.stdout.read()}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    proc.kill()
    pytest.fail("carto demo never became healthy")


@pytest.fixture
def data_dir():
    path = make_tempdir("carto-demo-")
    yield path
    EmbeddedCluster(path).stop()
    shutil.rmtree(path, ignore_errors=True)


def count_rows(url: str) -> tuple[int, int, int]:
    with psycopg.connect(url) as conn:
        return tuple(
            conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("commune", "service", "app_user")
        )


@pytest.mark.slow
def test_demo_serves_is_idempotent_and_stops_cluster(data_dir):
    port = free_port()
    proc = start_demo(data_dir, port)
    wait_healthy(proc, port)
    resp = httpx.post(
        f"http://127.0.0.1:{port}/api/v1/auth/token",
        data={"username": "agent.proprete.roubaix@demo.local", "password": "demo"},
    )
    assert resp.status_code == 200
    cluster = EmbeddedCluster(data_dir)
    first = count_rows(cluster.url())
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=60)
    assert "citoyen@demo.local" in out and "agent.voirie.mel@demo.local" in out
    assert not cluster.is_running(), out

    # Second start reuses the data (same rows), then SIGINT stops everything again.
    proc = start_demo(data_dir, port)
    wait_healthy(proc, port)
    assert count_rows(cluster.url()) == first
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=60)
    assert not cluster.is_running(), out
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)


@pytest.mark.slow
def test_demo_leaves_a_cluster_it_did_not_start(data_dir):
    cluster = EmbeddedCluster(data_dir, fast=True)
    assert cluster.ensure_started()
    port = free_port()
    proc = start_demo(data_dir, port)
    wait_healthy(proc, port)
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=60)
    assert cluster.is_running()
